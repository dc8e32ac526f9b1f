"""A daemon thread per process that runs core's periodic jobs (leases keep them single)."""

from __future__ import annotations

import logging
import threading

from core.jobs import run_due_jobs

log = logging.getLogger(__name__)
_started = threading.Event()
_stop = threading.Event()


def start_worker(interval_seconds: float) -> None:
    if _started.is_set():
        return
    _started.set()
    threading.Thread(target=_loop, args=(interval_seconds,), name="jobs", daemon=True).start()


def stop_worker() -> None:
    _stop.set()


def _loop(interval_seconds: float) -> None:
    while not _stop.wait(interval_seconds):
        try:
            run_due_jobs()
        except Exception:  # the database may be down for a while; keep going
            log.exception("background jobs could not run")
