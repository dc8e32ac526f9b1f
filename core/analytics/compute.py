"""Daily figures computed by SQL in the database from usage_logs: a GROUP BY per day and
agent (event counts, uniques; p95 too on PostgreSQL), a GROUP BY per day, agent and model
(executions, tokens, time), and on SQLite/MariaDB a narrow window pass for p95 — merged in
Python with integer arithmetic (cost in millionths of a dollar).

p95 is the nearest-rank 95th percentile of execution times: the value at rank ⌈0.95·n⌉ in
ascending order (PostgreSQL's percentile_disc(0.95)), i.e. the smallest time whose CUME_DIST()
is ≥ 0.95; SQLite, MariaDB and PostgreSQL all compute CUME_DIST as k/n in double precision,
which equals the double 0.95 exactly when 100k = 95n, so the three give the same exact value.
Unique users ignore events with an empty `user`. Tokens and execution times count executions only.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Integer, case, func, literal_column, select
from sqlalchemy.orm import Session

from core.analytics.prices import PriceBook, cost_micro, micro_to_usd
from core.analytics.sql import as_date, day_of, dialect_name, in_memory_grouping
from core.models import UsageLog

U = UsageLog.__table__.c


def day_runs(days: Iterable[date]) -> list[tuple[date, date]]:
    """Consecutive days as [start, end) ranges: one query pair per run."""
    runs: list[tuple[date, date]] = []
    for day in sorted(days):
        if runs and runs[-1][1] == day:
            runs[-1] = (runs[-1][0], day + timedelta(days=1))
        else:
            runs.append((day, day + timedelta(days=1)))
    return runs


def day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def range_filter(start: date | None, end: date | None, agent_id: int | None = None) -> list:
    """usage_logs rows from the start of `start` to the start of `end` (UTC), optional agent.

    No bounds (None) means every row: a full scan, never a range scan of the whole index.
    """
    clauses = []
    if start is not None:
        clauses.append(U.created_at >= day_start(start))
    if end is not None:
        clauses.append(U.created_at < day_start(end))
    if agent_id is not None:
        clauses.append(U.agent_id == agent_id)
    return clauses


def event_filters(
    start: date, end: date, agent_id: int | None = None, model_name: str | None = None
) -> list:
    """usage_logs rows on the inclusive UTC days `start`..`end`, optional agent and model."""
    clauses = range_filter(start, end + timedelta(days=1), agent_id)
    if model_name is not None:
        clauses.append(U.model_name == model_name)
    return clauses


@dataclass(frozen=True)
class RangeRead:
    """One figures read over start..end (inclusive): the days read from the events (`live`:
    today and days queued for the rollup), today's UTC date, and the filters."""

    start: date
    end: date
    live: set[date]
    today: date
    agent_id: int | None = None
    model_name: str | None = None


@dataclass
class DailyRows:
    """Rows for daily_metrics (`agents`) and daily_model_metrics (`models`)."""

    agents: list[dict[str, Any]] = field(default_factory=list)
    models: list[dict[str, Any]] = field(default_factory=list)


def _per_agent_statement(
    session: Session,
    start: date | None,
    end: date | None,
    agent_id: int | None,
    *,
    with_p95: bool = True,
    with_users: bool = True,
):
    """Event counts and unique users per (day, agent): one GROUP BY (the floor's shape).

    On PostgreSQL the exact p95 comes in the same pass (ordered-set aggregate
    percentile_disc); elsewhere `_p95_statement` is a second, narrow pass.
    """
    day = day_of(session, U.created_at)

    def count_of(kind: str):  # noqa: ANN202
        return func.sum(case((U.event_type == kind, 1), else_=0)).cast(Integer)

    columns = [
        day.label("day"),
        U.agent_id,
        count_of("executed").label("executions"),
        count_of("viewed").label("views"),
        count_of("created").label("creations"),
        count_of("deleted").label("deletions"),
        (
            func.count(func.nullif(U.user_id, "").distinct()) if with_users else literal_column("0")
        ).label("unique_users"),
    ]
    if dialect_name(session) == "postgresql" and with_p95:
        p95 = (
            func.percentile_disc(literal_column("0.95"))
            .within_group(U.execution_time_ms)
            .filter(U.event_type == "executed")
        )
        columns.append(p95.label("p95"))
    return select(*columns).where(*range_filter(start, end, agent_id)).group_by(day, U.agent_id)


def _p95_statement(session: Session, start: date | None, end: date | None, agent_id: int | None):
    """Exact p95 per (day, agent) on SQLite/MariaDB: CUME_DIST over executions only (narrow
    rows: day, agent, time), and the smallest time at ≥ 0.95."""
    day = day_of(session, U.created_at)
    ranked = (
        select(
            day.label("day"),
            U.agent_id,
            U.execution_time_ms,
            func.cume_dist()
            .over(partition_by=[day, U.agent_id], order_by=U.execution_time_ms)
            .label("cd"),
        )
        .where(U.event_type == "executed", *range_filter(start, end, agent_id))
        .subquery("ranked")
    )
    t = ranked.c
    return (
        select(t.day, t.agent_id, func.min(t.execution_time_ms))
        .where(t.cd >= literal_column("0.95"))
        .group_by(t.day, t.agent_id)
    )


def _per_model_statement(
    session: Session, start: date | None, end: date | None, agent_id: int | None
):
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
    start: date | None,
    end: date | None,
    agent_id: int | None = None,
    prices: PriceBook | None = None,
    with_p95: bool = True,
    with_users: bool = True,
) -> DailyRows:
    """Per (day, agent) and per (day, agent, model) figures for days in [start, end)
    (None: unbounded); `with_p95=False` skips the p95 pass (p95 left None), `with_users=False`
    the distinct users (unique_users left 0) — for callers that take both over a range."""
    prices = prices or PriceBook.load(session)
    days: dict[Any, date] = {}  # the backend's day value → date, converted once per day
    models: list[dict[str, Any]] = []
    # (day, agent) → [tokens, total ms, cost in millionths of a dollar]
    sums: dict[tuple[date, int], list[int]] = {}
    with in_memory_grouping(session):
        per_model = session.execute(_per_model_statement(session, start, end, agent_id)).all()
    for raw_day, agent, model, executions, tokens, total_ms in per_model:
        day = days.get(raw_day) or days.setdefault(raw_day, as_date(raw_day))
        price = prices.micro(model, day)
        tokens, total_ms = int(tokens or 0), int(total_ms or 0)
        cost = cost_micro(tokens, price)
        acc = sums.get((day, agent))
        if acc is None:
            sums[(day, agent)] = [tokens, total_ms, cost]
        else:
            acc[0] += tokens
            acc[1] += total_ms
            acc[2] += cost
        models.append(
            {
                "date": day,
                "agent_id": agent,
                "model_name": model,
                "executions": int(executions),
                "total_tokens": tokens,
                "total_execution_ms": total_ms,
                "cost_usd": micro_to_usd(cost),
                "priced": price is not None,
            }
        )
    postgres = dialect_name(session) == "postgresql"
    p95s: dict[tuple[Any, int], Any] = {}
    if not postgres and with_p95:
        p95s = dict(
            ((d, a), v)
            for d, a, v in session.execute(_p95_statement(session, start, end, agent_id)).all()
        )
    agents: list[dict[str, Any]] = []
    statement = _per_agent_statement(
        session, start, end, agent_id, with_p95=with_p95, with_users=with_users
    )
    for row in session.execute(statement).all():
        day = days.get(row.day) or days.setdefault(row.day, as_date(row.day))
        tokens, total_ms, cost = sums.get((day, row.agent_id), (0, 0, 0))
        executions = int(row.executions or 0)
        p95 = (row.p95 if with_p95 else None) if postgres else p95s.get((row.day, row.agent_id))
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
                "p95_execution_ms": float(p95) if p95 is not None else None,
                "cost_usd": micro_to_usd(cost),
            }
        )
    return DailyRows(agents=agents, models=models)


def days_between(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days)]
