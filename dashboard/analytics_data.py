"""Cached reads of core.analytics for the pages (st.cache_data; cleared after dashboard writes).

Each function takes the database URL first so that two databases never share cache entries.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

import streamlit as st

from core import analytics as core_analytics
from core.models import utcnow
from dashboard.db import database_url, reading

if TYPE_CHECKING:
    import pandas as pd

TTL_SECONDS = 300


def has(name: str) -> bool:
    """Whether core.analytics offers `name` (optional queries the page uses when present)."""
    return hasattr(core_analytics, name)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def _query(url: str, name: str, **kwargs: Any) -> Any:
    with reading() as session:
        return getattr(core_analytics, name)(session, **kwargs)


def query(name: str, **kwargs: Any) -> Any:
    """`core.analytics.<name>(session, **kwargs)`, cached for TTL_SECONDS."""
    return _query(database_url(), name, **kwargs)


def today_summary() -> dict[str, Any]:
    """Today's (UTC) headline figures."""
    today = utcnow().date()
    return query("summary", start=today, end=today)


def range_kwargs(
    start: date, end: date, agent_id: int | None, model_name: str | None
) -> dict[str, Any]:
    return {"start": start, "end": end, "agent_id": agent_id, "model_name": model_name}


def events_csv(**filters: Any) -> str:
    """The filtered raw events as spreadsheet-safe CSV text (core.analytics.export_events)."""
    from core.analytics.export import EXPORT_COLUMNS

    with reading() as session:
        rows = core_analytics.export_events(session, **filters)
        return core_analytics.csv_text(rows, columns=EXPORT_COLUMNS)


def table_csv(frame: pd.DataFrame) -> str:
    """A shown table as spreadsheet-safe CSV text (formulas neutralised, like the events)."""
    return core_analytics.csv_text(frame.to_dict("records"), columns=list(frame.columns))
