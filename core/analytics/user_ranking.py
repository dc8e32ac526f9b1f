"""Top users over a date range: ranked by event count from daily_agent_users for the closed
days plus the events of today and queued days, then the ranked few's other figures (executions,
tokens, agents, last seen) from their events only. With a model filter, all from the events."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import case, func, literal_column, select, union_all
from sqlalchemy.orm import Session

from core.analytics import window_read
from core.analytics.compute import U, day_runs, event_filters, range_filter
from core.analytics.range_stats import D

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


def _ranked(
    session: Session,
    *,
    start: date,
    end: date,
    live: set[date],
    today: date,
    agent_id: int | None,
    limit: int,
) -> list[tuple[str, int]]:
    """[(user, events)] of the `limit` most active users, most events first, then by user."""
    parts = []
    stop = min(end + timedelta(days=1), today)
    stored = None
    if agent_id is None:  # a default view: its closed days' counts as the rollup job stored them
        stored = window_read.user_counts(session, start=start, end=end, live=live, today=today)
    if stored is not None:
        parts.append(stored)
    elif start < stop:
        closed = select(D.user_id, D.events.label("n")).where(D.date >= start, D.date < stop)
        skipped = sorted(d for d in live if d < stop)
        if skipped:
            closed = closed.where(D.date.not_in(skipped))
        if agent_id is not None:
            closed = closed.where(D.agent_id == agent_id)
        parts.append(closed)
    for run_start, run_end in day_runs(sorted(live)):
        parts.append(
            select(U.user_id, func.count().label("n"))
            .where(*range_filter(run_start, run_end, agent_id), U.user_id != "")
            .group_by(U.user_id)
        )
    if not parts:
        return []
    counts = (union_all(*parts) if len(parts) > 1 else parts[0]).subquery()
    events = func.sum(counts.c.n).label("events")
    query = (
        select(counts.c.user_id, events)
        .group_by(counts.c.user_id)
        .order_by(events.desc(), counts.c.user_id)
        .limit(limit)
    )
    return [(u, int(n)) for u, n in session.execute(query)]


def top_users(
    session: Session,
    *,
    start: date,
    end: date,
    live: set[date],
    today: date,
    agent_id: int | None = None,
    model_name: str | None = None,
    limit: int = 10,
) -> list[dict[str, Any]]:
    """The `limit` most active users (by events) over start..end; see tables.top_users."""
    if model_name is not None:  # only the events know the model
        filters = [*event_filters(start, end, agent_id, model_name), EXECUTED]
        events = literal_column("events")
        query = _details(filters).group_by(U.user_id).order_by(events.desc(), U.user_id)
        return [_row(r) for r in session.execute(query.limit(limit))]
    ranked = _ranked(
        session, start=start, end=end, live=live, today=today, agent_id=agent_id, limit=limit
    )
    if not ranked:
        return []
    users = [u for u, _ in ranked]
    query = _details([*event_filters(start, end, agent_id), U.user_id.in_(users)]).group_by(
        U.user_id
    )
    details = {r.user_id: r for r in session.execute(query)}
    # A case-insensitive collation (MariaDB) may group a user under another spelling.
    folded = {u.casefold(): r for u, r in details.items()}
    return [_row(details.get(u) or folded[u.casefold()], n) for u, n in ranked]
