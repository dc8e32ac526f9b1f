"""Unique users and the exact p95 over a date range — the two figures a sum of daily rows
cannot give.

Unique users: the closed days' distinct users come from daily_agent_user_sets (one compact row
per day and agent, filled by the rollup: agent_sets), today's and queued days' from the events,
merged by identity (on MariaDB the collation key, so spellings the column deems equal count
once, as COUNT(DISTINCT) does). With a model filter they are the users of that model's
executions, read from the events. p95 is the nearest-rank 95th percentile of the range's
execution times, from the events (per agent in one window pass). Ranges are `start`..`end`
inclusive UTC days; `live` are the days of the range computed live (figures.live_days).
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, literal_column, select
from sqlalchemy.orm import Session

from core.analytics import agent_sets
from core.analytics.compute import RangeRead, U, range_filter
from core.analytics.sql import dialect_name


def _event_filters(start: date, end: date, agent_id: int | None, model_name: str | None) -> list:
    filters = range_filter(start, end + timedelta(days=1), agent_id)
    if model_name is not None:
        filters += [U.event_type == "executed", U.model_name == model_name]
    return filters


def _model_users(read: RangeRead, columns: list):
    """The distinct (columns…) of a model's executions' identified users (only the events
    know the model)."""
    filters = _event_filters(read.start, read.end, read.agent_id, read.model_name)
    return select(*columns).where(*filters, U.user_id != "").distinct().subquery()


def unique_users(session: Session, read: RangeRead) -> int:
    """Distinct non-empty users over the range (one agent, or all)."""
    if read.model_name is not None:
        users = _model_users(read, [U.user_id])
        return int(session.scalar(select(func.count()).select_from(users)) or 0)
    found = agent_sets.entries(session, read)
    return len({agent_sets.identity(entry) for _, entry in found})


def unique_users_by_agent(session: Session, read: RangeRead) -> dict[int, int]:
    """{agent id: distinct users over the range}."""
    if read.model_name is not None:
        pairs = _model_users(read, [U.agent_id, U.user_id])
        query = select(pairs.c.agent_id, func.count()).group_by(pairs.c.agent_id)
        return {a: int(n) for a, n in session.execute(query)}
    found = agent_sets.entries(session, read)
    return {a: len(users) for a, users in agent_sets.users_by_agent(found).items()}


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
