"""Dense vectors in PostgreSQL with pgvector: an HNSW index queried with `<=>` in SQL.

The table exists only where the `vector` extension was available at migration time
(see migration 0004_search); everywhere else the in-process index serves the same queries.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
from pgvector.psycopg.vector import register_vector_info
from psycopg.types import TypeInfo
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
    _types.clear()


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
    """The `k` approximate nearest agents by cosine, as (agent_id, cosine similarity), best first.

    The query path is one round trip in the common case: the vector travels in pgvector's
    binary format (no text formatting or parsing), the statement is prepared on the server
    (psycopg `prepare=True`; `k` is inlined so each plan keeps its LIMIT), and
    `hnsw.ef_search` plus `hnsw.iterative_scan` are set per transaction only when they change
    (`SET LOCAL`; iterative scan keeps `k` results when the model filter drops candidates).
    """
    ef = max(ef_search or get_settings().search_hnsw_ef_search, k)
    _set_scan(session, ef)
    raw = session.connection().connection.driver_connection
    with raw.cursor() as cursor:
        register_vector_info(cursor, _vector_type(session, raw))
        cursor.execute(
            _NEAREST.format(k=int(k)), {"q": _vector(vector), "model": model}, prepare=True
        )
        rows = cursor.fetchall()
    # relaxed_order may return neighbours slightly out of order; order them exactly here.
    return sorted(
        ((agent_id, 1.0 - float(distance)) for agent_id, distance in rows),
        key=lambda pair: -pair[1],
    )


_NEAREST = (
    f"SELECT agent_id, embedding <=> %(q)b AS distance FROM {TABLE} "
    "WHERE model = %(model)s ORDER BY embedding <=> %(q)b LIMIT {k}"
)
_types: dict[str, TypeInfo] = {}


def _vector(vector: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(vector, dtype=np.float32)


def _vector_type(session: Session, raw) -> TypeInfo:  # noqa: ANN001
    """pgvector's `vector` type, looked up once per database."""
    key = session.get_bind().url.render_as_string(hide_password=False)
    info = _types.get(key)
    if info is None:
        info = _types[key] = TypeInfo.fetch(raw, "vector")
    return info


def _set_scan(session: Session, ef: int) -> None:
    """SET LOCAL the HNSW scan settings, once per transaction (they end with it)."""
    transaction = session.get_transaction()
    if session.info.get("hnsw_transaction") is transaction and session.info.get("hnsw_ef") == ef:
        return
    session.execute(
        text(
            "SELECT set_config('hnsw.ef_search', :ef, true), "
            "set_config('hnsw.iterative_scan', 'relaxed_order', true)"
        ),
        {"ef": str(ef)},
    )
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
