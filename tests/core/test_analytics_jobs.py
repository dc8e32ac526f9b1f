"""The rollup jobs are registered and run by one worker at a time."""

from __future__ import annotations

import threading

from core import jobs
from core.jobs import Job, run_due_jobs

started = threading.Event()
finish = threading.Event()
calls: list[str] = []


def blocking_rollup() -> None:
    calls.append(threading.current_thread().name)
    started.set()
    assert finish.wait(timeout=60)


def test_rollup_jobs_are_registered():
    targets = {job.name: job.target for job in jobs.JOBS}
    assert targets["analytics-rollup"] == "core.analytics.jobs:roll_up_recent"
    assert targets["analytics-close-day"] == "core.analytics.jobs:close_yesterday"
    assert targets["analytics-partitions"] == "core.analytics.jobs:maintain_partitions_job"
    for job in jobs.JOBS:
        if job.name.startswith("analytics-"):
            assert callable(job.load())
    intervals = {job.name: job.interval_seconds for job in jobs.JOBS}
    assert intervals["analytics-rollup"] <= 600


def test_only_one_worker_runs_the_rollup_at_a_time(db_url):
    job = Job("analytics-test-guard", 300.0, f"{__name__}:blocking_rollup")
    calls.clear()
    started.clear()
    finish.clear()
    results: dict[str, list[str]] = {}
    first = threading.Thread(
        target=lambda: results.__setitem__("first", run_due_jobs([job])), name="first"
    )
    first.start()
    assert started.wait(timeout=60)
    # A second worker (thread or process) while the first holds the lease: skipped.
    assert run_due_jobs([job]) == []
    finish.set()
    first.join()
    assert results["first"] == ["analytics-test-guard"]
    # And not again before its interval has passed.
    assert run_due_jobs([job]) == []
    assert calls == ["first"]
