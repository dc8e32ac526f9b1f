"""One closed day's figures straight from the rollups: the hot path of `daily_metrics`.

A day is closed when it is before today (UTC) and not queued for the rollup; its figures are
then exactly the stored rows. Statements are built once (bound parameters), so a call costs
four small indexed reads: the queue entry, the day's sums, its unpriced models, and — across
agents — the day's distinct users and p95 stored by the rollup in daily_totals.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, false, func, select
from sqlalchemy.orm import Session

from core.analytics import agent_sets, range_stats
from core.models import DailyMetric, DailyModelMetric, DailyTotal, RollupQueue

_M = DailyMetric.__table__.c
_MM = DailyModelMetric.__table__.c
_DAY = bindparam("day")
_AGENT = bindparam("agent")

_QUEUED = select(RollupQueue.__table__.c.date).where(RollupQueue.__table__.c.date == _DAY)
_SUM_COLUMNS = [
    "executions",
    "views",
    "creations",
    "deletions",
    "total_tokens",
    "total_execution_ms",
    "cost_usd",
]


def _sums(one_agent: bool):  # noqa: ANN202
    query = select(
        *(func.coalesce(func.sum(_M[c]), 0).label(c) for c in _SUM_COLUMNS),
        func.max(_M.unique_users).label("unique_users"),
        func.max(_M.p95_execution_ms).label("p95"),
    ).where(_M.date == _DAY)
    return query.where(_M.agent_id == _AGENT) if one_agent else query


def _unpriced(one_agent: bool):  # noqa: ANN202
    query = select(_MM.model_name).where(_MM.date == _DAY, _MM.priced == false()).distinct()
    return query.where(_MM.agent_id == _AGENT) if one_agent else query


_STATEMENTS = {one: (_sums(one), _unpriced(one)) for one in (False, True)}
_TOTALS = select(
    DailyTotal.__table__.c.unique_users, DailyTotal.__table__.c.p95_execution_ms
).where(DailyTotal.__table__.c.date == _DAY)


def is_queued(session: Session, day: date) -> bool:
    return session.execute(_QUEUED, {"day": day}).first() is not None


def closed_day_figures(session: Session, *, day: date, agent_id: int | None) -> dict[str, Any]:
    """`daily_metrics` keys for a closed day (the caller checked it is closed)."""
    sums, unpriced = _STATEMENTS[agent_id is not None]
    params = {"day": day, "agent": agent_id}
    row = session.execute(sums, params).one()
    executions = int(row.executions)
    has_events = bool(executions or row.views or row.creations or row.deletions)
    if agent_id is not None or not has_events:
        # One agent: its stored row holds the exact uniques and p95 (max over one row).
        users, p95 = int(row.unique_users or 0), row.p95
    else:  # across agents: a user of two agents counts once — stored by the rollup
        totals = session.execute(_TOTALS, params).first()
        if totals is not None:
            users, p95 = int(totals.unique_users), totals.p95_execution_ms
        else:  # rolled up before daily_totals existed
            users = agent_sets.day_user_count(session, day)
            p95 = range_stats.p95(session, start=day, end=day, executions=executions)
    total_ms = int(row.total_execution_ms)
    return {
        "date": day.isoformat(),
        "agent_id": agent_id,
        "executions": executions,
        "views": int(row.views),
        "creations": int(row.creations),
        "deletions": int(row.deletions),
        "total_tokens": int(row.total_tokens),
        "unique_users": users,
        "avg_execution_ms": total_ms / executions if executions else None,
        "p95_execution_ms": float(p95) if p95 is not None else None,
        "cost_usd": str(Decimal(str(row.cost_usd or 0)).quantize(Decimal("0.000001"))),
        "unpriced_models": sorted(m for (m,) in session.execute(unpriced, params)),
        "source": "rollup",
    }
