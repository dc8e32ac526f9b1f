"""The learned re-rank: boosted trees over per-field similarities re-score the best candidates.

The first stage (the `tfidf` cosine, or the hybrid blend) proposes its CANDIDATES best agents.
Each candidate is described by generic features that name no agent and no word: for the first
stage score and each per-field cosine (`Snapshot.block_cosines`, plus the dense cosine for the
hybrid), its value, its gap to the best value any agent reaches, and log(1 + its rank), the rank
being the number of agents scoring strictly higher, counted among the best RANK_CAP (beyond
that, RANK_CAP). Trees fitted once on the dev queries (`bench/search_rerank_fit.py`) turn them
into the probability that the candidate is the right agent: that is the new similarity.
The trees are stored as plain arrays (`rerank_models/*.npz`) and evaluated with numpy here.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

CANDIDATES = 30
RANK_CAP = 300
BELOW = 0.99  # agents outside the candidates: at most this share of the lowest re-ranked score
MODELS = Path(__file__).with_name("rerank_models")

_models: dict[str, TreeModel | None] = {}
_lock = threading.Lock()


def candidates_of(first_stage: np.ndarray) -> np.ndarray:
    """Positions of the CANDIDATES best first-stage scores above 0, best first."""
    eligible = np.flatnonzero(first_stage > 0)
    if len(eligible) > CANDIDATES:
        part = np.argpartition(-first_stage[eligible], CANDIDATES - 1)[:CANDIDATES]
        eligible = eligible[part]
    return eligible[np.argsort(-first_stage[eligible], kind="stable")]


def rank_among_best(values: np.ndarray, picked: np.ndarray) -> np.ndarray:
    """How many of `values` are strictly above each of `picked`, capped at RANK_CAP.

    Only values above the lowest picked one can be above any: most agents are left out
    before anything is sorted.
    """
    positive = values[values > picked.min()] if len(picked) else values[:0]
    if len(positive) > RANK_CAP:
        positive = np.partition(positive, len(positive) - RANK_CAP)[len(positive) - RANK_CAP :]
    best = np.sort(positive)
    above = len(best) - np.searchsorted(best, picked, side="right")
    return np.minimum(above, RANK_CAP)


def features(scores: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """(candidates x 3 * score columns): value, gap to the best, log(1 + rank) per column.

    `scores` is (agents x columns) of non-negative scores, the first stage in column 0.
    """
    picked = scores[candidates]
    # The first stage: whatever scores above a candidate is a candidate too, so its own
    # column's max and ranks need only the candidates.
    columns = [
        picked[:, 0],
        picked[:, 0] - picked[:, 0].max(),
        np.log1p(rank_among_best(picked[:, 0], picked[:, 0])),
    ]
    by_column = np.ascontiguousarray(scores[:, 1:].T)  # one contiguous pass per column
    for j, values in enumerate(by_column, start=1):
        columns += [
            picked[:, j],
            picked[:, j] - values.max(),
            np.log1p(rank_among_best(values, picked[:, j])),
        ]
    return np.stack(columns, axis=1).astype(np.float32)


@dataclass(frozen=True)
class TreeModel:
    """A binary gradient-boosted tree ensemble as flat arrays (every tree's nodes in one list)."""

    feature: np.ndarray  # int32 per node
    threshold: np.ndarray  # float64 per node: x <= threshold goes left
    left: np.ndarray  # int32 per node (global node index)
    right: np.ndarray
    value: np.ndarray  # float64 per node (used at leaves)
    is_leaf: np.ndarray  # bool per node
    roots: np.ndarray  # int32 per tree
    baseline: float
    depth: int  # the deepest leaf's depth: steps needed to reach every leaf
    n_features: int

    @classmethod
    def load(cls, path: Path) -> TreeModel:
        with np.load(path, allow_pickle=False) as data:
            return cls(
                feature=data["feature"].astype(np.int32),
                threshold=data["threshold"].astype(np.float64),
                left=data["left"].astype(np.int32),
                right=data["right"].astype(np.int32),
                value=data["value"].astype(np.float64),
                is_leaf=data["is_leaf"].astype(bool),
                roots=data["roots"].astype(np.int32),
                baseline=float(data["baseline"]),
                depth=int(data["depth"]),
                n_features=int(data["n_features"]),
            )

    def raw(self, x: np.ndarray) -> np.ndarray:
        """The ensemble's log-odds for each row of `x`."""
        x = np.asarray(x, dtype=np.float64)
        rows = np.arange(len(x))[:, None]
        node = np.broadcast_to(self.roots, (len(x), len(self.roots))).copy()
        for _ in range(self.depth):
            left = x[rows, self.feature[node]] <= self.threshold[node]
            step = np.where(left, self.left[node], self.right[node])
            node = np.where(self.is_leaf[node], node, step)
        return self.baseline + self.value[node].sum(axis=1)

    def probability(self, x: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-self.raw(x)))


def model_for(name: str) -> TreeModel | None:
    """The shipped model for `name` ("tfidf" or "hybrid"), or None when none ships."""
    with _lock:
        if name not in _models:
            path = MODELS / f"{name}.npz"
            _models[name] = TreeModel.load(path) if path.exists() else None
        return _models[name]


def rerank(scores: np.ndarray, model: TreeModel) -> np.ndarray:
    """Similarities: the model's probability for the candidates; every other agent keeps its
    first-stage score scaled to at most BELOW x the lowest candidate's (0 stays 0)."""
    first_stage = scores[:, 0]
    candidates = candidates_of(first_stage)
    out = np.zeros(len(first_stage), dtype=np.float64)
    if len(candidates) == 0:
        return out
    probability = model.probability(features(scores, candidates))
    floor = float(first_stage[candidates[-1]])
    out[:] = np.clip(first_stage, 0.0, None) * (BELOW * probability.min() / floor)
    out[candidates] = probability
    return out
