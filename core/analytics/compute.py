"""Daily figures computed by SQL in the database from usage_logs: two GROUP BYs (event
counts, uniques and p95 per day and agent; executions, tokens and time per day, agent and
model), merged in Python.

p95 is the nearest-rank 95th percentile of execution times: the value at rank ⌈0.95·n⌉ in
ascending order (PostgreSQL's percentile_disc(0.95)), i.e. the smallest time whose CUME_DIST()
is ≥ 0.95; SQLite, MariaDB and PostgreSQL all compute CUME_DIST as k/n in double precision,
which equals the double 0.95 exactly when 100k = 95n, so the three give the same exact value.
Unique users ignore events with an empty `user`. Tokens and execution times count executions only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Integer, and_, case, func, literal_column, select
from sqlalchemy.orm import Session

from core.analytics.prices import PriceBook, cost_of
from core.analytics.sql import as_date, day_of, dialect_name
from core.models import UsageLog

U = UsageLog.__table__.c
ZERO = Decimal("0.000000")


def day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def range_filter(start: date, end: date, agent_id: int | None = None) -> list:
    """usage_logs rows from the start of `start` to the start of `end` (UTC), optional agent."""
    clauses = [U.created_at >= day_start(start), U.created_at < day_start(end)]
    if agent_id is not None:
        clauses.append(U.agent_id == agent_id)
    return clauses


@dataclass
class DailyRows:
    """Rows for daily_metrics (`agents`) and daily_model_metrics (`models`)."""

    agents: list[dict[str, Any]] = field(default_factory=list)
    models: list[dict[str, Any]] = field(default_factory=list)


def _per_agent_statement(session: Session, start: date, end: date, agent_id: int | None):
    """Event counts, unique users and exact p95 per (day, agent) in one statement.

    PostgreSQL has the ordered-set aggregate percentile_disc; elsewhere CUME_DIST() over the
    (day, agent, event type) partition ordered by time, and the smallest time at ≥ 0.95.
    """
    day = day_of(session, U.created_at)
    if dialect_name(session) == "postgresql":
        t = U
        p95 = (
            func.percentile_disc(literal_column("0.95"))
            .within_group(U.execution_time_ms)
            .filter(U.event_type == "executed")
        )
        group_day = day
        where = range_filter(start, end, agent_id)
    else:
        partition = [day, U.agent_id, U.event_type]
        ranked = (
            select(
                day.label("day"),
                U.agent_id,
                U.event_type,
                U.user_id,
                U.execution_time_ms,
                func.cume_dist()
                .over(partition_by=partition, order_by=U.execution_time_ms)
                .label("cd"),
            )
            .where(*range_filter(start, end, agent_id))
            .subquery("ranked")
        )
        t = ranked.c
        is_p95 = and_(t.event_type == "executed", t.cd >= literal_column("0.95"))
        p95 = func.min(case((is_p95, t.execution_time_ms)))
        group_day = t.day
        where = []

    def count_of(kind: str):  # noqa: ANN202
        return func.sum(case((t.event_type == kind, 1), else_=0)).cast(Integer)

    return (
        select(
            group_day.label("day"),
            t.agent_id,
            count_of("executed").label("executions"),
            count_of("viewed").label("views"),
            count_of("created").label("creations"),
            count_of("deleted").label("deletions"),
            func.count(func.nullif(t.user_id, "").distinct()).label("unique_users"),
            p95.label("p95"),
        )
        .where(*where)
        .group_by(group_day, t.agent_id)
    )


def _per_model_statement(session: Session, start: date, end: date, agent_id: int | None):
    day = day_of(session, U.created_at)
    model = func.coalesce(U.model_name, "")
    return (
        select(
            day.label("day"),
            U.agent_id,
            model.label("model_name"),
            func.count().label("executions"),
            func.sum(U.tokens_used).label("total_tokens"),
            func.sum(U.execution_time_ms).label("total_ms"),
        )
        .where(U.event_type == "executed", *range_filter(start, end, agent_id))
        .group_by(day, U.agent_id, model)
    )


def compute_daily(
    session: Session,
    *,
    start: date,
    end: date,
    agent_id: int | None = None,
    prices: PriceBook | None = None,
) -> DailyRows:
    """Per (day, agent) and per (day, agent, model) figures for days in [start, end)."""
    prices = prices or PriceBook.load(session)
    models: list[dict[str, Any]] = []
    cost_by_agent_day: dict[tuple[date, int], Decimal] = {}
    sums_by_agent_day: dict[tuple[date, int], tuple[int, int]] = {}
    for row in session.execute(_per_model_statement(session, start, end, agent_id)):
        day = as_date(row.day)
        price = prices.price(row.model_name, day)
        cost = cost_of(int(row.total_tokens or 0), price)
        key = (day, row.agent_id)
        tokens, total_ms = int(row.total_tokens or 0), int(row.total_ms or 0)
        cost_by_agent_day[key] = cost_by_agent_day.get(key, ZERO) + cost
        had_tokens, had_ms = sums_by_agent_day.get(key, (0, 0))
        sums_by_agent_day[key] = (had_tokens + tokens, had_ms + total_ms)
        models.append(
            {
                "date": day,
                "agent_id": row.agent_id,
                "model_name": row.model_name,
                "executions": int(row.executions),
                "total_tokens": tokens,
                "total_execution_ms": total_ms,
                "cost_usd": cost,
                "priced": price is not None,
            }
        )
    agents: list[dict[str, Any]] = []
    for row in session.execute(_per_agent_statement(session, start, end, agent_id)):
        day = as_date(row.day)
        key = (day, row.agent_id)
        tokens, total_ms = sums_by_agent_day.get(key, (0, 0))
        executions = int(row.executions or 0)
        agents.append(
            {
                "date": day,
                "agent_id": row.agent_id,
                "executions": executions,
                "views": int(row.views or 0),
                "creations": int(row.creations or 0),
                "deletions": int(row.deletions or 0),
                "total_tokens": tokens,
                "unique_users": int(row.unique_users or 0),
                "total_execution_ms": total_ms,
                "avg_execution_ms": total_ms / executions if executions else None,
                "p95_execution_ms": float(row.p95) if row.p95 is not None else None,
                "cost_usd": cost_by_agent_day.get(key, ZERO),
            }
        )
    return DailyRows(agents=agents, models=models)


def days_between(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days)]
