"""Rollups as the CLI, the HTTP endpoint and the jobs run them: computed in a read
transaction, then stored in a short write transaction — on SQLite (one writer at a time)
ingest never waits for the computation, only for the few upserts."""

from __future__ import annotations

from datetime import date, timedelta

from core.analytics.rollup import (
    Computed,
    RollupResult,
    compute_all,
    compute_range,
    pending_runs,
    store_computed,
)
from core.db import session_scope


def _total(a: RollupResult, b: RollupResult) -> RollupResult:
    return RollupResult(a.days + b.days, a.written + b.written, a.deleted + b.deleted)


def _store(computed: Computed, url: str | None) -> RollupResult:
    with session_scope(url, write=True) as session:
        return store_computed(session, computed)


def roll_up(
    *, day: date | None = None, all_days: bool = False, url: str | None = None
) -> RollupResult:
    """One day, every day, or (default) the queued days; returns what changed."""
    if all_days:
        with session_scope(url) as session:
            computed = compute_all(session)
        return _store(computed, url)
    if day is not None:
        runs = [(day, day + timedelta(days=1))]
    else:
        with session_scope(url) as session:
            runs = pending_runs(session)
    total = RollupResult(0, 0, 0)
    for start, end in runs:
        with session_scope(url) as session:
            computed = compute_range(session, start=start, end=end)
        total = _total(total, _store(computed, url))
    return total
