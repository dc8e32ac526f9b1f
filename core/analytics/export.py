"""Raw events for download, CSV text safe to open in a spreadsheet, and exact per-day
latency percentiles, for a date range.

Ranges are `start`..`end` inclusive UTC days, like the other dashboard queries.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.analytics import day_latency
from core.analytics.compute import U, event_filters
from core.analytics.figures import check_range, today_utc
from core.models import UsageLog

EXPORT_COLUMNS = (
    "created_at",
    "agent_id",
    "event_type",
    "user",
    "model_name",
    "tokens_used",
    "execution_time_ms",
)


# OWASP "CSV Injection": a cell starting with one of these is read as a formula by Excel,
# LibreOffice and Google Sheets (tab and carriage return too, once a spreadsheet trims them).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise_cell(value: Any) -> Any:
    """`value`, with text that a spreadsheet would run as a formula prefixed by `'`.

    Only text is touched: numbers the export itself writes (a negative amount) stay numbers.
    """
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_text(rows: Iterable[Mapping[str, Any]], *, columns: Sequence[str]) -> str:
    """`rows` as CSV text with a header row, every text cell neutralised (`neutralise_cell`).

    Missing values (None, NaN) are empty cells; cells holding a separator, quote or line break
    are quoted.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer)  # RFC 4180: CRLF rows, so a lone CR or LF in a cell is quoted
    writer.writerow([neutralise_cell(c) for c in columns])
    for row in rows:
        writer.writerow([_cell(row.get(c)) for c in columns])
    return buffer.getvalue()


def _cell(value: Any) -> Any:
    if value is None or value != value:  # noqa: PLR0124 - NaN (and pandas' NaT) is not itself
        return ""
    return neutralise_cell(value)


def _filters(start: date, end: date, agent_id: int | None, model_name: str | None) -> list:
    check_range(start, end)
    return event_filters(start, end, agent_id, model_name)


def export_events(
    session: Session,
    *,
    start: date,
    end: date,
    agent_id: int | None = None,
    model_name: str | None = None,
    batch_size: int = 5000,
) -> Iterator[dict[str, Any]]:
    """The filtered events, oldest first, streamed in batches (one dict per event)."""
    query = (
        select(
            U.created_at,
            U.agent_id,
            U.event_type,
            U.user_id,
            U.model_name,
            U.tokens_used,
            U.execution_time_ms,
        )
        .where(*_filters(start, end, agent_id, model_name))
        .order_by(U.created_at, U.id)
        .execution_options(yield_per=batch_size)
    )
    created_at_type = UsageLog.__table__.c.created_at.type
    process = created_at_type.result_processor(session.get_bind().dialect, None)
    for row in session.execute(query):
        at = row.created_at
        if isinstance(at, str) and process is not None:
            at = process(at)
        yield {
            "created_at": at.isoformat().replace("+00:00", "Z") if at else None,
            "agent_id": row.agent_id,
            "event_type": row.event_type,
            "user": row.user_id,
            "model_name": row.model_name,
            "tokens_used": row.tokens_used,
            "execution_time_ms": row.execution_time_ms,
        }


def latency_series(
    session: Session,
    *,
    start: date,
    end: date,
    agent_id: int | None = None,
    model_name: str | None = None,
) -> list[dict[str, Any]]:
    """Per day with executions: `date`, `executions`, exact `p50_execution_ms` and
    `p95_execution_ms` (nearest rank: the ⌈p·n⌉-th smallest time); closed days as the rollup
    job stored them (core.analytics.day_latency), the others from the events."""
    check_range(start, end)
    if model_name is None:
        return day_latency.series(
            session, start=start, end=end, today=today_utc(), agent_id=agent_id
        )
    rows = day_latency.from_events(
        session, start=start, end=end, agent_id=agent_id, model_name=model_name
    )
    return [{k: v for k, v in r.items() if k != "agent_id"} for r in rows]
