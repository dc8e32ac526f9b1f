"""Fit the shipped re-rank model on the dev queries, and measure it on held-out folds first.

    python bench/search_rerank_fit.py --agents ../shared/eval/agents.csv \
        --queries ../shared/eval/queries_dev.csv [--backend sentence-transformers] [--folds 5]

Features come from production code: the agents go into a temporary registry through
`registry.create_agent`, each query's first-stage scores from `core.search.service.first_stage`
and its candidates' features from `core.search.service.candidate_features`, so training sees
exactly what serving computes. Gradient-boosted trees (scikit-learn, seeded) are first cross-validated by
query (held-out figures), then fitted once on every dev query and written as plain arrays to
core/search/rerank_models/<tfidf|hybrid>.npz, with a fixture of features and scikit-learn's
predictions for the evaluator's test. Figures go to bench/results/search_rerank_fit_<backend>.json.
Only the dev split is ever read: pass `../shared/eval/queries_dev.csv`.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from search_quality import load_registry  # noqa: E402

SEED = 13
FIXTURE_QUERIES = 10
TREES = {
    "max_iter": 200,
    "learning_rate": 0.05,
    "max_leaf_nodes": 15,
    "min_samples_leaf": 50,
    "random_state": 0,
}
# Regularisation candidates, chosen by cross-validation on the dev queries (nested for the
# held-out figure: each outer fold's choice is made on its own training queries only).
GRID = [
    TREES,
    TREES | {"max_leaf_nodes": 7, "min_samples_leaf": 100},
    TREES | {"min_samples_leaf": 200, "l2_regularization": 1.0},
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--agents", required=True, type=Path)
    parser.add_argument("--queries", required=True, type=Path)
    parser.add_argument("--backend", choices=["tfidf", "sentence-transformers"], default="tfidf")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--no-write", action="store_true", help="measure only; keep the model")
    parser.add_argument(
        "--nested",
        action="store_true",
        help="choose the trees' regularisation among GRID by nested CV (about 15x the fits)",
    )
    parser.add_argument(
        "--cache",
        type=Path,
        help="an .npz outside the repo: first stage and features saved / reused",
    )
    args = parser.parse_args()
    if args.queries.name != "queries_dev.csv":
        parser.error("the re-rank is fitted on the dev split only (queries_dev.csv)")
    with tempfile.TemporaryDirectory(prefix="ar_rerank_fit_") as folder:
        os.environ["DATABASE_URL"] = f"sqlite:///{folder}/registry.db"
        os.environ["EMBEDDING_BACKEND"] = args.backend
        os.environ["HF_HUB_OFFLINE"] = "1"
        return run(args)


def run(args: argparse.Namespace) -> int:
    from core.config import reset_settings
    from core.db import dispose_engines

    reset_settings()
    agents = list(csv.DictReader(args.agents.open(encoding="utf-8")))
    queries = list(csv.DictReader(args.queries.open(encoding="utf-8")))
    started = time.perf_counter()
    if args.cache and args.cache.exists():
        queries_data, gold = load_cache(args.cache)
    else:
        slug_of = load_registry(agents)
        queries_data, ids = score_all(queries)
        dispose_engines()
        id_of = {slug: agent_id for agent_id, slug in slug_of.items()}
        gold = np.array([int(np.flatnonzero(ids == id_of[q["slug"]])[0]) for q in queries])
        if args.cache:
            save_cache(args.cache, queries_data, gold)
    x, y, owner = training_rows(queries_data, gold)

    figures = {"first stage (no re-rank)": metrics([q[0] for q in queries_data], gold)}
    data = (queries_data, gold, x, y, owner)
    if args.nested:
        held, params = cross_validate(data, args.folds)
    else:
        params = TREES
        label = f"held-out: {args.folds}-fold CV by query, trees {describe(params)}"
        held = {label: mean_of(held_out(data, np.arange(len(gold)), args.folds, params))}
    figures |= held
    model = fit(x, y, params)
    name = "hybrid" if args.backend == "sentence-transformers" else "tfidf"
    arrays = export(model)
    check_evaluator(arrays, model, x)
    figures["in-sample: model fitted on every dev query"] = metrics(
        rerank_all(queries_data, arrays), gold
    )
    size = save_model(name, arrays, model, x, owner, args.no_write)
    seconds = time.perf_counter() - started
    print_figures(args.backend, figures)
    out = ROOT / "bench" / "results" / f"search_rerank_fit_{args.backend}.json"
    out.write_text(
        json.dumps(
            {
                "backend": args.backend,
                "queries": str(args.queries),
                "folds": args.folds,
                "seed": SEED,
                "trees": params,
                "grid": GRID,
                "n_trees": len(model._predictors),
                "n_features": int(x.shape[1]),
                "model_bytes": size,
                "seconds": round(seconds, 1),
                "load_average": list(os.getloadavg()),
                "results": figures,
            },
            indent=2,
        )
        + "\n"
    )
    return 0


def score_all(queries: list[dict]) -> tuple[list[tuple], np.ndarray]:
    """Per query, from the production code: every agent's first-stage score, the re-rank's
    candidates and their features; and the agent id of each position."""
    from core.db import session_scope
    from core.search.indexing import load_fit
    from core.search.semantic import get_semantic_embedder, semantic_enabled
    from core.search.service import _snapshot, candidate_features, first_stage

    texts = [q["query"].strip() for q in queries]
    if semantic_enabled():
        get_semantic_embedder().prime_queries(texts)
    out = []
    with session_scope() as session:
        snapshot = _snapshot(session)
        version = snapshot.version
        fit = load_fit(session, epoch=version.epoch, fit_id=version.fit_id)
        for text in texts:
            query, first, dense = first_stage(session, snapshot, fit, text, limit=10)
            candidates, x = candidate_features(snapshot, query, first, dense)
            out.append((np.asarray(first, dtype=np.float64), candidates, x))
    return out, snapshot.ids


def save_cache(path: Path, queries_data: list[tuple], gold: np.ndarray) -> None:
    np.savez(
        path,
        first=np.stack([q[0] for q in queries_data]),
        candidates=np.concatenate([q[1] for q in queries_data]),
        x=np.concatenate([q[2] for q in queries_data]),
        counts=np.array([len(q[1]) for q in queries_data]),
        gold=gold,
    )


def load_cache(path: Path) -> tuple[list[tuple], np.ndarray]:
    with np.load(path) as data:
        cuts = np.cumsum(data["counts"])[:-1]
        candidates = np.split(data["candidates"], cuts)
        xs = np.split(data["x"], cuts)
        return list(zip(data["first"], candidates, xs, strict=True)), data["gold"]


def training_rows(queries_data: list[tuple], gold: np.ndarray):  # noqa: ANN201
    """Features of every query's candidates, whether each is the right agent, and its query."""
    xs, ys, owners = [], [], []
    for q, (_, candidates, x) in enumerate(queries_data):
        xs.append(x)
        ys.append(candidates == gold[q])
        owners.append(np.full(len(candidates), q))
    return np.concatenate(xs), np.concatenate(ys), np.concatenate(owners)


def fit(x: np.ndarray, y: np.ndarray, params: dict = TREES):  # noqa: ANN201
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(**params).fit(x, y)


def split(queries: np.ndarray, folds: int) -> list[np.ndarray]:
    """`queries` in `folds` seeded parts: every candidate of a query stays in its query's part."""
    return np.array_split(np.random.default_rng(SEED).permutation(queries), folds)


def held_out(data: tuple, queries: np.ndarray, folds: int, params: dict) -> list[dict]:
    """Per fold of `queries`: `params` fitted on the other folds, measured on this one."""
    queries_data, gold, x, y, owner = data
    parts = split(queries, folds)
    per_fold = []
    for k, test in enumerate(parts):
        train = np.isin(owner, np.concatenate([p for j, p in enumerate(parts) if j != k]))
        arrays = export(fit(x[train], y[train], params))
        per_fold.append(metrics(rerank_all([queries_data[q] for q in test], arrays), gold[test]))
    return per_fold


def mean_of(per_fold: list[dict]) -> dict:
    mean = {key: round(float(np.mean([f[key] for f in per_fold])), 4) for key in per_fold[0]}
    return mean | {"mrr@10_per_fold": [f["mrr@10"] for f in per_fold]}


def select(data: tuple, queries: np.ndarray, folds: int) -> tuple[dict, list[dict]]:
    """The GRID entry with the best cross-validated MRR@10 over `queries`, and every entry's."""
    scores = [mean_of(held_out(data, queries, folds, params)) for params in GRID]
    best = int(np.argmax([f["mrr@10"] for f in scores]))
    return GRID[best], scores


def cross_validate(data: tuple, folds: int) -> tuple[dict, dict]:
    """Held-out figures: each GRID entry's k-fold CV, and the nested CV of choosing among them
    (the honest figure for the shipped choice); and the parameters chosen on every dev query."""
    queries = np.arange(len(data[1]))
    params, scores = select(data, queries, folds)
    figures = {
        f"held-out: {folds}-fold CV by query, trees {describe(p)}": f
        for p, f in zip(GRID, scores, strict=True)
    }
    parts = split(queries, folds)
    per_fold, chosen = [], []
    for k, test in enumerate(parts):
        train = np.concatenate([p for j, p in enumerate(parts) if j != k])
        inner, _ = select(data, train, folds - 1)
        chosen.append(describe(inner))
        per_fold += held_out_once(data, train, test, inner)
    label = f"held-out: nested {folds}-fold CV, trees chosen per fold by inner CV"
    figures[label] = mean_of(per_fold) | {"chosen_per_fold": chosen}
    return figures, params


def held_out_once(data: tuple, train: np.ndarray, test: np.ndarray, params: dict) -> list[dict]:
    queries_data, gold, x, y, owner = data
    rows = np.isin(owner, train)
    arrays = export(fit(x[rows], y[rows], params))
    return [metrics(rerank_all([queries_data[q] for q in test], arrays), gold[test])]


def describe(params: dict) -> str:
    keys = ("max_leaf_nodes", "min_samples_leaf", "l2_regularization")
    return ", ".join(f"{key} {params.get(key, 0)}" for key in keys)


def rerank_all(queries_data: list[tuple], arrays: dict) -> list[np.ndarray]:
    from core.search import rerank

    model = rerank.TreeModel(**_model_fields(arrays))
    return [rerank.rerank(first, candidates, x, model) for first, candidates, x in queries_data]


def metrics(scores: list[np.ndarray], gold: np.ndarray) -> dict[str, float]:
    """top-1, recall@5 and MRR@10 of the right agent, ties broken by agent order."""
    ranks = []
    for row, right in zip(scores, gold, strict=True):
        top = np.argsort(-row, kind="stable")[:10]
        hit = np.flatnonzero((top == right) & (row[top] > 0))
        ranks.append(int(hit[0]) + 1 if len(hit) else 0)
    rank = np.array(ranks)
    return {
        "top1": round(float((rank == 1).mean()), 4),
        "recall@5": round(float(((rank >= 1) & (rank <= 5)).mean()), 4),
        "mrr@10": round(float(np.where(rank > 0, 1 / np.maximum(rank, 1), 0).mean()), 4),
    }


def export(model) -> dict[str, np.ndarray]:  # noqa: ANN001
    """scikit-learn's fitted trees as flat arrays (global node indices, one root per tree)."""
    features, thresholds, lefts, rights, values, leaves, roots = [], [], [], [], [], [], []
    depth, offset = 0, 0
    for (tree,) in model._predictors:  # binary classification: one tree per iteration
        nodes = tree.nodes
        if nodes["is_categorical"].any():
            raise SystemExit("categorical splits are not supported by the evaluator")
        roots.append(offset)
        features.append(nodes["feature_idx"])
        thresholds.append(nodes["num_threshold"])
        lefts.append(np.where(nodes["is_leaf"], 0, nodes["left"] + offset))
        rights.append(np.where(nodes["is_leaf"], 0, nodes["right"] + offset))
        values.append(nodes["value"])
        leaves.append(nodes["is_leaf"])
        depth = max(depth, int(nodes["depth"].max()))
        offset += len(nodes)
    return {
        "feature": np.concatenate(features).astype(np.int16),
        "threshold": np.concatenate(thresholds).astype(np.float64),
        "left": np.concatenate(lefts).astype(np.int32),
        "right": np.concatenate(rights).astype(np.int32),
        "value": np.concatenate(values).astype(np.float64),
        "is_leaf": np.concatenate(leaves).astype(bool),
        "roots": np.array(roots, dtype=np.int32),
        "baseline": np.float64(np.ravel(model._baseline_prediction)[0]),
        "depth": np.int32(depth),
        "n_features": np.int32(model.n_features_in_),
    }


def _model_fields(arrays: dict) -> dict:
    return {key: (value.item() if np.ndim(value) == 0 else value) for key, value in arrays.items()}


def check_evaluator(arrays: dict, model, x: np.ndarray) -> None:  # noqa: ANN001
    from core.search import rerank

    ours = rerank.TreeModel(**_model_fields(arrays)).probability(x)
    theirs = model.predict_proba(x)[:, 1]
    worst = float(np.abs(ours - theirs).max())
    print(f"numpy evaluator vs scikit-learn on {len(x)} rows: max |difference| {worst:.2e}")
    if worst > 1e-9:
        raise SystemExit("the numpy evaluator does not reproduce scikit-learn")


def save_model(name, arrays, model, x, owner, dry_run: bool) -> int:  # noqa: ANN001
    from core.search import rerank

    path = rerank.MODELS / f"{name}.npz"
    if dry_run:
        return 0
    path.parent.mkdir(exist_ok=True)
    np.savez_compressed(path, **arrays)
    rows = owner < FIXTURE_QUERIES
    fixture = ROOT / "tests" / "core" / "search" / "data" / f"rerank_{name}_fixture.npz"
    np.savez_compressed(
        fixture,
        x=x[rows],
        probability=model.predict_proba(x[rows])[:, 1],
    )
    print(f"wrote {path} ({path.stat().st_size} bytes) and {fixture}")
    return path.stat().st_size


def print_figures(backend: str, figures: dict) -> None:
    width = max(map(len, figures))
    print(f"{backend}: dev queries")
    print(f"{'method'.ljust(width)}  top-1  recall@5  MRR@10  per fold")
    for name, f in figures.items():
        folds = " ".join(f"{m:.3f}" for m in f.get("mrr@10_per_fold", []))
        print(
            f"{name.ljust(width)}  {f['top1']:.3f}  {f['recall@5']:.3f}     {f['mrr@10']:.3f}"
            f"   {folds}"
        )


if __name__ == "__main__":
    sys.exit(main())
