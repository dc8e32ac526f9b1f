"""The learned re-rank: boosted trees over per-field match features re-score the best candidates.

The first stage (the `tfidf` cosine, or the hybrid blend) proposes its CANDIDATES best agents.
Each candidate is described by generic features that name no agent and no word, all computed
from the candidates alone (`field_match`), so their cost does not grow with the registry:
for the first stage score, the cosine with each block of the agent (whole text, name,
description, prompt; words and characters) and the dense cosine (hybrid), its value, its gap to
the best candidate's and log(1 + its rank among the candidates); the share of the query each
field contains (by word weight, words, character n-grams) and its gap to the best candidate's;
the share of the name (words, characters) and of the description (words) the query covers, and
its gap; and the number of words in the query. Trees fitted once on the dev queries
(`bench/search_rerank_fit.py`) turn them into the probability that the candidate is the right
agent: that is the new similarity. The trees are stored as plain arrays
(`rerank_models/*.npz`) and evaluated with numpy here.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.search import field_match

CANDIDATES = 30
RANK_CAP = 300
BELOW = 0.99  # agents outside the candidates: at most this share of the lowest re-ranked score
MODELS = Path(__file__).with_name("rerank_models")
OWN_SHARES = (2, 3, 4)  # field_match slots: name words, name chars, description words

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


def features(
    first_stage: np.ndarray, matches: field_match.Matches, dense: np.ndarray | None = None
) -> np.ndarray:
    """(candidates x features) for the candidates' first-stage scores and field matches.

    Ties share a rank, so no feature tells agents apart by anything but their match.
    """
    scores = [first_stage, *matches.cosines.T] + ([dense] if dense is not None else [])
    columns = []
    for values in scores:
        values = np.asarray(values, dtype=np.float64)
        columns += [values, values - values.max(), np.log1p(rank_among_best(values, values))]
    shares = [*field_match.query_coverage(matches).T, *matches.covered[:, OWN_SHARES].T]
    for values in shares:
        columns += [values, values - values.max()]
    words = np.log1p(matches.query_words.sum())
    columns.append(np.full(len(first_stage), words))
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


def rerank(
    first_stage: np.ndarray, candidates: np.ndarray, x: np.ndarray, model: TreeModel
) -> np.ndarray:
    """Similarities: the model's probability for the candidates (rows of `x`); every other
    agent keeps its first-stage score scaled to at most BELOW x the lowest candidate's (0 stays 0).
    """
    out = np.zeros(len(first_stage), dtype=np.float64)
    if len(candidates) == 0:
        return out
    probability = model.probability(x)
    floor = float(first_stage[candidates[-1]])
    out[:] = np.clip(first_stage, 0.0, None) * (BELOW * probability.min() / floor)
    out[candidates] = probability
    return out
