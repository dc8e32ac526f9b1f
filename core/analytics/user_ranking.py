"""Top users over a date range: ranked by event count from the closed days' compact per-(day,
agent) user sets (agent_sets; or a default view's stored counts) plus the events of today and
queued days, then the ranked few's other figures (executions, tokens, agents, last seen) from
their events only. With a model filter, all from the events."""

from __future__ import annotations

from typing import Any

from sqlalchemy import case, func, literal_column, select, text, union_all
from sqlalchemy.orm import Session

from core.analytics import agent_sets, window_read
from core.analytics.compute import RangeRead, U, day_runs, event_filters, range_filter
from core.analytics.day_sets import mariadb_key, user_collation
from core.analytics.sql import dialect_name

EXECUTED = U.event_type == "executed"


def _details(filters: list):
    """Per-user figures of the events matching `filters` (the columns top_users returns)."""
    events = func.count().label("events")
    return select(
        U.user_id,
        events,
        func.sum(case((EXECUTED, 1), else_=0)).label("executions"),
        func.sum(case((EXECUTED, U.tokens_used), else_=0)).label("total_tokens"),
        func.count(U.agent_id.distinct()).label("agents"),
        func.max(U.created_at).label("last_seen"),
    ).where(*filters, U.user_id != "")


def _row(r: Any, events: int | None = None) -> dict[str, Any]:
    return {
        "user": r.user_id,
        "events": int(r.events if events is None else events),
        "executions": int(r.executions or 0),
        "total_tokens": int(r.total_tokens or 0),
        "agents": int(r.agents),
        "last_seen": r.last_seen,
    }


def _stored_view(session: Session, read: RangeRead, limit: int) -> list[tuple[str, int]] | None:
    """A default view's ranking (all agents): its closed days' counts as the rollup job stored
    them plus the live days' events, grouped by the database; None when no view is stored."""
    stored = window_read.user_counts(session, read)
    if stored is None:
        return None
    parts = [stored]
    for run_start, run_end in day_runs(sorted(read.live)):
        parts.append(
            select(U.user_id, func.count().label("n"))
            .where(*range_filter(run_start, run_end), U.user_id != "")
            .group_by(U.user_id)
        )
    counts = (union_all(*parts) if len(parts) > 1 else parts[0]).subquery()
    events = func.sum(counts.c.n).label("events")
    query = (
        select(counts.c.user_id, events)
        .group_by(counts.c.user_id)
        .order_by(events.desc(), counts.c.user_id)
        .limit(limit)
    )
    return [(u, int(n)) for u, n in session.execute(query)]


def _ranked(session: Session, read: RangeRead, limit: int) -> list[tuple[str, int]]:
    """[(user, events)] of the `limit` most active users, most events first, then by user (on
    MariaDB by collation key: the column's order)."""
    if read.agent_id is None:
        stored = _stored_view(session, read, limit)
        if stored is not None:
            return stored
    counts = agent_sets.user_counts(agent_sets.entries(session, read))
    best = sorted(counts.items(), key=lambda item: (-item[1][1], item[0]))[:limit]
    return [(user, events) for _, (user, events) in best]


def top_users(session: Session, read: RangeRead, *, limit: int = 10) -> list[dict[str, Any]]:
    """The `limit` most active users (by events) over the range; see tables.top_users."""
    start, end, agent_id, model_name = read.start, read.end, read.agent_id, read.model_name
    if model_name is not None:  # only the events know the model
        filters = [*event_filters(start, end, agent_id, model_name), EXECUTED]
        events = literal_column("events")
        query = _details(filters).group_by(U.user_id).order_by(events.desc(), U.user_id)
        return [_row(r) for r in session.execute(query.limit(limit))]
    ranked = _ranked(session, read, limit)
    if not ranked:
        return []
    users = [u for u, _ in ranked]
    query = _details([*event_filters(start, end, agent_id), U.user_id.in_(users)]).group_by(
        U.user_id
    )
    details = {r.user_id: r for r in session.execute(query)}
    if all(u in details for u in users):
        return [_row(details[u], n) for u, n in ranked]
    # MariaDB's collation may group a user under another spelling: match by collation key.
    keys = _keys(session, [*users, *details])
    by_key = {keys[u]: r for u, r in details.items()}
    return [_row(details.get(u) or by_key[keys[u]], n) for u, n in ranked]


def _keys(session: Session, spellings: list[str]) -> dict[str, str]:
    """{spelling: its collation key} as the database computes it (MariaDB)."""
    if dialect_name(session) != "mysql":
        return {u: u for u in spellings}
    collation = user_collation(session)
    out = {}
    key = text(f"SELECT {mariadb_key(':spelling', collation)}")
    for u in set(spellings):
        out[u] = session.scalar(key, {"spelling": u})
    return out
