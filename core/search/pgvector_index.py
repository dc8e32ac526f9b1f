"""Dense vectors in PostgreSQL with pgvector: an HNSW index queried with `<=>` in SQL.

The table exists only where the `vector` extension was available at migration time
(see migration 0004_search); everywhere else the in-process index serves the same queries.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
from sqlalchemy import bindparam, text
from sqlalchemy.orm import Session

from core.config import get_settings

TABLE = "agent_embedding_vectors"
DIMENSIONS = 384

_available: dict[str, bool] = {}


def is_available(session: Session) -> bool:
    """True on PostgreSQL when the pgvector table exists (checked once per database)."""
    bind = session.get_bind()
    if bind.dialect.name != "postgresql":
        return False
    key = bind.url.render_as_string(hide_password=False)
    if key not in _available:
        found = session.execute(text("SELECT to_regclass(:name)"), {"name": TABLE}).scalar()
        _available[key] = found is not None
    return _available[key]


def forget_availability() -> None:
    """Check again next time (tests that migrate a fresh database)."""
    _available.clear()


def literal(vector: np.ndarray) -> str:
    return "[" + ",".join(f"{x:.7g}" for x in vector.tolist()) + "]"


def upsert(session: Session, rows: Sequence[tuple[int, str, np.ndarray]]) -> None:
    """Store (agent_id, model, vector) rows, replacing earlier vectors of those agents."""
    if not rows:
        return
    session.execute(
        text(
            f"INSERT INTO {TABLE} (agent_id, model, embedding) "
            "VALUES (:agent_id, :model, CAST(:embedding AS vector)) "
            "ON CONFLICT (agent_id) DO UPDATE "
            "SET model = EXCLUDED.model, embedding = EXCLUDED.embedding"
        ),
        [
            {"agent_id": agent_id, "model": model, "embedding": literal(vector)}
            for agent_id, model, vector in rows
        ],
    )


def stored_models(session: Session) -> dict[int, str]:
    """agent_id -> model of every vector in the table."""
    rows = session.execute(text(f"SELECT agent_id, model FROM {TABLE}")).all()
    return {agent_id: model for agent_id, model in rows}


def delete(session: Session, agent_ids: Iterable[int] | None = None) -> None:
    """Forget the vectors of `agent_ids` (all vectors when None)."""
    if agent_ids is None:
        session.execute(text(f"DELETE FROM {TABLE}"))
        return
    ids = list(agent_ids)
    if ids:
        statement = text(f"DELETE FROM {TABLE} WHERE agent_id IN :ids").bindparams(
            bindparam("ids", expanding=True)
        )
        session.execute(statement, {"ids": ids})


def nearest(
    session: Session, *, vector: np.ndarray, model: str, k: int, ef_search: int | None = None
) -> list[tuple[int, float]]:
    """The `k` approximate nearest agents by cosine, as (agent_id, cosine similarity)."""
    _set_ef_search(session, max(ef_search or get_settings().search_hnsw_ef_search, k))
    rows = session.execute(
        text(
            f"SELECT agent_id, embedding <=> CAST(:q AS vector) AS distance FROM {TABLE} "
            "WHERE model = :model ORDER BY embedding <=> CAST(:q AS vector) LIMIT :k"
        ),
        {"q": literal(vector), "model": model, "k": k},
    ).all()
    return [(row.agent_id, 1.0 - float(row.distance)) for row in rows]


def _set_ef_search(session: Session, ef: int) -> None:
    """SET LOCAL hnsw.ef_search, once per transaction (it ends with the transaction)."""
    transaction = session.get_transaction()
    if session.info.get("hnsw_transaction") is transaction and session.info.get("hnsw_ef") == ef:
        return
    session.execute(text("SELECT set_config('hnsw.ef_search', :ef, true)"), {"ef": str(ef)})
    session.info["hnsw_transaction"] = transaction
    session.info["hnsw_ef"] = ef


def similarities(
    session: Session, *, vector: np.ndarray, model: str, agent_ids: Sequence[int]
) -> dict[int, float]:
    """Exact cosine similarity of `vector` to each of `agent_ids` that has a stored vector."""
    if not agent_ids:
        return {}
    statement = text(
        f"SELECT agent_id, embedding <=> CAST(:q AS vector) AS distance FROM {TABLE} "
        "WHERE model = :model AND agent_id IN :ids"
    ).bindparams(bindparam("ids", expanding=True))
    rows = session.execute(
        statement, {"q": literal(vector), "model": model, "ids": list(agent_ids)}
    ).all()
    return {row.agent_id: 1.0 - float(row.distance) for row in rows}
