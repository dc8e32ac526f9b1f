"""Searching: `search_agents` by text and `similar_agents` to one agent, best first."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from core.config import get_settings
from core.errors import DomainError, NotFoundError, ValidationError
from core.models import Agent, AgentStatus
from core.search import field_match, lexical, pgvector_index, rerank
from core.search.index_state import read_version
from core.search.indexing import load_fit
from core.search.memory_index import Snapshot, memory_index_for
from core.search.relevance import Calibration, Relevance, calibration, ranking_scores
from core.search.semantic import get_semantic_embedder, semantic_enabled
from core.search.text import agent_document

MAX_QUERY_CHARS = 2000
MAX_LIMIT = 100
# With pgvector, the HNSW index proposes this many semantic candidates per result wanted.
HNSW_CANDIDATES_PER_RESULT = 10
MIN_HNSW_CANDIDATES = 100


class SearchIndexMissingError(DomainError):
    """Agents exist but were never indexed (e.g. a database from before search existed)."""


@dataclass(frozen=True)
class SearchHit:
    id: int
    name: str
    status: str
    similarity: float
    relevance: Relevance = Relevance.WEAK

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "name": self.name,
            "similarity": round(self.similarity, 4),
            "status": self.status,
            "relevance": self.relevance.value,
        }


def no_match_threshold() -> float:
    """The similarity below which a hit is "no good match" for the configured backend."""
    reranked = _shipped_model() is not None
    return calibration(get_settings().embedding_backend, reranked=reranked).no_match


def search_agents(
    session: Session,
    *,
    query: str,
    limit: int = 10,
    min_similarity: float = 0.0,
    statuses: Iterable[AgentStatus | str] | None = None,
) -> list[SearchHit]:
    """Agents whose text best matches `query`, similarity in [0, 1], best first.

    With SEARCH_RERANK (default on) the best candidates are re-scored by the learned re-rank
    (`core.search.rerank`); the similarity is then its probability of being the right agent.
    At equal relevance approved and production agents come first (SEARCH_STATUS_BOOST);
    each hit carries a relevance label calibrated for the backend (`core.search.relevance`).
    """
    text = _clean_query(query)
    _check_limit(limit)
    _check_threshold(min_similarity)
    wanted = _clean_statuses(statuses)
    snapshot = _snapshot(session)
    if snapshot is None:
        return []
    fit = load_fit(session, epoch=snapshot.version.epoch, fit_id=snapshot.version.fit_id)
    model = _rerank_model(fit)
    query, first, dense = first_stage(session, snapshot, fit, text, limit=limit)
    backend = get_settings().embedding_backend
    if model is None:
        scores, labels = first, calibration(backend)
    else:
        candidates, x = candidate_features(snapshot, query, first, dense)
        scores = rerank.rerank(first, candidates, x, model)
        labels = calibration(backend, reranked=True)
    return _hits(session, snapshot, scores, limit, min_similarity, wanted, None, labels)


def first_stage(
    session: Session, snapshot: Snapshot, fit: lexical.LexicalFit, text: str, *, limit: int
) -> tuple[sparse.csr_matrix, np.ndarray, np.ndarray | None]:
    """The query vector, every agent's first-stage score (the lexical cosine, or the hybrid
    blend) and (hybrid) every agent's dense cosine."""
    query = fit.embed([text])
    first = snapshot.lexical_scores(query)
    if not semantic_enabled():
        return query, first, None
    vector = get_semantic_embedder().embed_query(text)
    dense = _semantic(session, snapshot, first, vector, limit=limit)
    weight = get_settings().search_semantic_weight
    return query, weight * dense + (1.0 - weight) * first, dense


def candidate_features(
    snapshot: Snapshot, query: sparse.csr_matrix, first: np.ndarray, dense: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """The re-rank's candidates and their features, read from the candidates' rows only."""
    candidates = rerank.candidates_of(first)
    if len(candidates) == 0:  # nothing in common with the query: nothing to re-rank
        return candidates, np.zeros((0, 0), dtype=np.float32)
    matches = field_match.match(snapshot.lexical_rows[candidates], query)
    picked_dense = dense[candidates] if dense is not None else None
    return candidates, rerank.features(first[candidates], matches, picked_dense)


def _shipped_model() -> rerank.TreeModel | None:
    """The re-rank model for the configured backend, unless SEARCH_RERANK is off."""
    if not get_settings().search_rerank:
        return None
    return rerank.model_for("hybrid" if semantic_enabled() else "tfidf")


def _rerank_model(fit: lexical.LexicalFit) -> rerank.TreeModel | None:
    """The shipped re-rank model, unless SEARCH_RERANK is off or the index predates it."""
    return _shipped_model() if fit.kind == lexical.KIND else None


def similar_agents(session: Session, *, agent_id: int, limit: int = 5) -> list[SearchHit]:
    """The agents most like `agent_id` (itself excluded), best first."""
    _check_limit(limit)
    agent = session.get(Agent, agent_id)
    if agent is None:
        raise NotFoundError(f"agent {agent_id} does not exist; see `agents list` for ids")
    snapshot = _snapshot(session)
    if snapshot is None:
        return []
    position = snapshot.position.get(agent_id)
    if position is not None:
        scores = snapshot.lexical_scores(snapshot.lexical_rows[position])
    else:  # not indexed yet: embed its current text
        fit = load_fit(session, epoch=snapshot.version.epoch, fit_id=snapshot.version.fit_id)
        scores = snapshot.lexical_scores(fit.embed([agent_document(agent).lexical]))
    if semantic_enabled():
        model = get_settings().embedding_model
        if (
            position is not None
            and snapshot.semantic is not None
            and snapshot.semantic_model == model
        ):
            vector = snapshot.semantic[position]
        else:
            vector = get_semantic_embedder().embed([agent_document(agent).semantic])[0]
        scores = _blend(session, snapshot, scores, vector, limit=limit + 1)
    labels = calibration(get_settings().embedding_backend)
    return _hits(session, snapshot, scores, limit, 0.0, None, agent_id, labels)


def _snapshot(session: Session) -> Snapshot | None:
    version = read_version(session)
    if version is None or version.fit_id is None:
        if session.scalar(select(exists().where(Agent.id.is_not(None)))):
            raise SearchIndexMissingError(
                "agents exist but the search index was never built; "
                "run `python -m core search reindex`"
            )
        return None
    return memory_index_for(session).current(session, version)


def _blend(
    session: Session, snapshot: Snapshot, lexical: np.ndarray, vector: np.ndarray, *, limit: int
) -> np.ndarray:
    """Hybrid score: w x semantic cosine + (1 - w) x lexical cosine."""
    weight = get_settings().search_semantic_weight
    semantic = _semantic(session, snapshot, lexical, vector, limit=limit)
    return weight * semantic + (1.0 - weight) * lexical


def _semantic(
    session: Session, snapshot: Snapshot, lexical: np.ndarray, vector: np.ndarray, *, limit: int
) -> np.ndarray:
    """Dense cosines clipped to [0, 1] (pgvector: for its neighbours and the lexical best)."""
    model = get_settings().embedding_model
    if pgvector_index.is_available(session) and len(vector) == pgvector_index.DIMENSIONS:
        semantic = _semantic_from_pgvector(session, snapshot, lexical, vector, model, limit)
    else:
        semantic = snapshot.semantic_scores(vector, model)
    return np.clip(semantic, 0.0, 1.0)


def _semantic_from_pgvector(
    session: Session,
    snapshot: Snapshot,
    lexical: np.ndarray,
    vector: np.ndarray,
    model: str,
    limit: int,
) -> np.ndarray:
    """Semantic scores for the HNSW neighbours plus the best lexical candidates; 0 elsewhere."""
    k = max(MIN_HNSW_CANDIDATES, HNSW_CANDIDATES_PER_RESULT * limit)
    semantic = np.zeros(len(snapshot.ids), dtype=np.float32)
    found = dict(pgvector_index.nearest(session, vector=vector, model=model, k=k))
    lexical_top = snapshot.ids[_top(lexical, k)]
    missing = [int(i) for i in lexical_top if int(i) not in found]
    found |= pgvector_index.similarities(session, vector=vector, model=model, agent_ids=missing)
    for agent_id, similarity in found.items():
        position = snapshot.position.get(agent_id)
        if position is not None:
            semantic[position] = similarity
    return semantic


def _top(scores: np.ndarray, k: int) -> np.ndarray:
    """Positions of the `k` best scores, best first."""
    if k >= len(scores):
        return np.argsort(-scores, kind="stable")
    part = np.argpartition(-scores, k)[:k]
    return part[np.argsort(-scores[part], kind="stable")]


def _ranked(scores: np.ndarray, floor: float, first: int) -> Iterator[np.ndarray]:
    """Positions scoring above `floor`, best first, in growing chunks."""
    eligible = np.flatnonzero(scores > floor)
    if len(eligible) == 0:
        return
    sub = scores[eligible]
    best = eligible[_top(sub, first)]
    yield best
    if first < len(eligible):
        rest = eligible[np.argsort(-sub, kind="stable")]
        yield rest[~np.isin(rest, best)]


def _hits(
    session: Session,
    snapshot: Snapshot,
    scores: np.ndarray,
    limit: int,
    min_similarity: float,
    statuses: list[AgentStatus] | None,
    exclude: int | None,
    labels: Calibration,
) -> list[SearchHit]:
    """The best `limit` live agents passing the filters (deleted ones drop out here).

    Candidates are read best-first in chunks and ordered by the status-aware key; reading
    stops once `limit` of them beat anything an unread (lower-similarity) agent could reach.
    """
    scores = np.clip(scores, 0.0, 1.0)
    floor = max(min_similarity - 1e-6, 0.0)
    settings = get_settings()
    boost = settings.search_status_boost
    found: list[tuple[float, int, SearchHit]] = []
    chunk = max(4 * limit + 1, 50)
    for positions in _ranked(scores, floor, chunk):
        for start in range(0, len(positions), max(chunk, 500)):
            part = positions[start : start + max(chunk, 500)]
            ids = [int(snapshot.ids[p]) for p in part]
            query = select(Agent.id, Agent.name, Agent.status).where(Agent.id.in_(ids))
            if statuses:
                query = query.where(Agent.status.in_(statuses))
            rows = {row.id: row for row in session.execute(query)}
            for p, agent_id in zip(part, ids, strict=True):
                row = rows.get(agent_id)
                similarity = float(scores[p])
                if row is None or agent_id == exclude or similarity < min_similarity:
                    continue
                status = AgentStatus(row.status)
                key = ranking_scores([similarity], [status], boost=boost)[0]
                hit = SearchHit(
                    agent_id, row.name, status.value, similarity, labels.label(similarity)
                )
                found.append((key, len(found), hit))
            found.sort(key=lambda item: (-item[0], item[1]))
            unread_best = float(scores[part[-1]]) * (1.0 + boost)
            if len(found) >= limit and found[limit - 1][0] >= unread_best:
                return [hit for _, _, hit in found[:limit]]
    return [hit for _, _, hit in found[:limit]]


def _clean_query(query: str) -> str:
    text = (query or "").strip() if isinstance(query, str) else ""
    if not text:
        raise ValidationError("search query is empty; type what the agent should do", field="query")
    if len(text) > MAX_QUERY_CHARS:
        raise ValidationError(
            f"search query is {len(text)} characters; use at most {MAX_QUERY_CHARS}",
            field="query",
        )
    return text


def _check_limit(limit: int) -> None:
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise ValidationError(
            f"limit must be a whole number from 1 to {MAX_LIMIT}, not {limit!r}", field="limit"
        )


def _check_threshold(min_similarity: float) -> None:
    valid = isinstance(min_similarity, int | float) and not isinstance(min_similarity, bool)
    if not valid or not 0.0 <= float(min_similarity) <= 1.0:
        raise ValidationError(
            f"minimum similarity must be between 0 and 1, not {min_similarity!r}",
            field="min_similarity",
        )


def _clean_statuses(statuses: Iterable[AgentStatus | str] | None) -> list[AgentStatus] | None:
    if statuses is None:
        return None
    if isinstance(statuses, str | AgentStatus):
        statuses = [statuses]
    cleaned = []
    for status in statuses:
        try:
            cleaned.append(AgentStatus(str(status).strip().lower()))
        except ValueError:
            names = ", ".join(s.value for s in AgentStatus)
            raise ValidationError(
                f"unknown status {status!r}; use one of {names}", field="statuses"
            ) from None
    return cleaned or None
