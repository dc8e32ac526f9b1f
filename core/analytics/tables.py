"""Tables and series for the dashboard: per (day, agent), per (day, model), per agent, top
users, unpriced models. Ranges are `start`..`end` inclusive UTC days; money is Decimal."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.analytics import user_ranking, window_read
from core.analytics.compute import DailyRows, RangeRead, U, range_filter
from core.analytics.figures import (
    ZERO,
    check_range,
    daily_rows,
    live_days,
    range_totals,
    today_utc,
)
from core.analytics.range_stats import p95_by_agent, unique_users_by_agent
from core.models import Agent, DailyModelMetric


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
    check_range(start, end)
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
    check_range(start, end)
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


def _range_figures(
    session: Session,
    *,
    start: date,
    end: date,
    agent_id: int | None,
    model_name: str | None,
) -> tuple[dict[int, int], dict[int, float]]:
    """Every agent's unique users and p95 over the range: a default view's stored closed days
    plus today's events (core.analytics.windows), else one statement each over the events."""
    live = live_days(session, start, end)
    read = RangeRead(start, end, live, today_utc(), agent_id, model_name)
    stored = window_read.range_figures(session, read)
    if stored is not None:
        return stored.unique_users, stored.p95_execution_ms
    users = unique_users_by_agent(session, read)
    return users, p95_by_agent(
        session, start=start, end=end, agent_id=agent_id, model_name=model_name
    )


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
    `cost_usd` (Decimal), `models` (list of model names used). With `model_name`, the
    figures are that model's, but `views` stays the agent's (views carry no model).
    """
    check_range(start, end)
    rows = daily_rows(session, start=start, end=end, agent_id=agent_id)
    per_agent: dict[int, DailyRows] = defaultdict(DailyRows)
    for r in rows.agents:
        per_agent[r["agent_id"]].agents.append(r)
    for r in rows.models:
        per_agent[r["agent_id"]].models.append(r)
    names = _agent_names(session, set(per_agent))
    users, p95s = _range_figures(
        session, start=start, end=end, agent_id=agent_id, model_name=model_name
    )
    out = []
    for aid, agent_rows in per_agent.items():
        totals = range_totals(agent_rows, model_name)
        if model_name is not None and not totals["executions"]:
            continue
        out.append(
            {
                "agent_id": aid,
                "agent_name": names.get(aid, f"#{aid}"),
                "executions": totals["executions"],
                # A view has no model: with a model filter, still the agent's views.
                "views": sum(r["views"] for r in agent_rows.agents),
                "total_tokens": totals["total_tokens"],
                "unique_users": users.get(aid, 0),
                "avg_execution_ms": totals["avg_execution_ms"],
                "p95_execution_ms": p95s.get(aid),
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
    """The most active users (by events) in the range: closed days ranked from the rollup's
    per-user counts, today's and queued days' from the events.

    Keys: `user`, `events`, `executions`, `total_tokens`, `agents` (distinct agents used),
    `last_seen` (aware UTC datetime).
    """
    check_range(start, end)
    live = live_days(session, start, end)
    read = RangeRead(start, end, live, today_utc(), agent_id, model_name)
    return user_ranking.top_users(session, read, limit=max(1, min(int(limit), 1000)))


def unpriced_models(session: Session, *, start: date, end: date) -> list[dict[str, Any]]:
    """Models used in the range that no price matches: `[{"model_name", "executions",
    "total_tokens"}]`, most tokens first."""
    check_range(start, end)
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
