"""Exact per-day p50/p95 execution times (the Analytics latency chart): closed days stored by
the rollup job (analytics_day_latency, the closed days of the last HORIZON_DAYS, per agent and across
agents), today, queued days and days not stored read from the events.

A stored day is exact until a rollup changes it: the rollup runner drops its rows in the same
transaction (`forget`) and the next run stores it again. p = nearest rank (the ⌈p·n⌉-th
smallest time), as `latency_series` always computed it.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import case, delete, func, insert, select
from sqlalchemy.orm import Session

from core.analytics.compute import U, day_runs, event_filters
from core.analytics.sql import as_date, day_of
from core.models import DayLatency, RollupQueue

HORIZON_DAYS = 90
ALL_AGENTS = 0
L = DayLatency.__table__.c


def from_events(
    session: Session,
    *,
    start: date,
    end: date,
    agent_id: int | None = None,
    model_name: str | None = None,
    per_agent: bool = False,
) -> list[dict[str, Any]]:
    """Per day (and agent, with `per_agent`) with executions: `date`, `executions`,
    `p50_execution_ms`, `p95_execution_ms`, from the events of start..end (inclusive)."""
    day = day_of(session, U.created_at).label("day")
    keys = [day, U.agent_id] if per_agent else [day]
    ranked = (
        select(
            *keys,
            U.execution_time_ms.label("ms"),
            func.row_number().over(partition_by=keys, order_by=U.execution_time_ms).label("rn"),
            func.count().over(partition_by=keys).label("n"),
        )
        .where(U.event_type == "executed", *event_filters(start, end, agent_id, model_name))
        .subquery()
    )

    def nearest_rank(percent: int):  # noqa: ANN202 - rn ≥ p·n in integers: rn·100 ≥ p·100·n
        return func.min(case((ranked.c.rn * 100 >= percent * ranked.c.n, ranked.c.ms)))

    group = [ranked.c.day, *([ranked.c.agent_id] if per_agent else [])]
    query = select(
        *group,
        func.max(ranked.c.n).label("executions"),
        nearest_rank(50).label("p50"),
        nearest_rank(95).label("p95"),
    ).group_by(*group)
    return [
        {
            "date": as_date(row.day),
            "agent_id": row.agent_id if per_agent else agent_id,
            "executions": int(row.executions),
            "p50_execution_ms": float(row.p50),
            "p95_execution_ms": float(row.p95),
        }
        for row in session.execute(query.order_by(*group))
    ]


def series(
    session: Session, *, start: date, end: date, today: date, agent_id: int | None
) -> list[dict[str, Any]]:
    """`latency_series` rows of start..end: stored closed days, the rest from the events."""
    closed_end = min(end, today - timedelta(days=1))
    stored: dict[date, dict[str, Any]] = {}
    built: set[date] = set()
    if start <= closed_end:
        query = select(L.date, L.agent_id, L.executions, L.p50_execution_ms, L.p95_execution_ms)
        query = query.where(
            L.date >= start,
            L.date <= closed_end,
            L.agent_id.in_(sorted({ALL_AGENTS, agent_id or ALL_AGENTS})),
        )
        for r in session.execute(query):
            day = as_date(r.date)
            if r.agent_id == ALL_AGENTS:
                built.add(day)
            if r.agent_id == (agent_id or ALL_AGENTS) and r.executions:
                stored[day] = {
                    "date": day,
                    "executions": int(r.executions),
                    "p50_execution_ms": float(r.p50_execution_ms),
                    "p95_execution_ms": float(r.p95_execution_ms),
                }
        queued = session.scalars(
            select(RollupQueue.date).where(
                RollupQueue.date >= start, RollupQueue.date <= closed_end
            )
        )
        built -= {as_date(d) for d in queued}
    days = {start + timedelta(days=i) for i in range((end - start).days + 1)}
    rows = [stored[d] for d in built if d in stored]
    for run_start, run_stop in day_runs(days - built):
        for row in from_events(
            session, start=run_start, end=run_stop - timedelta(days=1), agent_id=agent_id
        ):
            row.pop("agent_id")
            rows.append(row)
    return sorted(rows, key=lambda r: r["date"])


def missing_days(session: Session, today: date) -> list[date]:
    """Closed days of the horizon not stored and not queued (what `compute` should fill)."""
    first = today - timedelta(days=HORIZON_DAYS - 1)
    have = {
        as_date(d)
        for d in session.scalars(
            select(L.date).where(L.agent_id == ALL_AGENTS, L.date >= first, L.date < today)
        )
    }
    queued = {
        as_date(d)
        for d in session.scalars(
            select(RollupQueue.date).where(RollupQueue.date >= first, RollupQueue.date < today)
        )
    }
    return [
        first + timedelta(days=i)
        for i in range(HORIZON_DAYS - 1)
        if first + timedelta(days=i) not in have | queued
    ]


def compute(session: Session, days: list[date]) -> list[dict[str, Any]]:
    """Rows for `days` (a read-only pass per run of consecutive days)."""
    rows: list[dict[str, Any]] = []
    for run_start, run_stop in day_runs(days):
        last = run_stop - timedelta(days=1)
        rows += from_events(session, start=run_start, end=last, per_agent=True)
        across = {r["date"]: r for r in from_events(session, start=run_start, end=last)}
        for i in range((run_stop - run_start).days):
            day = run_start + timedelta(days=i)
            row = across.get(day) or {
                "date": day,
                "executions": 0,
                "p50_execution_ms": None,
                "p95_execution_ms": None,
            }
            rows.append(row | {"agent_id": ALL_AGENTS})
    return rows


def store(session: Session, rows: list[dict[str, Any]], today: date) -> None:
    """Insert freshly computed days (replacing any stored copy) and drop days past the horizon."""
    days = sorted({r["date"] for r in rows})
    if days:
        forget_days(session, days)
        session.execute(insert(DayLatency), rows)
    session.execute(delete(DayLatency).where(L.date < today - timedelta(days=HORIZON_DAYS - 1)))


def forget_days(session: Session, days: list[date]) -> None:
    for i in range(0, len(days), 500):
        session.execute(delete(DayLatency).where(L.date.in_(days[i : i + 500])))


def forget(session: Session, start: date | None, end: date | None) -> None:
    """Drop stored days in [start, end) (None: unbounded): a rollup changed them."""
    query = delete(DayLatency)
    if start is not None:
        query = query.where(L.date >= start)
    if end is not None:
        query = query.where(L.date < end)
    session.execute(query)
