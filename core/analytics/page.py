"""Everything the dashboard's Analytics page shows for one set of filters, from one read: the
live days' rows (today's events) are computed once and shared by the daily and model series,
the agent table and the top users (`figures.live_snapshot`), instead of once per figure."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from core.analytics.export import latency_series
from core.analytics.figures import live_snapshot
from core.analytics.queries import summary
from core.analytics.tables import agent_table, daily_series, model_series, top_users


def analytics_page(
    session: Session,
    *,
    start: date,
    end: date,
    agent_id: int | None = None,
    model_name: str | None = None,
    limit: int = 10,
) -> dict[str, Any]:
    """`{"summary", "daily_series", "model_series", "agent_table", "top_users",
    "latency_series"}`: each what the function of that name returns for these filters
    (`limit` top users)."""
    filters = {"start": start, "end": end, "agent_id": agent_id, "model_name": model_name}
    with live_snapshot(session):
        return {
            "summary": summary(session, **filters),
            "daily_series": daily_series(session, **filters),
            "model_series": model_series(session, **filters),
            "agent_table": agent_table(session, **filters),
            "top_users": top_users(session, **filters, limit=limit),
            "latency_series": latency_series(session, **filters),
        }
