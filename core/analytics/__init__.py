"""Usage analytics: event ingest, exact daily rollups, model prices, and the queries the
dashboard, CLI and HTTP API read (see docs/analytics.md)."""

from core.analytics.events import EventError, EventsRejected
from core.analytics.export import csv_text, export_events, latency_series
from core.analytics.figures import daily_rows
from core.analytics.ingest import log_event, log_events
from core.analytics.page import analytics_page
from core.analytics.prices import (
    PriceBook,
    delete_price,
    list_prices,
    seed_default_prices,
    set_price,
)
from core.analytics.queries import SUMMARY_KEYS, daily_metrics, summary
from core.analytics.rollup import (
    RollupResult,
    pending_days,
    reprice,
    rollup_all,
    rollup_date,
    rollup_pending,
)
from core.analytics.runner import roll_up
from core.analytics.tables import (
    agent_table,
    daily_series,
    model_names,
    model_series,
    to_frame,
    top_users,
    unpriced_models,
)

__all__ = [
    "analytics_page",
    "csv_text",
    "export_events",
    "latency_series",
    "SUMMARY_KEYS",
    "EventError",
    "EventsRejected",
    "PriceBook",
    "RollupResult",
    "agent_table",
    "daily_metrics",
    "daily_rows",
    "daily_series",
    "delete_price",
    "list_prices",
    "log_event",
    "log_events",
    "model_names",
    "model_series",
    "pending_days",
    "reprice",
    "roll_up",
    "rollup_all",
    "rollup_date",
    "rollup_pending",
    "seed_default_prices",
    "set_price",
    "summary",
    "to_frame",
    "top_users",
    "unpriced_models",
]
