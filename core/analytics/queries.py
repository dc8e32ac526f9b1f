"""Read side for the dashboard, CLI and HTTP: figures for a date range, from the rollups for
closed days and computed live for today (and any day with events not rolled up yet), so the
numbers are never stale.

Dates are UTC calendar days; every range is `start`..`end` **inclusive**. Money is `Decimal`
(`cost_usd`); `to_frame(rows)` gives a pandas DataFrame with money as float for charts.
Unique users and p95 over a range are computed from the events themselves (a sum of daily
uniques would count a returning user once per day). p95 = nearest-rank 95th percentile.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from core.analytics.compute import DailyRows, U, compute_daily, range_filter
from core.analytics.prices import PriceBook
from core.analytics.rollup import AGENT_FIELDS, MODEL_FIELDS, pending_days
from core.analytics.sql import as_date, dialect_name
from core.errors import ValidationError
from core.models import Agent, DailyMetric, DailyModelMetric, UsageLog

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


def _check_range(start: date, end: date) -> None:
    if end < start:
        raise ValidationError(f"end {end} is before start {start}; give start <= end")
    if (end - start).days > MAX_RANGE_DAYS:
        raise ValidationError(f"a range may cover at most {MAX_RANGE_DAYS} days")


def _runs(days: list[date]) -> list[tuple[date, date]]:
    runs: list[tuple[date, date]] = []
    for day in sorted(days):
        if runs and runs[-1][1] == day:
            runs[-1] = (runs[-1][0], day + timedelta(days=1))
        else:
            runs.append((day, day + timedelta(days=1)))
    return runs


def _live_days(session: Session, start: date, end: date) -> set[date]:
    """Days of start..end computed live: today and later, and days queued for the rollup."""
    today = today_utc()
    live = {d for d in pending_days(session) if start <= d <= end}
    stop = end + timedelta(days=1)
    if stop > today:
        live.update(today + timedelta(days=i) for i in range((stop - max(today, start)).days))
    return live


def _live_rows(session: Session, live: set[date], agent_id: int | None) -> DailyRows:
    rows = DailyRows()
    prices = PriceBook.load(session) if live else None
    for run_start, run_end in _runs(sorted(live)):
        computed = compute_daily(
            session, start=run_start, end=run_end, agent_id=agent_id, prices=prices
        )
        rows.agents.extend(computed.agents)
        rows.models.extend(computed.models)
    return rows


def _stored_totals(
    session: Session, *, start: date, end: date, live: set[date], agent_id: int | None
) -> DailyRows:
    """Closed days' rollups summed in SQL: one agent-level row, one row per (model, priced)."""
    stop = min(end + timedelta(days=1), today_utc())
    out = DailyRows()
    m, mm = DailyMetric.__table__.c, DailyModelMetric.__table__.c
    for cols, target, group in (
        (m, out.agents, []),
        (mm, out.models, [mm.model_name, mm.priced]),
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
    stop = end + timedelta(days=1)
    today = today_utc()
    live = _live_days(session, start, end)
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
    computed = _live_rows(session, live, agent_id)
    rows.agents.extend(computed.agents)
    rows.models.extend(computed.models)
    for row in rows.agents + rows.models:
        row["cost_usd"] = Decimal(str(row["cost_usd"] or 0)).quantize(ZERO)
    return rows


def _raw_stats(
    session: Session,
    *,
    start: date,
    end: date,
    agent_id: int | None,
    model_name: str | None,
) -> dict[str, Any]:
    """Unique users and exact p95 over the whole range, from usage_logs."""
    filters = range_filter(start, end + timedelta(days=1), agent_id)
    executed = U.event_type == "executed"
    if model_name is not None:
        filters += [executed, U.model_name == model_name]
    if dialect_name(session) == "postgresql":
        # PostgreSQL sorts for COUNT(DISTINCT); a DISTINCT subquery is hashed (much faster).
        users = select(U.user_id).where(*filters, U.user_id != "").distinct().subquery()
        uniques = session.scalar(select(func.count()).select_from(users))
        executions = session.scalar(
            select(func.count()).where(*filters, executed).select_from(UsageLog.__table__)
        )
    else:
        uniques, executions = session.execute(
            select(
                func.count(func.nullif(U.user_id, "").distinct()),
                func.coalesce(func.sum(case((executed, 1), else_=0)), 0),
            ).where(*filters)
        ).one()
    return {
        "unique_users": int(uniques or 0),
        "p95_execution_ms": _p95(session, filters=filters, n=int(executions or 0)),
    }


def _p95(session: Session, *, filters: list, n: int) -> float | None:
    if n == 0:
        return None
    rank = -(-95 * n // 100)  # ⌈0.95·n⌉, ascending
    # The same row counted from the top: the sort only keeps the top 5 %.
    value = session.scalar(
        select(U.execution_time_ms)
        .where(*filters, U.event_type == "executed")
        .order_by(U.execution_time_ms.desc())
        .limit(1)
        .offset(n - rank)
    )
    return float(value) if value is not None else None


def _totals(rows: DailyRows, model_name: str | None) -> dict[str, Any]:
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


def _period(
    session: Session, *, start: date, end: date, agent_id: int | None, model_name: str | None
) -> dict[str, Any]:
    live = _live_days(session, start, end)
    rows = _stored_totals(session, start=start, end=end, live=live, agent_id=agent_id)
    computed = _live_rows(session, live, agent_id)
    rows.agents.extend(computed.agents)
    rows.models.extend(computed.models)
    figures = {"start": start.isoformat(), "end": end.isoformat()}
    figures |= _totals(rows, model_name)
    figures |= _raw_stats(session, start=start, end=end, agent_id=agent_id, model_name=model_name)
    figures["unpriced_models"] = sorted(
        {r["model_name"] for r in rows.models if not r["priced"] and r["model_name"]}
        & ({model_name} if model_name else {r["model_name"] for r in rows.models})
    )
    return figures


def _change(now: Any, before: Any) -> float | None:
    if now is None or before is None or before == 0:
        return None
    return float((Decimal(str(now)) - Decimal(str(before))) / Decimal(str(before)) * 100)


SUMMARY_KEYS = [
    "executions",
    "views",
    "total_tokens",
    "unique_users",
    "avg_execution_ms",
    "p95_execution_ms",
    "cost_usd",
]


def summary(
    session: Session,
    *,
    start: date,
    end: date,
    agent_id: int | None = None,
    model_name: str | None = None,
) -> dict[str, Any]:
    """Headline figures for start..end (inclusive) and for the previous period of equal length.

    Returns `{"start", "end", "executions", "views", "creations", "deletions", "total_tokens",
    "unique_users", "avg_execution_ms", "p95_execution_ms", "cost_usd" (Decimal),
    "unpriced_models": [str], "previous": {same keys}, "change_pct": {key: float | None}}`.
    With `model_name`, figures are for that model's executions (views etc. are None).
    """
    _check_range(start, end)
    length = (end - start).days + 1
    current = _period(session, start=start, end=end, agent_id=agent_id, model_name=model_name)
    previous = _period(
        session,
        start=start - timedelta(days=length),
        end=start - timedelta(days=1),
        agent_id=agent_id,
        model_name=model_name,
    )
    current["previous"] = previous
    current["change_pct"] = {k: _change(current[k], previous[k]) for k in SUMMARY_KEYS}
    return current


def _agent_names(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    query = select(Agent.id, Agent.name).where(Agent.id.in_(sorted(ids)))
    return dict(session.execute(query).all())


def daily_series(
    session: Session,
    *,
    start: date,
    end: date,
    agent_id: int | None = None,
    model_name: str | None = None,
) -> list[dict[str, Any]]:
    """One row per (date, agent) with events, ordered by date then agent.

    Keys: `date` (date), `agent_id`, `agent_name`, `executions`, `views`, `creations`,
    `deletions`, `total_tokens`, `unique_users`, `avg_execution_ms`, `p95_execution_ms`,
    `cost_usd` (Decimal). With `model_name`: only that model's executions, tokens, average
    time and cost (the other figures are None).
    """
    _check_range(start, end)
    rows = daily_rows(session, start=start, end=end, agent_id=agent_id)
    if model_name is None:
        out = [dict(r) for r in rows.agents]
        for r in out:
            r.pop("total_execution_ms", None)
    else:
        out = []
        for r in rows.models:
            if r["model_name"] != model_name:
                continue
            out.append(
                {
                    "date": r["date"],
                    "agent_id": r["agent_id"],
                    "executions": r["executions"],
                    "views": None,
                    "creations": None,
                    "deletions": None,
                    "total_tokens": r["total_tokens"],
                    "unique_users": None,
                    "avg_execution_ms": r["total_execution_ms"] / r["executions"]
                    if r["executions"]
                    else None,
                    "p95_execution_ms": None,
                    "cost_usd": r["cost_usd"],
                }
            )
    names = _agent_names(session, {r["agent_id"] for r in out})
    for r in out:
        r["agent_name"] = names.get(r["agent_id"], f"#{r['agent_id']}")
    return sorted(out, key=lambda r: (r["date"], r["agent_id"]))


def model_series(
    session: Session,
    *,
    start: date,
    end: date,
    agent_id: int | None = None,
    model_name: str | None = None,
) -> list[dict[str, Any]]:
    """One row per (date, model) with executions, ordered by date then model.

    Keys: `date`, `model_name`, `executions`, `total_tokens`, `avg_execution_ms`,
    `cost_usd` (Decimal), `priced` (bool: a price matched).
    """
    _check_range(start, end)
    rows = daily_rows(session, start=start, end=end, agent_id=agent_id)
    grouped: dict[tuple[date, str], dict[str, Any]] = {}
    for r in rows.models:
        if model_name is not None and r["model_name"] != model_name:
            continue
        g = grouped.setdefault(
            (r["date"], r["model_name"]),
            {
                "date": r["date"],
                "model_name": r["model_name"],
                "executions": 0,
                "total_tokens": 0,
                "total_execution_ms": 0,
                "cost_usd": ZERO,
                "priced": bool(r["priced"]),
            },
        )
        for k in ("executions", "total_tokens", "total_execution_ms", "cost_usd"):
            g[k] += r[k]
    out = []
    for g in grouped.values():
        total_ms = g.pop("total_execution_ms")
        g["avg_execution_ms"] = total_ms / g["executions"] if g["executions"] else None
        out.append(g)
    return sorted(out, key=lambda r: (r["date"], r["model_name"]))


def agent_table(
    session: Session,
    *,
    start: date,
    end: date,
    agent_id: int | None = None,
    model_name: str | None = None,
) -> list[dict[str, Any]]:
    """One row per agent with events in the range, most executions first.

    Keys: `agent_id`, `agent_name`, `executions`, `views`, `total_tokens`, `unique_users`
    (distinct over the range), `avg_execution_ms`, `p95_execution_ms` (over the range),
    `cost_usd` (Decimal), `models` (list of model names used).
    """
    _check_range(start, end)
    rows = daily_rows(session, start=start, end=end, agent_id=agent_id)
    per_agent: dict[int, DailyRows] = defaultdict(DailyRows)
    for r in rows.agents:
        per_agent[r["agent_id"]].agents.append(r)
    for r in rows.models:
        per_agent[r["agent_id"]].models.append(r)
    names = _agent_names(session, set(per_agent))
    out = []
    for aid, agent_rows in per_agent.items():
        totals = _totals(agent_rows, model_name)
        if model_name is not None and not totals["executions"]:
            continue
        stats = _raw_stats(session, start=start, end=end, agent_id=aid, model_name=model_name)
        out.append(
            {
                "agent_id": aid,
                "agent_name": names.get(aid, f"#{aid}"),
                "executions": totals["executions"],
                "views": totals["views"],
                "total_tokens": totals["total_tokens"],
                "unique_users": stats["unique_users"],
                "avg_execution_ms": totals["avg_execution_ms"],
                "p95_execution_ms": stats["p95_execution_ms"],
                "cost_usd": totals["cost_usd"],
                "models": sorted({m["model_name"] for m in agent_rows.models}),
            }
        )
    return sorted(out, key=lambda r: (-r["executions"], r["agent_id"]))


def top_users(
    session: Session,
    *,
    start: date,
    end: date,
    agent_id: int | None = None,
    model_name: str | None = None,
    limit: int = 10,
) -> list[dict[str, Any]]:
    """The most active users (by events) in the range.

    Keys: `user`, `events`, `executions`, `total_tokens`, `agents` (distinct agents used),
    `last_seen` (aware UTC datetime).
    """
    _check_range(start, end)
    filters = range_filter(start, end + timedelta(days=1), agent_id)
    if model_name is not None:
        filters += [U.event_type == "executed", U.model_name == model_name]
    executed = U.event_type == "executed"
    events = func.count().label("events")
    query = (
        select(
            U.user_id,
            events,
            func.sum(case((executed, 1), else_=0)).label("executions"),
            func.sum(case((executed, U.tokens_used), else_=0)).label("total_tokens"),
            func.count(U.agent_id.distinct()).label("agents"),
            func.max(U.created_at).label("last_seen"),
        )
        .where(*filters, U.user_id != "")
        .group_by(U.user_id)
        .order_by(events.desc(), U.user_id)
        .limit(max(1, min(int(limit), 1000)))
    )
    return [
        {
            "user": r.user_id,
            "events": int(r.events),
            "executions": int(r.executions or 0),
            "total_tokens": int(r.total_tokens or 0),
            "agents": int(r.agents),
            "last_seen": r.last_seen,
        }
        for r in session.execute(query)
    ]


def daily_metrics(session: Session, *, day: date, agent_id: int | None = None) -> dict[str, Any]:
    """One day's figures (all agents, or one), as `analytics metrics --json` prints them.

    Keys: `date` (ISO), `agent_id`, `executions`, `views`, `creations`, `deletions`,
    `total_tokens`, `unique_users`, `avg_execution_ms`, `p95_execution_ms`, `cost_usd` (str),
    `unpriced_models`, `source` ("rollup" or "live").
    """
    live = bool(_live_days(session, day, day))
    if live:
        rows = _live_rows(session, {day}, agent_id)
        agent_row = rows.agents[0] if agent_id is not None and rows.agents else None
    else:  # closed: the rollups summed in SQL
        rows = _stored_totals(session, start=day, end=day, live=set(), agent_id=agent_id)
        agent_row = None
        if agent_id is not None:
            m = DailyMetric.__table__.c
            found = session.execute(
                select(m.unique_users, m.p95_execution_ms).where(
                    m.date == day, m.agent_id == agent_id
                )
            ).first()
            agent_row = dict(found._mapping) if found else None
    figures = _totals(rows, None)
    has_events = bool(
        figures["executions"] or figures["views"] or figures["creations"] or figures["deletions"]
    )
    if agent_row is not None:
        figures["unique_users"] = agent_row["unique_users"]
        figures["p95_execution_ms"] = agent_row["p95_execution_ms"]
    elif agent_id is not None or not has_events:
        figures["unique_users"] = 0
        figures["p95_execution_ms"] = None
    else:  # across agents: a user of two agents counts once
        figures |= _raw_stats(session, start=day, end=day, agent_id=None, model_name=None)
    return {
        "date": day.isoformat(),
        "agent_id": agent_id,
        "executions": figures["executions"],
        "views": figures["views"],
        "creations": figures["creations"],
        "deletions": figures["deletions"],
        "total_tokens": figures["total_tokens"],
        "unique_users": figures["unique_users"],
        "avg_execution_ms": figures["avg_execution_ms"],
        "p95_execution_ms": figures["p95_execution_ms"],
        "cost_usd": str(figures["cost_usd"]),
        "unpriced_models": sorted({r["model_name"] for r in rows.models if not r["priced"]}),
        "source": "live" if live else "rollup",
    }


def unpriced_models(session: Session, *, start: date, end: date) -> list[dict[str, Any]]:
    """Models used in the range that no price matches: `[{"model_name", "executions",
    "total_tokens"}]`, most tokens first."""
    _check_range(start, end)
    rows = daily_rows(session, start=start, end=end)
    found: dict[str, dict[str, Any]] = {}
    for r in rows.models:
        if r["priced"]:
            continue
        g = found.setdefault(
            r["model_name"], {"model_name": r["model_name"], "executions": 0, "total_tokens": 0}
        )
        g["executions"] += r["executions"]
        g["total_tokens"] += r["total_tokens"]
    return sorted(found.values(), key=lambda g: (-g["total_tokens"], g["model_name"]))


def model_names(session: Session) -> list[str]:
    """Every model name seen in rollups or today's events (for filter pickers)."""
    names = set(session.scalars(select(DailyModelMetric.model_name).distinct()))
    today = today_utc()
    names.update(
        session.scalars(
            select(U.model_name)
            .where(*range_filter(today, today + timedelta(days=2)), U.model_name.is_not(None))
            .distinct()
        )
    )
    return sorted(n for n in names if n)


def to_frame(rows: list[dict[str, Any]]):  # noqa: ANN201
    """A pandas DataFrame of query rows with Decimal money as float (for charts)."""
    import pandas as pd

    frame = pd.DataFrame(rows)
    if "cost_usd" in frame:
        frame["cost_usd"] = frame["cost_usd"].astype(float)
    return frame
