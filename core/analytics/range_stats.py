"""Unique users and the exact p95 over a date range — the two figures a sum of daily rows
cannot give.

Unique users: the closed days' distinct users come from daily_agent_users (filled by the
rollup), today's and queued days' from the events, deduplicated together by a UNION. With a
model filter they are the users of that model's executions, read from the events. p95 is the
nearest-rank 95th percentile of the range's execution times, from the events (per agent in
one window pass). Ranges are `start`..`end` inclusive UTC days; `live` are the days of the
range computed live (figures.live_days).
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, literal_column, select, union, union_all
from sqlalchemy.orm import Session

from core.analytics.compute import U, day_runs, range_filter
from core.analytics.sql import dialect_name
from core.models import DailyAgentUser

D = DailyAgentUser.__table__.c


def _event_filters(start: date, end: date, agent_id: int | None, model_name: str | None) -> list:
    filters = range_filter(start, end + timedelta(days=1), agent_id)
    if model_name is not None:
        filters += [U.event_type == "executed", U.model_name == model_name]
    return filters


def _user_sets(
    start: date,
    end: date,
    live: set[date],
    today: date,
    agent_id: int | None,
    model_name: str | None,
    columns: list,
):
    """SELECTs whose UNION is the distinct (columns…) of the range's identified users."""
    if model_name is not None:  # per-model users: only the events know the model
        return [
            select(*(getattr(U, c) for c in columns)).where(
                *_event_filters(start, end, agent_id, model_name), U.user_id != ""
            )
        ]
    parts = []
    stop = min(end + timedelta(days=1), today)
    if start < stop:
        closed = select(*(getattr(D, c) for c in columns)).where(D.date >= start, D.date < stop)
        skipped = sorted(d for d in live if d < stop)
        if skipped:
            closed = closed.where(D.date.not_in(skipped))
        if agent_id is not None:
            closed = closed.where(D.agent_id == agent_id)
        parts.append(closed)
    for run_start, run_end in day_runs(live):
        parts.append(
            select(*(getattr(U, c) for c in columns)).where(
                *range_filter(run_start, run_end, agent_id), U.user_id != ""
            )
        )
    return parts


def unique_users(
    session: Session,
    *,
    start: date,
    end: date,
    live: set[date],
    today: date,
    agent_id: int | None = None,
    model_name: str | None = None,
) -> int:
    """Distinct non-empty users over start..end (one agent, or all)."""
    parts = _user_sets(start, end, live, today, agent_id, model_name, ["user_id"])
    if not parts:
        return 0
    if len(parts) == 1:
        users = parts[0].distinct().subquery()
        return int(session.scalar(select(func.count()).select_from(users)) or 0)
    users = union_all(*parts).subquery()
    if dialect_name(session) == "postgresql":  # PostgreSQL sorts for COUNT(DISTINCT)
        hashed = select(users.c.user_id).distinct().subquery()
        return int(session.scalar(select(func.count()).select_from(hashed)) or 0)
    return int(session.scalar(select(func.count(users.c.user_id.distinct()))) or 0)


def unique_users_by_agent(
    session: Session,
    *,
    start: date,
    end: date,
    live: set[date],
    today: date,
    agent_id: int | None = None,
    model_name: str | None = None,
) -> dict[int, int]:
    """{agent id: distinct users over start..end}, in one statement."""
    parts = _user_sets(start, end, live, today, agent_id, model_name, ["agent_id", "user_id"])
    if not parts:
        return {}
    pairs = (union(*parts) if len(parts) > 1 else parts[0].distinct()).subquery()
    query = select(pairs.c.agent_id, func.count()).group_by(pairs.c.agent_id)
    return {a: int(n) for a, n in session.execute(query)}


def p95(
    session: Session,
    *,
    start: date,
    end: date,
    executions: int,
    agent_id: int | None = None,
    model_name: str | None = None,
) -> float | None:
    """Nearest-rank p95 of the range's `executions` execution times (count known)."""
    if executions <= 0:
        return None
    rank = -(-95 * executions // 100)  # ⌈0.95·n⌉, ascending
    # The same row counted from the top: the sort only keeps the top 5 %.
    value = session.scalar(
        select(U.execution_time_ms)
        .where(*_event_filters(start, end, agent_id, model_name), U.event_type == "executed")
        .order_by(U.execution_time_ms.desc())
        .limit(1)
        .offset(executions - rank)
    )
    return float(value) if value is not None else None


def p95_by_agent(
    session: Session,
    *,
    start: date,
    end: date,
    agent_id: int | None = None,
    model_name: str | None = None,
) -> dict[int, float]:
    """{agent id: nearest-rank p95 over start..end} in one pass over the executions."""
    filters = [*_event_filters(start, end, agent_id, model_name), U.event_type == "executed"]
    if dialect_name(session) == "postgresql":
        value = func.percentile_disc(literal_column("0.95")).within_group(U.execution_time_ms)
        query = select(U.agent_id, value).where(*filters).group_by(U.agent_id)
    else:
        ranked = (
            select(
                U.agent_id,
                U.execution_time_ms,
                func.cume_dist()
                .over(partition_by=U.agent_id, order_by=U.execution_time_ms)
                .label("cd"),
            )
            .where(*filters)
            .subquery()
        )
        query = (
            select(ranked.c.agent_id, func.min(ranked.c.execution_time_ms))
            .where(ranked.c.cd >= literal_column("0.95"))
            .group_by(ranked.c.agent_id)
        )
    return {a: float(v) for a, v in session.execute(query) if v is not None}
