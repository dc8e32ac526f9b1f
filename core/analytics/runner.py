"""Rollups as the CLI, the HTTP endpoint and the jobs run them: computed into temporary
tables in a read transaction, then stored in a short write transaction on the same
connection — on SQLite (one writer at a time) ingest never waits for the computation, only
for the few UPDATE/INSERT/DELETE statements that copy the finished rows."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.orm import Session

from core.analytics import day_latency, windows
from core.analytics.partitions import retained_since
from core.analytics.rollup import (
    Computed,
    RollupResult,
    compute_all,
    compute_range,
    pending_runs,
    store_computed,
)
from core.db import get_engine, session_scope
from core.errors import ValidationError
from core.models import utcnow


def _total(a: RollupResult, b: RollupResult) -> RollupResult:
    return RollupResult(a.days + b.days, a.written + b.written, a.deleted + b.deleted)


def _compute_then_store(
    url: str | None,
    compute: Callable[[Session], Computed],
    span: tuple[date | None, date | None] = (None, None),
) -> RollupResult:
    """Both phases on one connection (the temporary tables live there). Stored views whose
    days `span` [start, end) changed go in the same transaction (core.analytics.windows)."""
    with get_engine(url).connect() as connection:
        with Session(bind=connection) as session, session.begin():
            computed = compute(session)
        if connection.dialect.name == "sqlite":
            connection.execution_options(sqlite_immediate=True)  # see core.db: BEGIN IMMEDIATE
        with Session(bind=connection) as session, session.begin():
            result = store_computed(session, computed)
            if result.written or result.deleted:
                windows.invalidate(session, *span)
                day_latency.forget(session, *span)
            return result


def refresh_windows(url: str | None = None) -> bool:
    """Store what the Analytics page's default views need of the closed days (the views'
    range figures, each day's latency percentiles) unless stored: computed in a read
    transaction, written in a short one. Returns whether it wrote."""
    started = utcnow()
    today = started.date()
    with session_scope(url) as session:
        if not windows.settled_since(session, today, started):
            return False  # a closed day waits for the rollup: the next run stores it
        stale = not windows.is_fresh(session, today)
        days = day_latency.missing_days(session, today)
        if not stale and not days:
            return False
        views = windows.compute(session, today) if stale else None
        latency = day_latency.compute(session, days)
    with session_scope(url, write=True) as session:
        if not windows.settled_since(session, today, started):  # a rollup ran meanwhile
            return False
        if views is not None:
            windows.store(session, views)
        day_latency.store(session, latency, today)
    return True


def roll_up(
    *,
    day: date | None = None,
    all_days: bool = False,
    url: str | None = None,
    refresh_views: bool = True,
) -> RollupResult:
    """One day, every day, or (default) the queued days; returns what changed.

    `refresh_views=False` leaves rebuilding the default views to the rollup job (an HTTP
    caller must not wait for it; until then the page reads those days from the events).

    Days before the retention cutoff (PostgreSQL, events dropped by month) are never
    recomputed: their rollups are all that is left of them.
    """
    with session_scope(url) as session:
        cutoff = retained_since(session)
    if all_days and cutoff is None:
        result = _compute_then_store(url, compute_all)
        if refresh_views:
            refresh_windows(url)
        return result
    if day is not None:
        if cutoff is not None and day < cutoff:
            raise ValidationError(
                f"events before {cutoff} were dropped (retention); the rollups of {day} are "
                "kept as they are — pick a later day",
                field="date",
            )
        runs = [(day, day + timedelta(days=1))]
    elif all_days:  # every kept day, up to the latest day an event may have
        runs = [(cutoff, datetime.now(UTC).date() + timedelta(days=2))]
    else:
        with session_scope(url) as session:
            runs = pending_runs(session)
        if cutoff is not None:
            runs = [(max(start, cutoff), end) for start, end in runs if end > cutoff]
    total = RollupResult(0, 0, 0)
    for start, end in runs:
        result = _compute_then_store(
            url, lambda s, a=start, b=end: compute_range(s, start=a, end=b), (start, end)
        )
        total = _total(total, result)
    if refresh_views:
        refresh_windows(url)
    return total
