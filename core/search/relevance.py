"""What a similarity means to a person, and how an agent's status weighs in the order.

Similarities are cosines (tfidf) or a blend of cosines (hybrid), or with the re-rank the
model's probability that a hit is the right agent; their scale depends on the backend and on
the re-rank, so each has its own calibration, measured on the labelled dev queries
(`bench/search_quality.py`, see docs/search.md):

- `strong`: at or above it, the best hit was the right agent for >= 70 % of dev queries
  (isotonic fit of P(right | similarity));
- `good`: the same at >= 40 %;
- `no_match`: below it, a hit is "no good match". 99 % of the dev queries whose best hit was
  the right agent scored at or above it, so hiding what falls below loses almost no right answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from core.models import AgentStatus


class Relevance(StrEnum):
    STRONG = "strong"
    GOOD = "good"
    WEAK = "weak"
    NONE = "none"  # below the no-match threshold


@dataclass(frozen=True)
class Calibration:
    no_match: float
    good: float
    strong: float

    def label(self, similarity: float) -> Relevance:
        if similarity >= self.strong:
            return Relevance.STRONG
        if similarity >= self.good:
            return Relevance.GOOD
        if similarity >= self.no_match:
            return Relevance.WEAK
        return Relevance.NONE


# Measured on ../shared/eval/queries_dev.csv (3,000 queries, 199 agents); see docs/search.md.
# First-stage scores (cosines): similar_agents, and search with SEARCH_RERANK off.
CALIBRATIONS = {
    "tfidf": Calibration(no_match=0.10, good=0.18, strong=0.27),
    "sentence-transformers": Calibration(no_match=0.14, good=0.22, strong=0.32),
}
# Re-ranked scores (the re-rank's probability that the hit is the right agent).
RERANKED_CALIBRATIONS = {
    "tfidf": Calibration(no_match=0.12, good=0.36, strong=0.66),
    "sentence-transformers": Calibration(no_match=0.17, good=0.39, strong=0.64),
}

# Agents people can use now; at equal relevance they come first.
USABLE = frozenset({AgentStatus.APPROVED, AgentStatus.PRODUCTION})


def calibration(backend: str, *, reranked: bool = False) -> Calibration:
    table = RERANKED_CALIBRATIONS if reranked else CALIBRATIONS
    return table.get(backend.strip().lower(), table["tfidf"])


def ranking_scores(
    similarities: list[float], statuses: list[AgentStatus], *, boost: float
) -> list[float]:
    """The order key: similarity x (1 + boost) for approved and production agents.

    A multiplicative boost keeps the similarity scale (and `min_similarity`) untouched, puts a
    usable agent first at equal relevance, and lets a clearly better draft still win.
    """
    return [
        similarity * (1.0 + boost) if status in USABLE else similarity
        for similarity, status in zip(similarities, statuses, strict=True)
    ]
