"""Background rollup jobs (registered in core.jobs.JOBS; leases keep each to one runner)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from core.analytics.rollup import RollupResult
from core.analytics.runner import roll_up

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
