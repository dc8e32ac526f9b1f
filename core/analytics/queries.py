"""Read side for the dashboard, CLI and HTTP: figures for a date range, from the rollups for
closed days and computed live for today (and any day with events not rolled up yet), so the
numbers are never stale.

Dates are UTC calendar days; every range is `start`..`end` **inclusive**. Money is `Decimal`
(`cost_usd`); `to_frame(rows)` gives a pandas DataFrame with money as float for charts.
Unique users and p95 over a range are computed from the events themselves (a sum of daily
uniques would count a returning user once per day). p95 = nearest-rank 95th percentile.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.analytics.closed_day import closed_day_figures, is_queued
from core.analytics.figures import (
    check_range,
    live_days,
    live_rows,
    live_snapshot,
    range_totals,
    raw_stats,
    stored_totals,
    today_utc,
)
from core.analytics.today import live_totals
from core.models import DailyMetric


def _period(
    session: Session, *, start: date, end: date, agent_id: int | None, model_name: str | None
) -> dict[str, Any]:
    live = live_days(session, start, end)
    rows = stored_totals(
        session,
        start=start,
        end=end,
        live=live,
        agent_id=agent_id,
        per_model=model_name is not None,
    )
    # Range uniques and p95 come below (raw_stats): the live days' sums are all it needs.
    computed = live_totals(session, live, agent_id)
    rows.agents.extend(computed.agents)
    rows.models.extend(computed.models)
    figures = {"start": start.isoformat(), "end": end.isoformat()}
    figures |= range_totals(rows, model_name)
    figures |= raw_stats(
        session,
        start=start,
        end=end,
        agent_id=agent_id,
        model_name=model_name,
        live=live,
        executions=figures["executions"],
    )
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
    check_range(start, end)
    length = (end - start).days + 1
    with live_snapshot(session):  # both periods: one read of the rollup queue
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


def daily_metrics(session: Session, *, day: date, agent_id: int | None = None) -> dict[str, Any]:
    """One day's figures (all agents, or one), as `analytics metrics --json` prints them.

    Keys: `date` (ISO), `agent_id`, `executions`, `views`, `creations`, `deletions`,
    `total_tokens`, `unique_users`, `avg_execution_ms`, `p95_execution_ms`, `cost_usd` (str),
    `unpriced_models`, `source` ("rollup" or "live").
    """
    live = day >= today_utc() or is_queued(session, day)
    if not live:
        return closed_day_figures(session, day=day, agent_id=agent_id)
    if live:
        rows = live_rows(session, {day}, agent_id)
        agent_row = rows.agents[0] if agent_id is not None and rows.agents else None
    else:  # closed: the rollups summed in SQL
        rows = stored_totals(session, start=day, end=day, live=set(), agent_id=agent_id)
        agent_row = None
        if agent_id is not None:
            m = DailyMetric.__table__.c
            found = session.execute(
                select(m.unique_users, m.p95_execution_ms).where(
                    m.date == day, m.agent_id == agent_id
                )
            ).first()
            agent_row = dict(found._mapping) if found else None
    figures = range_totals(rows, None)
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
        figures |= raw_stats(
            session,
            start=day,
            end=day,
            agent_id=None,
            model_name=None,
            live={day} if live else set(),
            executions=figures["executions"],
        )
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
