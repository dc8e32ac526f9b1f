"""Writing the index: embed an agent on create and edit, refit and rebuild everything."""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable

import numpy as np
from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from core.config import get_settings
from core.models import Agent, AgentEmbedding, SearchFit, SearchIndexState
from core.search import lexical, pgvector_index
from core.search.index_state import lock_state
from core.search.semantic import get_semantic_embedder, semantic_enabled
from core.search.text import AgentDocument, agent_document

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]  # (done, total)
WRITE_BATCH = 500
SEMANTIC_BATCH = 64

FITS_KEPT = 4  # a fit holds ~16 MiB of arrays; only the newest is normally in use

_fits: OrderedDict[tuple[str, int], lexical.LexicalFit] = OrderedDict()
_fits_lock = threading.Lock()


def _remember_fit(key: tuple[str, int], fit: lexical.LexicalFit) -> None:
    """Keep the FITS_KEPT most recent fits: every refit makes a new one, for the whole process."""
    with _fits_lock:
        _fits[key] = fit
        _fits.move_to_end(key)
        while len(_fits) > FITS_KEPT:
            _fits.popitem(last=False)


def load_fit(session: Session, *, epoch: str, fit_id: int) -> lexical.LexicalFit:
    """The lexical fit `fit_id`, read from the database once per process."""
    key = (epoch, fit_id)
    fit = _fits.get(key)
    if fit is None:
        row = session.execute(
            select(SearchFit.state, SearchFit.kind).where(SearchFit.id == fit_id)
        ).first()
        if row is None:
            raise LookupError(f"search fit {fit_id} is gone")
        fit = lexical.LexicalFit.from_bytes(row.state, kind=row.kind)
        _remember_fit(key, fit)
    return fit


def index_agent(session: Session, *, agent: Agent) -> None:
    """Embed a created or edited agent in the caller's transaction, so searches see the edit.

    Its vectors use the current fit; the fit itself is redone (and every agent re-embedded)
    once SEARCH_REFIT_RATIO of the agents changed since it was made, or at once when the fit
    is of an older kind (vectors in another layout, e.g. `tfidf-hash-v1` before issue 13).
    """
    state = lock_state(session)
    if state.fit_id is None or not _current_kind(session, state):
        rebuild_index(session, state=state)
        return
    document = agent_document(agent)
    semantic = semantic_enabled()
    model = get_settings().embedding_model if semantic else None
    row = session.get(AgentEmbedding, agent.id, populate_existing=True)
    if (
        row is not None
        and row.text_hash == document.text_hash
        and row.fit_id == state.fit_id
        and (not semantic or row.semantic_model == model)
    ):
        return
    fit = load_fit(session, epoch=state.epoch, fit_id=state.fit_id)
    state.generation += 1
    state.changes_since_fit += 1
    values = {
        "fit_id": state.fit_id,
        "lexical": lexical.pack(fit.weigh(_document_counts([document]))),
        "text_hash": document.text_hash,
        "generation": state.generation,
    }
    keep_dense = (
        row is not None
        and row.semantic is not None
        and row.text_hash == document.text_hash
        and (not semantic or row.semantic_model == model)
    )
    if semantic and not keep_dense:
        vector = get_semantic_embedder().embed([document.semantic])[0]
        values |= {"semantic": vector.astype("<f4").tobytes(), "semantic_model": model}
        _store_dense(session, [(agent.id, model, vector)], [])
    elif not keep_dense:  # text changed under tfidf: an old dense vector would mislead
        values |= {"semantic": None, "semantic_model": None}
        _store_dense(session, [], [agent.id])
    if row is None:
        session.add(AgentEmbedding(agent_id=agent.id, **values))
    else:
        for name, value in values.items():
            setattr(row, name, value)
    session.flush()
    if state.changes_since_fit >= max(1.0, get_settings().search_refit_ratio * fit.n_docs):
        rebuild_index(session, state=state)


def rebuild_index(
    session: Session,
    *,
    state: SearchIndexState | None = None,
    reembed_semantic: bool = False,
    progress: Progress | None = None,
) -> int:
    """Refit the lexical weights on every agent and rewrite every lexical vector.

    Dense vectors do not depend on the fit: unchanged agents keep theirs (of the configured
    model; any model under tfidf) unless `reembed_semantic`. Returns the number of agents.
    """
    state = state or lock_state(session)
    agents = session.execute(
        select(
            Agent.id, Agent.name, Agent.description, Agent.tools, Agent.system_prompt, Agent.model
        ).order_by(Agent.id)
    ).all()
    documents = [agent_document(agent) for agent in agents]
    total = len(documents)
    whole = lexical.term_counts([d.lexical for d in documents] or [""])
    fit = lexical.LexicalFit.fit(whole)
    fit_row = SearchFit(kind=lexical.KIND, n_docs=total, state=fit.to_bytes())
    session.add(fit_row)
    session.flush()
    vectors = fit.weigh(_document_counts(documents)) if documents else None

    semantic = semantic_enabled()
    model = get_settings().embedding_model if semantic else None
    kept = _reusable_semantic(session, documents, agents, model, reembed_semantic)
    mirrored = (
        pgvector_index.stored_models(session) if pgvector_index.is_available(session) else None
    )

    state.generation += 1
    session.execute(delete(AgentEmbedding))
    with_dense: set[int] = set()
    done = 0
    for start in range(0, total, WRITE_BATCH):
        batch = range(start, min(start + WRITE_BATCH, total))
        fresh = _embed_missing(
            [documents[i] for i in batch], [agents[i].id for i in batch], kept, semantic
        )
        dense = {aid: (vector, model) for aid, vector in fresh.items()}
        dense |= {agents[i].id: kept[agents[i].id] for i in batch if agents[i].id in kept}
        rows = []
        for i in batch:
            vector, vector_model = dense.get(agents[i].id, (None, None))
            rows.append(
                {
                    "agent_id": agents[i].id,
                    "fit_id": fit_row.id,
                    "lexical": lexical.pack(vectors[i]),
                    "text_hash": documents[i].text_hash,
                    "generation": state.generation,
                    "semantic": vector.astype("<f4").tobytes() if vector is not None else None,
                    "semantic_model": vector_model,
                }
            )
        session.execute(insert(AgentEmbedding), rows)
        with_dense |= dense.keys()
        if mirrored is not None:
            missing = [
                (aid, m, v)
                for aid, (v, m) in dense.items()
                if aid in fresh or mirrored.get(aid) != m
            ]
            _store_dense(session, missing, [])
        done += len(batch)
        if progress:
            progress(done, total)
    if mirrored is not None:
        pgvector_index.delete(session, [aid for aid in mirrored if aid not in with_dense])
    state.fit_id = fit_row.id
    state.changes_since_fit = 0
    _remember_fit((state.epoch, fit_row.id), fit)
    session.execute(delete(SearchFit).where(SearchFit.id != fit_row.id))
    session.flush()
    log.info("search index rebuilt: %d agents, fit %d", total, fit_row.id)
    return total


def _current_kind(session: Session, state: SearchIndexState) -> bool:
    """Whether the current fit's vectors have this version's layout."""
    kind = session.scalar(select(SearchFit.kind).where(SearchFit.id == state.fit_id))
    return kind == lexical.KIND


def _document_counts(documents: list[AgentDocument]):  # noqa: ANN202
    return lexical.document_counts([d.lexical for d in documents], [d.fields for d in documents])


def _reusable_semantic(
    session: Session, documents: list[AgentDocument], agents: list, model: str | None, force: bool
) -> dict[int, tuple[np.ndarray, str]]:
    """Stored dense vectors still valid (same text; same model when one is configured)."""
    if force:
        return {}
    hashes = {agent.id: doc.text_hash for agent, doc in zip(agents, documents, strict=True)}
    kept = {}
    for agent_id, text_hash, blob, row_model in session.execute(
        select(
            AgentEmbedding.agent_id,
            AgentEmbedding.text_hash,
            AgentEmbedding.semantic,
            AgentEmbedding.semantic_model,
        )
    ):
        same_model = model is None or row_model == model
        if blob is not None and same_model and hashes.get(agent_id) == text_hash:
            kept[agent_id] = (np.frombuffer(blob, dtype="<f4"), row_model)
    return kept


def _embed_missing(
    documents: list[AgentDocument], ids: list[int], kept: dict, semantic: bool
) -> dict[int, np.ndarray]:
    """Dense vectors for the agents in this batch that have no reusable one."""
    if not semantic:
        return {}
    pairs = zip(ids, documents, strict=True)
    missing = [(agent_id, doc) for agent_id, doc in pairs if agent_id not in kept]
    if not missing:
        return {}
    embedded = get_semantic_embedder().embed(
        [doc.semantic for _, doc in missing], batch_size=SEMANTIC_BATCH
    )
    return {agent_id: embedded[i] for i, (agent_id, _) in enumerate(missing)}


def _store_dense(
    session: Session, rows: list[tuple[int, str | None, np.ndarray]], stale_ids: list[int]
) -> None:
    """Mirror dense vectors into pgvector's HNSW table where it exists."""
    if not pgvector_index.is_available(session):
        return
    usable = [(i, m, v) for i, m, v in rows if m and len(v) == pgvector_index.DIMENSIONS]
    if usable:
        pgvector_index.upsert(session, usable)
    stale = [i for i in stale_ids if i not in {u[0] for u in usable}]
    pgvector_index.delete(session, stale)
