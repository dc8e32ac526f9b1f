"""Cached reads of core.analytics for the pages (st.cache_data; cleared after dashboard writes).

Each function takes the database URL first so that two databases never share cache entries.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

import streamlit as st

from core import analytics as core_analytics
from core.analytics import coverage, downloads
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


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def _comparison(url: str, **filters: Any) -> coverage.Comparison:
    with reading() as session:
        return coverage.comparison(session, **filters)


def comparison(**filters: Any) -> coverage.Comparison:
    """Whether the change figures may be shown for these filters (core.analytics.coverage)."""
    return _comparison(database_url(), **filters)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def _agent_models(url: str, agent_id: int) -> list[str]:
    with reading() as session:
        return coverage.agent_models(session, agent_id=agent_id)


def model_choices(agent_id: int | None) -> list[str]:
    """Models for the model filter: every model, or the picked agent's."""
    if agent_id is None:
        return query("model_names")
    return _agent_models(database_url(), agent_id)


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
    """A shown table as spreadsheet-safe CSV text (formulas neutralised, like the events;
    times rounded to 0.1 ms)."""
    rows = downloads.rounded_rows(frame.to_dict("records"))
    return core_analytics.csv_text(rows, columns=list(frame.columns))


def file_name(kind: str, **filters: Any) -> str:
    """A download's name carrying the filters (core.analytics.downloads.export_file_name)."""
    return downloads.export_file_name(kind, **filters)
