"""A learned re-rank of the top candidates over per-field scores, cross-validated on the dev queries.

    python bench/search_rerank.py --agents ../shared/eval/agents.csv \
        --queries ../shared/eval/queries_dev.csv [--semantic] [--folds 2] [--embeddings-cache F]

The production first stage (the `tfidf` score, or the 0.5 / 0.5 hybrid with `--semantic`)
proposes its best CANDIDATES agents per query; each candidate gets generic, query-independent
features: the cosine of the query with the whole agent text and with each field alone (name,
description, prompt; word and character blocks, as in `bench/search_ablation.py`), plus with
`--semantic` the MiniLM cosine. Each feature enters as its value, its gap to the best value any
agent reaches for this query, and log(1 + its rank among all agents). Models fitted on the
queries of k - 1 folds rank the candidates of the held-out fold; every figure below is from
queries the model never saw (split by query, seeded). No feature names an agent or a word.

Prints top-1, recall@5 and MRR@10 per method (mean over the folds, and the spread of MRR@10
between folds) and saves bench/results/search_rerank_<backend>_<folds>fold.json.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
from scipy import sparse
from scipy.optimize import minimize

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from search_ablation import Corpus, idf_of, l2, metrics, semantic_scores  # noqa: E402

CANDIDATES = 30
SEED = 13
# (name, field weights over (name, description, details)); IDF always from the whole text.
FIELD_VIEWS = {
    "all": (2, 1, 1),  # the production document: name twice, description, prompt
    "name": (1, 0, 0),
    "description": (0, 1, 0),
    "prompt": (0, 0, 1),
}


def field_cosines(c: Corpus) -> dict[str, np.ndarray]:
    """Query x agent cosine per block (words, chars) and per view of the agent's fields."""
    scores = {}
    for kind in "wc":
        whole = c.docs(kind, FIELD_VIEWS["all"])
        idf = sparse.diags(idf_of(whole))
        query = c.queries[kind].copy()
        query.data = 1 + np.log(query.data)
        query = l2(query @ idf)
        for view, weights in FIELD_VIEWS.items():
            docs = c.docs(kind, weights).copy()
            docs.data = 1 + np.log(docs.data)
            scores[f"{kind}:{view}"] = (query @ l2(docs @ idf).T).toarray()
    return scores


def candidate_features(
    scores: dict[str, np.ndarray], first_stage: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(queries x CANDIDATES x features) for the first stage's best candidates, and their ids."""
    candidates = np.argsort(-first_stage, axis=1, kind="stable")[:, :CANDIDATES]
    columns = []
    for values in [first_stage, *scores.values()]:
        picked = np.take_along_axis(values, candidates, axis=1)
        rank = np.argsort(np.argsort(-values, axis=1, kind="stable"), axis=1)
        columns += [
            picked,
            picked - values.max(1, keepdims=True),
            np.log1p(np.take_along_axis(rank, candidates, axis=1)),
        ]
    return np.stack(columns, axis=-1).astype(np.float32), candidates


def logistic(train_x, train_y, test_x):  # noqa: ANN001, ANN201
    """Pointwise logistic regression: is this candidate the right agent."""
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=1.0, max_iter=3000)
    model.fit(train_x.reshape(-1, train_x.shape[-1]), train_y.ravel())
    return model.decision_function(test_x.reshape(-1, test_x.shape[-1])).reshape(test_x.shape[:2])


def listwise(train_x, train_y, test_x, l2_penalty=1e-3):  # noqa: ANN001, ANN201
    """Linear scores trained with a softmax over each query's candidates (listwise)."""
    has_gold = train_y.any(1)
    x, right = train_x[has_gold], train_y[has_gold].argmax(1)
    flat = x.reshape(-1, x.shape[-1])
    mean, scale = flat.mean(0), flat.std(0) + 1e-9
    z = (x - mean) / scale
    rows = np.arange(len(right))

    def loss(w):  # noqa: ANN001, ANN202
        s = z @ w
        s -= s.max(1, keepdims=True)
        p = np.exp(s)
        p /= p.sum(1, keepdims=True)
        value = -np.log(p[rows, right] + 1e-12).mean() + l2_penalty * w @ w
        grad = -(z[rows, right] - (p[..., None] * z).sum(1)).mean(0) + 2 * l2_penalty * w
        return value, grad

    w = minimize(loss, np.zeros(z.shape[-1]), jac=True, method="L-BFGS-B").x
    return ((test_x - mean) / scale) @ w


def boosted_trees(train_x, train_y, test_x):  # noqa: ANN001, ANN201
    """Gradient-boosted trees (scikit-learn's histogram GBM), pointwise."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    model = HistGradientBoostingClassifier(
        max_iter=200, learning_rate=0.05, max_leaf_nodes=15, min_samples_leaf=50, random_state=0
    )
    model.fit(train_x.reshape(-1, train_x.shape[-1]), train_y.ravel())
    flat = test_x.reshape(-1, test_x.shape[-1])
    return model.predict_proba(flat)[:, 1].reshape(test_x.shape[:2])


def cross_validate(model, x, candidates, gold, n_agents, folds):  # noqa: ANN001, ANN201
    """Mean figures over the held-out folds, and the MRR@10 of each fold."""
    order = np.random.default_rng(SEED).permutation(len(gold))
    parts = np.array_split(order, folds)
    labels = candidates == gold[:, None]
    per_fold = []
    for k, test in enumerate(parts):
        train = np.concatenate([p for j, p in enumerate(parts) if j != k])
        predicted = model(x[train], labels[train], x[test])
        scores = np.full((len(test), n_agents), -np.inf)
        np.put_along_axis(scores, candidates[test], predicted, axis=1)
        per_fold.append(metrics(scores, gold[test]))
    mean = {key: round(float(np.mean([f[key] for f in per_fold])), 4) for key in per_fold[0]}
    return mean | {"mrr@10_per_fold": [f["mrr@10"] for f in per_fold]}


def dense_scores(agents, queries, cache: Path | None) -> np.ndarray:  # noqa: ANN001
    """MiniLM query x agent cosines (cached to `cache` when given: encoding is CPU-heavy)."""
    if cache and cache.exists():
        return np.load(cache)
    dense = semantic_scores(agents, queries)
    if cache:
        np.save(cache, dense)
    return dense


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--agents", required=True, type=Path)
    parser.add_argument("--queries", required=True, type=Path)
    parser.add_argument("--semantic", action="store_true", help="first stage = MiniLM hybrid")
    parser.add_argument("--folds", type=int, default=2)
    parser.add_argument("--embeddings-cache", type=Path, help="a .npy file outside the repo")
    args = parser.parse_args()
    agents = list(csv.DictReader(args.agents.open(encoding="utf-8")))
    queries = list(csv.DictReader(args.queries.open(encoding="utf-8")))
    slugs = [a["slug"] for a in agents]
    gold = np.array([slugs.index(q["slug"]) for q in queries])
    started = time.perf_counter()

    scores = field_cosines(Corpus(agents, queries))
    lexical = 0.6 * scores["w:all"] + 0.4 * scores["c:all"]  # the production tfidf score
    first_stage, backend = lexical, "tfidf"
    if args.semantic:
        dense = np.clip(dense_scores(agents, queries, args.embeddings_cache), 0, 1)
        first_stage, backend = 0.5 * dense + 0.5 * lexical, "sentence-transformers"
        scores = {"dense": dense} | scores
    whole_text = {k: v for k, v in scores.items() if k in ("dense", "w:all", "c:all")}

    results = {"first stage (production score), no re-rank": metrics(first_stage, gold)}
    x_whole, candidates = candidate_features(whole_text, first_stage)
    x_fields, _ = candidate_features(scores, first_stage)
    for name, x in (("whole-text scores", x_whole), ("per-field scores", x_fields)):
        for label, model in (
            ("logistic", logistic),
            ("listwise linear", listwise),
            ("boosted trees", boosted_trees),
        ):
            results[f"re-rank top {CANDIDATES}, {name}, {label}"] = cross_validate(
                model, x, candidates, gold, len(agents), args.folds
            )
    seconds = time.perf_counter() - started

    width = max(map(len, results))
    print(f"{backend}, {len(queries)} queries, {args.folds}-fold cross-validation by query")
    print(f"{'method'.ljust(width)}  top-1  recall@5  MRR@10  MRR@10 per fold")
    for name, f in results.items():
        folds = " ".join(f"{m:.3f}" for m in f.get("mrr@10_per_fold", []))
        print(
            f"{name.ljust(width)}  {f['top1']:.3f}  {f['recall@5']:.3f}     {f['mrr@10']:.3f}"
            f"   {folds}"
        )
    out = ROOT / "bench" / "results" / f"search_rerank_{backend}_{args.folds}fold.json"
    out.write_text(
        json.dumps(
            {
                "backend": backend,
                "queries": str(args.queries),
                "folds": args.folds,
                "candidates": CANDIDATES,
                "seconds": round(seconds, 1),
                "load_average": list(os.getloadavg()),
                "results": results,
            },
            indent=2,
        )
        + "\n"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
