"""Scoring methods for agent search side by side on the labelled dev queries, in one run.

    python bench/search_ablation.py --agents ../shared/eval/agents.csv \
        --queries ../shared/eval/queries_dev.csv [--semantic]

Re-implements the `tfidf` backend's scoring over an exact vocabulary (no hashing, no database)
so that each candidate method is one line of matrix algebra: field weights, BM25 / BM25F
saturation, pseudo-relevance feedback, synonyms learned from the agents' own text
(term-to-term similarity over the agent corpus, and LSA), IDF sharpening; with `--semantic`
also the hybrid fusions (linear, reciprocal rank, z-score, max-normalised). Prints top-1,
recall@5 and MRR@10 per method and saves bench/results/search_ablation.json.
Nothing here is fitted on the queries: every method's parameters are fixed in this file.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
from pathlib import Path

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import HashingVectorizer

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.search.text import content_tokens, stems  # noqa: E402

FIELDS = ("name", "description", "details")
PRODUCTION_FIELDS = (2, 1, 1)  # agent_document: name twice, description, prompt once
_chars = HashingVectorizer(analyzer="char_wb", ngram_range=(3, 5)).build_analyzer()


class Corpus:
    """Per-field term counts of the agents and the queries over one exact vocabulary."""

    def __init__(self, agents: list[dict], queries: list[dict]) -> None:
        self.vocab: dict[str, int] = {}
        self.n = len(agents)
        self.fields = {
            kind: {f: self._counts([a[f] for a in agents], kind) for f in FIELDS} for kind in "wc"
        }
        self.queries = {kind: self._counts([q["query"] for q in queries], kind) for kind in "wc"}
        width = len(self.vocab)
        for kind in "wc":
            for f in FIELDS:
                self.fields[kind][f].resize(self.n, width)
            self.queries[kind].resize(len(queries), width)

    def _counts(self, texts: list[str], kind: str) -> sparse.csr_matrix:
        rows, cols = [], []
        for i, text in enumerate(texts):
            tokens = content_tokens(text)
            terms = stems(tokens) if kind == "w" else _chars(" ".join(tokens))
            for term in terms:
                rows.append(i)
                cols.append(self.vocab.setdefault(f"{kind}:{term}", len(self.vocab)))
        shape = (len(texts), 1 << 22)
        matrix = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=shape)
        matrix.sum_duplicates()
        return matrix

    def docs(self, kind: str, weights: tuple[float, ...]) -> sparse.csr_matrix:
        return sum(self.fields[kind][f] * w for f, w in zip(FIELDS, weights, strict=True)).tocsr()


def l2(matrix: sparse.csr_matrix) -> sparse.csr_matrix:
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(1)).ravel())
    return sparse.diags(1 / np.where(norms == 0, 1, norms)) @ matrix


def idf_of(docs: sparse.csr_matrix) -> np.ndarray:
    df = np.asarray((docs > 0).sum(0)).ravel()
    return np.log((1 + docs.shape[0]) / (1 + df)) + 1


def tfidf_vectors(c: Corpus, kind: str, weights=PRODUCTION_FIELDS, idf_power=1.0):  # noqa: ANN001, ANN201
    """The production weighting: sublinear TF x smoothed IDF, L2-normalised (query, docs)."""
    docs = c.docs(kind, weights).copy()
    idf = idf_of(docs)
    docs.data = 1 + np.log(docs.data)
    query = c.queries[kind].copy()
    query.data = 1 + np.log(query.data)
    return l2(query @ sparse.diags(idf**idf_power)), l2(docs @ sparse.diags(idf)), idf


def cosine(c: Corpus, kind: str, **kw) -> np.ndarray:  # noqa: ANN003
    query, docs, _ = tfidf_vectors(c, kind, **kw)
    return (query @ docs.T).toarray()


def production(c: Corpus, word_weight: float = 0.6, **kw) -> np.ndarray:  # noqa: ANN003
    return word_weight * cosine(c, "w", **kw) + (1 - word_weight) * cosine(c, "c", **kw)


def bm25f(c: Corpus, weights, k1=2.0, b=0.75) -> np.ndarray:  # noqa: ANN001
    """BM25F: per-field length-normalised TF, weighted sum, one saturation; / the best possible."""
    tf = 0
    for f, w in zip(FIELDS, weights, strict=True):
        counts = c.fields["w"][f]
        length = np.asarray(counts.sum(1)).ravel()
        norm = 1 - b + b * length / max(length.mean(), 1e-9)
        tf = tf + w * (sparse.diags(1 / np.maximum(norm, 1e-9)) @ counts)
    tf = tf.tocsr()
    df = np.asarray((c.docs("w", (1, 1, 1)) > 0).sum(0)).ravel()
    idf = np.log(1 + (c.n - df + 0.5) / (df + 0.5))
    tf.data = tf.data * (k1 + 1) / (tf.data + k1)
    query = (c.queries["w"] > 0).astype(float)
    best = np.asarray(query @ (idf * (k1 + 1))).ravel()
    return (query @ (tf @ sparse.diags(idf)).T).toarray() / np.where(best == 0, 1, best)[:, None]


def corpus_synonyms(c: Corpus, alpha=0.1, neighbours=5, min_similarity=0.5) -> np.ndarray:  # noqa: ANN001
    """Query expansion with each word's nearest words by co-occurrence over the agents' texts."""
    query, docs, idf = tfidf_vectors(c, "w")
    raw = c.queries["w"].copy()
    raw.data = 1 + np.log(raw.data)
    df = np.asarray((c.docs("w", (1, 1, 1)) > 0).sum(0)).ravel()
    used = np.flatnonzero(df >= 2)
    terms = l2(docs[:, used].T.tocsr())
    similar = (terms @ terms.T).toarray()
    np.fill_diagonal(similar, 0)
    rows, cols, vals = [], [], []
    for i, near in enumerate(np.argsort(-similar, axis=1)[:, :neighbours]):
        for j in near:
            if similar[i, j] >= min_similarity:
                rows.append(used[i])
                cols.append(used[j])
                vals.append(similar[i, j])
    expand = sparse.csr_matrix((vals, (rows, cols)), shape=(raw.shape[1], raw.shape[1]))
    expanded = l2((raw + alpha * (raw @ expand)) @ sparse.diags(idf))
    return 0.6 * (expanded @ docs.T).toarray() + 0.4 * cosine(c, "c")


def lsa_blend(c: Corpus, dims=100, weight=0.1) -> np.ndarray:  # noqa: ANN001
    """Latent semantic analysis of the agents' word vectors, added to the production score."""
    from sklearn.decomposition import TruncatedSVD

    query, docs, _ = tfidf_vectors(c, "w")
    svd = TruncatedSVD(dims, random_state=0).fit(docs)
    d = svd.transform(docs)
    q = svd.transform(query)
    d /= np.maximum(np.linalg.norm(d, axis=1, keepdims=True), 1e-9)
    q /= np.maximum(np.linalg.norm(q, axis=1, keepdims=True), 1e-9)
    return production(c) + weight * np.clip(q @ d.T, 0, 1)


def feedback(c: Corpus, top=3, beta=0.5) -> np.ndarray:  # noqa: ANN001
    """Rocchio pseudo-relevance feedback: add the best `top` agents' vectors to the query."""
    base = production(c)
    qw, dw, _ = tfidf_vectors(c, "w")
    qc, dc, _ = tfidf_vectors(c, "c")
    docs = sparse.hstack([dw * np.sqrt(0.6), dc * np.sqrt(0.4)]).tocsr()
    agent_similarity = (docs @ docs.T).toarray()
    best = np.argsort(-base, axis=1)[:, :top]
    weights = np.take_along_axis(base, best, axis=1)
    weights /= np.maximum(weights.sum(1, keepdims=True), 1e-9)
    extra = np.einsum("qk,qkn->qn", weights, agent_similarity[best])
    return base + beta * extra


def ranks(scores: np.ndarray) -> np.ndarray:
    return np.argsort(np.argsort(-scores, axis=1, kind="stable"), axis=1) + 1


def metrics(scores: np.ndarray, gold: np.ndarray) -> dict[str, float]:
    top = np.argsort(-scores, axis=1, kind="stable")[:, :10]
    hit = top == gold[:, None]
    rank = np.where(hit.any(1), hit.argmax(1) + 1, 0)
    return {
        "top1": round(float((rank == 1).mean()), 4),
        "recall@5": round(float(((rank >= 1) & (rank <= 5)).mean()), 4),
        "mrr@10": round(float(np.where(rank > 0, 1 / np.maximum(rank, 1), 0).mean()), 4),
    }


def semantic_scores(agents: list[dict], queries: list[dict]) -> np.ndarray:
    from types import SimpleNamespace

    from core.search.semantic import get_semantic_embedder
    from core.search.text import agent_document

    embedder = get_semantic_embedder("sentence-transformers/all-MiniLM-L6-v2")
    texts = [
        agent_document(
            SimpleNamespace(
                name=a["name"],
                description=a["description"],
                tools=[],
                system_prompt=a["details"],
                model="gpt-4o",
            )
        ).semantic
        for a in agents
    ]
    docs = embedder.embed(texts)
    return embedder.embed([q["query"].strip() for q in queries], batch_size=64) @ docs.T


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--agents", required=True, type=Path)
    parser.add_argument("--queries", required=True, type=Path)
    parser.add_argument("--semantic", action="store_true", help="also the MiniLM hybrids")
    args = parser.parse_args()
    agents = list(csv.DictReader(args.agents.open(encoding="utf-8")))
    queries = list(csv.DictReader(args.queries.open(encoding="utf-8")))
    slugs = [a["slug"] for a in agents]
    gold = np.array([slugs.index(q["slug"]) for q in queries])
    c = Corpus(agents, queries)

    methods = {
        "production tfidf (words 0.6 + chars 0.4, name x2)": lambda: production(c),
        "words only": lambda: cosine(c, "w"),
        "field weights name x3": lambda: production(c, weights=(3, 1, 1)),
        "field weights name x3, description x2": lambda: production(c, weights=(3, 2, 1)),
        "field weights name x4, description x2": lambda: production(c, weights=(4, 2, 1)),
        "BM25F (3,2,1), k1 2.0, b 0.75": lambda: bm25f(c, (3, 2, 1)),
        "BM25F (3,2,1) 0.3 + production 0.7 (max-normalised)": lambda: (
            0.3 * _maxnorm(bm25f(c, (3, 2, 1))) + 0.7 * _maxnorm(production(c))
        ),
        "synonyms from agent co-occurrence (5 nearest, >= 0.5, x0.1)": lambda: corpus_synonyms(c),
        "synonyms from agent co-occurrence (5 nearest, >= 0.5, x0.3)": lambda: corpus_synonyms(
            c, alpha=0.3
        ),
        "LSA 100 dims x0.1 added": lambda: lsa_blend(c),
        "pseudo-relevance feedback (top 3, beta 0.5)": lambda: feedback(c),
        "query IDF^1.5": lambda: production(c, idf_power=1.5),
        "words 0.8 + chars 0.2": lambda: production(c, word_weight=0.8),
    }
    results = {name: metrics(method(), gold) for name, method in methods.items()}
    if args.semantic:
        lexical = production(c)
        dense = semantic_scores(agents, queries)
        results["MiniLM alone"] = metrics(dense, gold)
        for w in (0.4, 0.5, 0.6):
            results[f"hybrid linear {w} x MiniLM + {1 - w:.1f} x tfidf (production 0.5)"] = metrics(
                w * np.clip(dense, 0, 1) + (1 - w) * lexical, gold
            )
        for k in (5, 60):
            results[f"hybrid reciprocal-rank fusion k={k}"] = metrics(
                1 / (k + ranks(dense)) + 1 / (k + ranks(lexical)), gold
            )
        z = lambda s: (s - s.mean(1, keepdims=True)) / s.std(1, keepdims=True)  # noqa: E731
        results["hybrid z-score fusion 0.7 / 0.3"] = metrics(
            0.7 * z(dense) + 0.3 * z(lexical), gold
        )
        results["hybrid max-normalised 0.7 / 0.3"] = metrics(
            0.7 * _maxnorm(dense) + 0.3 * _maxnorm(lexical), gold
        )
    width = max(map(len, results))
    print(f"{'method'.ljust(width)}  top-1  recall@5  MRR@10")
    for name, f in results.items():
        print(f"{name.ljust(width)}  {f['top1']:.3f}  {f['recall@5']:.3f}     {f['mrr@10']:.3f}")
    out = ROOT / "bench" / "results" / "search_ablation.json"
    out.write_text(
        json.dumps(
            {
                "queries": str(args.queries),
                "load_average": list(os.getloadavg()),
                "results": results,
            },
            indent=2,
        )
        + "\n"
    )
    return 0


def _maxnorm(scores: np.ndarray) -> np.ndarray:
    return scores / np.maximum(scores.max(1, keepdims=True), 1e-9)


if __name__ == "__main__":
    sys.exit(main())
