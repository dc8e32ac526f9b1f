"""Periodic background jobs, run by the webhook server's worker thread in every process.

Each job runs in at most one process at a time, and not more often than its interval,
whatever the number of gunicorn workers: a database lease decides who runs it.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.exc import OperationalError

from core.config import get_settings
from core.db import session_scope
from core.leases import release, try_acquire
from core.sqlite_turns import sqlite_write_turn

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    name: str
    interval_seconds: float
    target: str  # "module:function"; the function takes no arguments
    ttl_seconds: float = 300.0

    def load(self) -> Callable[[], object]:
        module, _, attr = self.target.partition(":")
        return getattr(importlib.import_module(module), attr)


# Areas register their periodic work here.
JOBS: list[Job] = [
    # Webhook deliveries whose processing failed: 1 s → 2 s → 4 s, then dead letter.
    Job("jira.webhook_retries", 1.0, "core.jira.jobs:retry_webhook_events", ttl_seconds=120),
    # Jira calls and deploy notices owed (the outbox: creations, comments, transitions …).
    # Every second at most: rows are due per their own time (Retry-After, back-off).
    Job("jira.outbox", 1.0, "core.jira.jobs:deliver_jira_outbox", ttl_seconds=600),
    # Usage rollups: today (and any day that got late events) every few minutes ...
    Job("analytics-rollup", 300.0, "core.analytics.jobs:roll_up_recent", ttl_seconds=900),
    # ... and yesterday recomputed in full hourly, so it closes soon after midnight UTC.
    Job("analytics-close-day", 3600.0, "core.analytics.jobs:close_yesterday"),
    # PostgreSQL: usage_logs partitions for the coming months, and retention (a no-op elsewhere).
    Job("analytics-partitions", 3600.0, "core.analytics.jobs:maintain_partitions_job"),
]


def run_due_jobs(jobs: list[Job] | None = None) -> list[str]:
    """Run every job whose interval has passed and whose lease this process gets."""
    ran: list[str] = []
    for job in JOBS if jobs is None else jobs:
        if not _acquire(job):
            continue
        succeeded = False
        try:
            job.load()()
            succeeded = True
            ran.append(job.name)
        except Exception:  # a failing job must not stop the others or the worker
            log.exception("background job %s failed", job.name)
        finally:
            with _write_turn(), session_scope(write=True) as session:
                release(session, name=job.name, ran=succeeded)
    return ran


def _acquire(job: Job) -> bool:
    try:
        with _write_turn(), session_scope(write=True) as session:
            return try_acquire(
                session,
                name=job.name,
                ttl_seconds=job.ttl_seconds,
                min_interval_seconds=job.interval_seconds,
            )
    except OperationalError:
        # A lock wait or deadlock means another process is taking the same lease right now.
        log.info("lease for %s is being taken elsewhere; skipping this round", job.name)
        return False


def _write_turn():  # noqa: ANN202
    # On SQLite, queue for the writer lock like requests do (a blocking flock, woken at once)
    # instead of SQLite's sleep-and-poll, which made a request's INSERT that met a lease
    # write sleep 1, 2, 5 … ms.
    return sqlite_write_turn(get_settings().sqlalchemy_url)
