"""Recording usage events: one, or many in one transaction with bulk INSERTs."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.analytics.events import (
    EventRow,
    EventsRejected,
    candidate_agent_ids,
    validate_events,
)
from core.analytics.sql import bump_versions, dialect_name
from core.models import Agent, RollupQueue

CHUNK = 5_000  # rows per executemany: bounded statement size on every backend
_COLUMNS = "agent_id, event_type, user_id, model_name, tokens_used, execution_time_ms, created_at"


def known_agents(session: Session, *, agent_ids: Iterable[int]) -> dict[int, str]:
    """{agent id: configured model} for the ids that exist."""
    ids = sorted(set(agent_ids))
    found: dict[int, str] = {}
    for start in range(0, len(ids), 1000):
        part = ids[start : start + 1000]
        found.update(session.execute(select(Agent.id, Agent.model).where(Agent.id.in_(part))).all())
    return found


def store_rows(session: Session, *, rows: list[EventRow]) -> int:
    """Insert validated rows and queue their days for the rollup. Returns the count."""
    if not rows:
        return 0
    # The driver's executemany straight away: SQLAlchemy's per-value processing would cost
    # more than the insert itself at 50k+ events/s.
    dialect = dialect_name(session)
    if dialect == "postgresql":
        _copy_into_postgres(session, rows)
    elif dialect == "sqlite":
        # The text SQLAlchemy's SQLite DateTime stores ('YYYY-MM-DD HH:MM:SS.ffffff'; str()
        # drops a zero fraction): built in one pass, and its day prefix gives the days.
        params = [
            (a, e, u, m, t, d, s if len(s := str(at)) == 26 else f"{s}.000000")
            for a, e, u, m, t, d, at in rows
        ]
        _executemany(session, params, "?")
        days = {date.fromisoformat(day) for day in {p[6][:10] for p in params}}
    else:
        _executemany(session, rows, "%s")
    if dialect != "sqlite":
        days = {row.created_at.date() for row in rows}
    bump_versions(session, RollupQueue.__table__, key="date", values=days)
    return len(rows)


def _copy_into_postgres(session: Session, rows: list[EventRow]) -> None:
    cursor = session.connection().connection.dbapi_connection.cursor()
    with cursor.copy(f"COPY usage_logs ({_COLUMNS}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _executemany(session: Session, params: list[tuple], marker: str) -> None:
    sql = f"INSERT INTO usage_logs ({_COLUMNS}) VALUES ({', '.join([marker] * 7)})"
    connection = session.connection()
    for start in range(0, len(params), CHUNK):
        connection.exec_driver_sql(sql, params[start : start + CHUNK])


def log_events(
    session: Session, *, events: Iterable[Mapping[str, Any]], now: datetime | None = None
) -> int:
    """Validate and store a batch in the caller's transaction: all of it, or none.

    Raises `EventsRejected` (a ValidationError) listing every invalid event by index.
    Returns the number of events stored.
    """
    batch = events if isinstance(events, list) else list(events)
    agents = known_agents(session, agent_ids=candidate_agent_ids(batch))
    rows, errors = validate_events(batch, known_agents=agents, now=now)
    if errors:
        raise EventsRejected(errors, total=len(batch))
    return store_rows(session, rows=rows)


def log_event(
    session: Session,
    *,
    agent_id: int,
    event_type: str,
    user: str = "",
    model_name: str | None = None,
    tokens_used: int = 0,
    execution_time_ms: int = 0,
    created_at: datetime | str | None = None,
) -> None:
    """Record one event (see `log_events`)."""
    log_events(
        session,
        events=[
            {
                "agent_id": agent_id,
                "event_type": event_type,
                "user": user,
                "model_name": model_name,
                "tokens_used": tokens_used,
                "execution_time_ms": execution_time_ms,
                "created_at": created_at,
            }
        ],
    )
