"""Background rollup jobs (registered in core.jobs.JOBS; leases keep each to one runner)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from core.analytics.partitions import (
    PartitionReport,
    drop_months_before,
    ensure_partitions,
    is_partitioned,
    month_partitions,
    retention_cutoff,
)
from core.analytics.rollup import RollupResult
from core.analytics.runner import roll_up
from core.config import get_settings
from core.db import get_engine, session_scope

log = logging.getLogger(__name__)


def roll_up_recent() -> RollupResult:
    """Every few minutes: roll up today and every other day that received events since.

    Ingest queues each day it touches, so the queue holds today whenever today changed.
    """
    result = roll_up()
    if result.days:
        log.info("analytics rollup: %s", result.as_dict())
    return result


def close_yesterday() -> RollupResult:
    """After midnight UTC: recompute yesterday in full, whatever the queue says."""
    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    result = roll_up(day=yesterday)
    log.info("analytics: closed %s: %s", yesterday, result.as_dict())
    return result


def maintain_partitions(
    *,
    url: str | None = None,
    drop_older_than: int | None = None,
    months_ahead: int | None = None,
    dry_run: bool = False,
) -> PartitionReport | None:
    """PostgreSQL: create the coming months' partitions of usage_logs and, with retention
    (`drop_older_than` months, default ANALYTICS_RETENTION_MONTHS), drop whole months before
    it after rolling up the queued days. None where usage_logs is not partitioned."""
    if get_engine(url).dialect.name != "postgresql":
        return None  # without opening a (write) transaction: on SQLite that takes the lock
    settings = get_settings()
    keep = settings.analytics_retention_months if drop_older_than is None else drop_older_than
    ahead = settings.analytics_partitions_ahead if months_ahead is None else months_ahead
    with session_scope(url, write=True) as session:
        if not is_partitioned(session):
            return None
        if dry_run:
            report = PartitionReport(partitions=list(month_partitions(session).values()))
        else:
            report = ensure_partitions(session, months_ahead=ahead)
    if keep is not None:
        cutoff = retention_cutoff(keep)
        if not dry_run:
            roll_up(url=url)  # the queued days' rollups are all that stays of dropped events
        with session_scope(url, write=True) as session:
            dropped = drop_months_before(session, cutoff=cutoff, dry_run=dry_run)
        report.dropped, report.deleted_rows = dropped.dropped, dropped.deleted_rows
        report.partitions, report.retained_since = dropped.partitions, dropped.retained_since
    if report.created or report.dropped or report.moved_rows or report.deleted_rows:
        log.info("analytics partitions: %s", report.as_dict())
    return report


def maintain_partitions_job() -> None:
    """The periodic job (core.jobs.JOBS): partitions ahead, retention from the settings."""
    maintain_partitions()
