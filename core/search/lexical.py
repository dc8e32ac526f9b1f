"""The `tfidf` embedder: hashed word stems and character n-grams, IDF fitted on the registry.

A query vector is two blocks in one sparse space: stemmed words (weight 0.6) and character
3-5-grams of the same words (weight 0.4, catches compounds, misspellings and partial words). Each
block is sublinear-TF x IDF and L2-normalised, so the dot product of two vectors is a cosine in
[0, 1]. An agent's stored vector (`tfidf-hash-v2`) holds that pair of blocks for its whole text,
then one more pair per field (name, description, prompt), each weighed with the same whole-text
IDF: a query's columns shifted by `GROUP * k` give its cosine with field k (the re-rank's inputs).
Hashing keeps the fitted state small (document frequencies only) and lets a new agent's
unseen words count before the next refit.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse
from sklearn.feature_extraction import FeatureHasher
from sklearn.feature_extraction.text import HashingVectorizer

from core.search.text import content_tokens, stems

KIND = "tfidf-hash-v2"  # v1 (before issue 13) stored the whole-text blocks only
BLOCK = 1 << 20
DIMENSIONS = 2 * BLOCK  # one (words, chars) pair: a query, and the fit's document frequencies
GROUP = DIMENSIONS
FIELDS = ("name", "description", "prompt")
DOC_DIMENSIONS = GROUP * (1 + len(FIELDS))  # whole text, then each field
WORD_WEIGHT = 0.6
COUNTS_CACHE_SIZE = 20_000

_counts_cache: dict[str, tuple[np.ndarray, np.ndarray]] = {}

_chars = HashingVectorizer(
    analyzer="char_wb",
    ngram_range=(3, 5),
    n_features=BLOCK,
    alternate_sign=False,
    norm=None,
    lowercase=False,
)
_char_ngrams = _chars.build_analyzer()
_hasher = FeatureHasher(n_features=BLOCK, input_type="string", alternate_sign=False)

try:  # FeatureHasher's compiled core: skips per-call validation (~5 ms to ~1 ms a query)
    from sklearn.feature_extraction._hashing_fast import transform as _hash_terms
except ImportError:  # pragma: no cover - a scikit-learn without it; same output, slower
    _hash_terms = None


def term_counts(texts: list[str], *, memoise: bool = True) -> sparse.csr_matrix:
    """Raw term counts, one row per text (words in the first block, characters in the second).

    Agent texts are memoised: a refit re-reads every agent, and most texts did not change.
    """
    if not memoise:
        return _count(texts)
    missing = list(dict.fromkeys(t for t in texts if t not in _counts_cache))
    if missing:
        if len(_counts_cache) + len(missing) > COUNTS_CACHE_SIZE:
            _counts_cache.clear()
        computed = _count(missing)
        for i, text in enumerate(missing):
            start, end = computed.indptr[i], computed.indptr[i + 1]
            _counts_cache[text] = (computed.indices[start:end], computed.data[start:end])
    return stack([_counts_cache[t] for t in texts], width=DIMENSIONS)


def _count(texts: list[str]) -> sparse.csr_matrix:
    tokens = [content_tokens(text) for text in texts]
    words = _hash([stems(t) for t in tokens])
    chars = _hash([_char_ngrams(" ".join(t)) for t in tokens])
    counts = sparse.hstack([words, chars], format="csr", dtype=np.float32)
    counts.sort_indices()
    return counts


def _hash(terms: list[list[str]]) -> sparse.csr_matrix:
    """Hashed term counts, exactly as scikit-learn's FeatureHasher computes them (tested)."""
    if _hash_terms is None:
        return _hasher.transform(terms)
    indices, indptr, values = _hash_terms(
        [((term, 1) for term in row) for row in terms], BLOCK, np.float32, False, 0
    )
    matrix = sparse.csr_matrix((values, indices, indptr), shape=(len(terms), BLOCK))
    matrix.sum_duplicates()
    return matrix


@dataclass(frozen=True)
class LexicalFit:
    """Document frequencies over the registry's texts at one point in time."""

    n_docs: int
    df: np.ndarray  # documents containing each hashed feature
    kind: str = KIND  # the stored vectors' layout; another kind's vectors must be rebuilt
    idf: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        # Smoothed IDF as in scikit-learn; a feature no document has gets the highest weight.
        idf = np.full(DIMENSIONS, np.log(1.0 + self.n_docs) + 1.0, dtype=np.float32)
        seen = np.flatnonzero(self.df)
        idf[seen] = np.log((1.0 + self.n_docs) / (1.0 + self.df[seen])) + 1.0
        object.__setattr__(self, "idf", idf)

    @classmethod
    def fit(cls, counts: sparse.csr_matrix) -> LexicalFit:
        df = np.bincount(counts.indices, minlength=DIMENSIONS).astype(np.int32)
        return cls(n_docs=counts.shape[0], df=df)

    def to_bytes(self) -> bytes:
        nonzero = np.flatnonzero(self.df).astype(np.int32)
        buffer = io.BytesIO()
        np.savez_compressed(
            buffer,
            n_docs=np.int64(self.n_docs),
            index=nonzero,
            df=self.df[nonzero].astype(np.int32),
        )
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, blob: bytes, kind: str = KIND) -> LexicalFit:
        with np.load(io.BytesIO(blob)) as data:
            df = np.zeros(DIMENSIONS, dtype=np.int32)
            df[data["index"]] = data["df"]
            return cls(n_docs=int(data["n_docs"]), df=df, kind=kind)

    def embed(self, texts: list[str]) -> sparse.csr_matrix:
        """Query vectors: the (words, chars) pair of blocks."""
        return self.weigh(term_counts(texts, memoise=False))

    def weigh(self, counts: sparse.csr_matrix) -> sparse.csr_matrix:
        """Counts to unit vectors: sublinear TF x IDF, each block normalised then weighted.

        Works on any number of (words, chars) groups: the IDF of column j is that of j % GROUP.
        """
        vectors = counts.astype(np.float32, copy=True)
        vectors.data = (1.0 + np.log(vectors.data)) * self.idf[vectors.indices % GROUP]
        n = vectors.shape[0]
        blocks = -(-vectors.shape[1] // BLOCK)
        rows = np.repeat(np.arange(n), np.diff(vectors.indptr))
        block = rows * blocks + vectors.indices // BLOCK
        squares = vectors.data.astype(np.float64) ** 2
        norm = np.sqrt(np.bincount(block, weights=squares, minlength=n * blocks))
        in_words = (vectors.indices // BLOCK) % 2 == 0
        weight = np.where(in_words, np.sqrt(WORD_WEIGHT), np.sqrt(1.0 - WORD_WEIGHT))
        vectors.data = (vectors.data * weight / np.maximum(norm[block], 1e-12)).astype(np.float32)
        return vectors


def document_counts(whole: list[str], fields: list[tuple[str, ...]]) -> sparse.csr_matrix:
    """Agents' counts in the stored layout: the whole text's pair of blocks, then each field's."""
    parts = [term_counts(whole)]
    for k in range(len(FIELDS)):
        parts.append(term_counts([f[k] for f in fields]))
    counts = sparse.hstack(parts, format="csr", dtype=np.float32)
    counts.sort_indices()
    return counts


def pack(vector: sparse.csr_matrix) -> bytes:
    """One sparse row as bytes: int32 indices then float32 values."""
    return vector.indices.astype("<i4").tobytes() + vector.data.astype("<f4").tobytes()


def unpack(blob: bytes) -> tuple[np.ndarray, np.ndarray]:
    n = len(blob) // 8
    return (
        np.frombuffer(blob, dtype="<i4", count=n),
        np.frombuffer(blob, dtype="<f4", count=n, offset=4 * n),
    )


def stack(
    rows: list[tuple[np.ndarray, np.ndarray]], width: int = DOC_DIMENSIONS
) -> sparse.csr_matrix:
    """Unpacked rows to one CSR matrix."""
    lengths = np.fromiter((len(index) for index, _ in rows), dtype=np.int64, count=len(rows))
    indptr = np.concatenate([[0], np.cumsum(lengths)])
    indices = np.concatenate([index for index, _ in rows]) if rows else np.zeros(0, np.int32)
    data = np.concatenate([values for _, values in rows]) if rows else np.zeros(0, np.float32)
    return sparse.csr_matrix((data, indices, indptr), shape=(len(rows), width))
