"""Where a date range's figures come from: closed days from the rollups (summed in SQL),
today and queued days computed live, unique users and p95 over the range from the events.

Dates are UTC calendar days; ranges are `start`..`end` inclusive. p95 = nearest-rank.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import false, func, select
from sqlalchemy.orm import Session

from core.analytics import day_sets, range_stats, window_read
from core.analytics.compute import DailyRows, RangeRead, U, compute_daily, day_runs, range_filter
from core.analytics.prices import PriceBook
from core.analytics.rollup import AGENT_FIELDS, MODEL_FIELDS, pending_days
from core.analytics.sql import as_date
from core.analytics.windows import ALL_AGENTS
from core.errors import ValidationError
from core.models import DailyMetric, DailyModelMetric, UsageLog

ZERO = Decimal("0.000000")
SUMMED_INTS = {
    "executions",
    "views",
    "creations",
    "deletions",
    "total_tokens",
    "total_execution_ms",
}
MAX_RANGE_DAYS = 3660


def today_utc() -> date:
    return datetime.now(UTC).date()


def check_range(start: date, end: date) -> None:
    if end < start:
        raise ValidationError(f"end {end} is before start {start}; give start <= end")
    if (end - start).days > MAX_RANGE_DAYS:
        raise ValidationError(f"a range may cover at most {MAX_RANGE_DAYS} days")


def live_days(session: Session, start: date, end: date) -> set[date]:
    """Days of start..end computed live: today and later, and days queued for the rollup."""
    today = today_utc()
    memo = session.info.get(_SNAPSHOT)
    if memo is None:
        pending = pending_days(session)
    else:  # the queue read once per snapshot
        if "pending" not in memo:
            memo["pending"] = pending_days(session)
        pending = memo["pending"]
    live = {d for d in pending if start <= d <= end}
    stop = end + timedelta(days=1)
    if stop > today:
        live.update(today + timedelta(days=i) for i in range((stop - max(today, start)).days))
    return live


@contextmanager
def live_snapshot(session: Session) -> Iterator[None]:
    """Within the block, the rollup queue, the live days' rows (`live_rows`, per (days, agent))
    and a range's daily rows (`daily_rows`, per (range, agent)) are read once and reused: the figures of one
    page render read today's events and the range's rollups once. Outside it nothing is
    kept, so no later read sees rows older than its own statements."""
    if _SNAPSHOT in session.info:  # already inside one (a page's summary): the outer keeps
        yield
        return
    session.info[_SNAPSHOT] = {}
    try:
        yield
    finally:
        session.info.pop(_SNAPSHOT, None)


_SNAPSHOT = "analytics_live_rows"


def _copy(rows: DailyRows) -> DailyRows:
    """Rows a caller may change without changing the kept ones."""
    return DailyRows([dict(r) for r in rows.agents], [dict(r) for r in rows.models])


def live_rows(
    session: Session,
    live: set[date],
    agent_id: int | None,
    *,
    with_p95: bool = True,
    with_users: bool = True,
) -> DailyRows:
    memo = session.info.get(_SNAPSHOT)
    key = (frozenset(live), agent_id)
    if memo is not None and key in memo:
        (has_p95, has_users), kept = memo[key]
        if (has_p95 or not with_p95) and (has_users or not with_users):
            return _copy(kept)
    rows = DailyRows()
    prices = PriceBook.load(session) if live else None
    for run_start, run_end in day_runs(sorted(live)):
        computed = compute_daily(
            session,
            start=run_start,
            end=run_end,
            agent_id=agent_id,
            prices=prices,
            with_p95=with_p95,
            with_users=with_users,
        )
        rows.agents.extend(computed.agents)
        rows.models.extend(computed.models)
    if memo is not None:
        memo[key] = (with_p95, with_users), rows
        return _copy(rows)
    return rows


def _unpriced_names(
    session: Session, *, start: date, stop: date, live: set[date], agent_id: int | None
) -> list[dict[str, Any]]:
    """Closed days' unpriced models as `DailyRows.models` rows of name and `priced` only."""
    mm = DailyModelMetric.__table__.c
    # `= false`, not `IS false`: MariaDB reads the index (priced, date, model_name) for it.
    query = select(mm.model_name).where(mm.priced == false(), mm.date >= start, mm.date < stop)
    if live:
        query = query.where(mm.date.not_in(sorted(live)))
    if agent_id is not None:
        query = query.where(mm.agent_id == agent_id)
    return [{"model_name": n, "priced": False} for (n,) in session.execute(query.distinct())]


def stored_totals(
    session: Session,
    *,
    start: date,
    end: date,
    live: set[date],
    agent_id: int | None,
    per_model: bool = True,
) -> DailyRows:
    """Closed days' rollups summed in SQL: one agent-level row, one row per (model, priced);
    `per_model=False`: only the unpriced models' names (all a summary without a model filter
    needs of them)."""
    stop = min(end + timedelta(days=1), today_utc())
    out = DailyRows()
    m, mm = DailyMetric.__table__.c, DailyModelMetric.__table__.c
    if not per_model:
        out.models = _unpriced_names(session, start=start, stop=stop, live=live, agent_id=agent_id)
    for cols, target, group in (
        (m, out.agents, []),
        *([(mm, out.models, [mm.model_name, mm.priced])] if per_model else []),
    ):
        sums = [
            func.coalesce(func.sum(cols[f]), 0).label(f)
            for f in AGENT_FIELDS
            if f in cols
            and f not in ("avg_execution_ms", "p95_execution_ms", "unique_users", "priced")
        ]
        query = select(*group, *sums).where(cols.date >= start, cols.date < stop)
        if live:
            query = query.where(cols.date.not_in(sorted(live)))
        if agent_id is not None:
            query = query.where(cols.agent_id == agent_id)
        if group:
            query = query.group_by(*group)
        for r in session.execute(query):
            row = {k: int(v) if k in SUMMED_INTS else v for k, v in r._mapping.items()}
            row["cost_usd"] = Decimal(str(row["cost_usd"] or 0)).quantize(ZERO)
            target.append(row)
    return out


def daily_rows(
    session: Session, *, start: date, end: date, agent_id: int | None = None
) -> DailyRows:
    """Per (day, agent) and per (day, agent, model) rows for start..end inclusive.

    Closed days come from daily_metrics/daily_model_metrics; today, later days and days
    still queued for the rollup are computed live.
    """
    memo = session.info.get(_SNAPSHOT)
    kept = ("daily_rows", start, end, agent_id)
    if memo is not None and kept in memo:
        return _copy(memo[kept])
    stop = end + timedelta(days=1)
    today = today_utc()
    live = live_days(session, start, end)
    rows = DailyRows()
    for table, fields, target in (
        (DailyMetric.__table__, AGENT_FIELDS, rows.agents),
        (DailyModelMetric.__table__, MODEL_FIELDS, rows.models),
    ):
        key = ["date", "agent_id"] + (["model_name"] if "model_name" in table.c else [])
        query = select(*(table.c[c] for c in key + fields)).where(
            table.c.date >= start, table.c.date < min(stop, today)
        )
        if agent_id is not None:
            query = query.where(table.c.agent_id == agent_id)
        for r in session.execute(query):
            row = dict(r._mapping)
            row["date"] = as_date(row["date"])
            if row["date"] not in live:
                target.append(row)
    computed = live_rows(session, live, agent_id)
    rows.agents.extend(computed.agents)
    rows.models.extend(computed.models)
    for row in rows.agents + rows.models:
        row["cost_usd"] = Decimal(str(row["cost_usd"] or 0)).quantize(ZERO)
    if memo is not None:
        memo[kept] = rows
        return _copy(rows)
    return rows


def raw_stats(
    session: Session,
    *,
    start: date,
    end: date,
    agent_id: int | None,
    model_name: str | None,
    live: set[date] | None = None,
    executions: int | None = None,
) -> dict[str, Any]:
    """Unique users and the exact p95 over the range: a default view's from what the rollup job
    stored (window_read); else across agents (count known) from the days' stored sets
    (day_sets) where they tell; else users from the agents' daily_agent_user_sets (closed days)
    and the events (live days), p95 from the events (`executions` is their count if known)."""
    if live is None:
        live = live_days(session, start, end)
    read = RangeRead(start, end, live, today_utc(), agent_id, model_name)
    stored = window_read.range_figures(session, read)
    if stored is not None:  # a default view: its closed days as the rollup job stored them
        return {
            "unique_users": stored.unique_users.get(ALL_AGENTS, 0),
            "p95_execution_ms": stored.p95_execution_ms.get(ALL_AGENTS),
        }
    users, p95, known = None, None, False
    if agent_id is None and model_name is None and executions is not None:
        users, p95, known = day_sets.range_figures(
            session, start=start, end=end, live=live, today=read.today, executions=executions
        )
    if users is None:
        users = range_stats.unique_users(session, read)
    if not known:
        if executions is None:
            filters = range_filter(start, end + timedelta(days=1), agent_id)
            filters.append(U.event_type == "executed")
            if model_name is not None:
                filters.append(U.model_name == model_name)
            query = select(func.count()).select_from(UsageLog.__table__).where(*filters)
            executions = int(session.scalar(query) or 0)
        p95 = range_stats.p95(
            session,
            start=start,
            end=end,
            executions=executions,
            agent_id=agent_id,
            model_name=model_name,
        )
    return {"unique_users": users, "p95_execution_ms": p95}


def range_totals(rows: DailyRows, model_name: str | None) -> dict[str, Any]:
    if model_name is not None:
        picked = [r for r in rows.models if r["model_name"] == model_name]
        views = creations = deletions = None
    else:
        picked = rows.agents
        views = sum(r["views"] for r in picked)
        creations = sum(r["creations"] for r in picked)
        deletions = sum(r["deletions"] for r in picked)
    executions = sum(r["executions"] for r in picked)
    total_ms = sum(r["total_execution_ms"] for r in picked)
    return {
        "executions": executions,
        "views": views,
        "creations": creations,
        "deletions": deletions,
        "total_tokens": sum(r["total_tokens"] for r in picked),
        "avg_execution_ms": total_ms / executions if executions else None,
        "cost_usd": sum((r["cost_usd"] for r in picked), ZERO),
    }
