"""Leases and the periodic job runner: one runner at a time, whatever the number of processes."""

from __future__ import annotations

import threading

from core import jobs
from core.db import session_scope
from core.leases import release, try_acquire

RUNS: list[str] = []
GATE = threading.Event()


def record_run() -> None:
    RUNS.append(threading.current_thread().name)


def test_lease_excludes_other_owners_until_released(db_url):
    with session_scope(write=True) as s:
        assert try_acquire(s, name="rollup", ttl_seconds=60, owner="a")
    with session_scope(write=True) as s:
        assert not try_acquire(s, name="rollup", ttl_seconds=60, owner="b")
    with session_scope(write=True) as s:
        release(s, name="rollup", owner="a", ran=False)
    with session_scope(write=True) as s:
        assert try_acquire(s, name="rollup", ttl_seconds=60, owner="b")


def test_expired_lease_can_be_taken_over(db_url):
    with session_scope(write=True) as s:
        assert try_acquire(s, name="rollup", ttl_seconds=-1, owner="crashed")
    with session_scope(write=True) as s:
        assert try_acquire(s, name="rollup", ttl_seconds=60, owner="b")


def test_min_interval_is_respected(db_url):
    with session_scope(write=True) as s:
        assert try_acquire(s, name="daily", ttl_seconds=60, min_interval_seconds=3600, owner="a")
        release(s, name="daily", owner="a", ran=True)
    with session_scope(write=True) as s:
        assert not try_acquire(
            s, name="daily", ttl_seconds=60, min_interval_seconds=3600, owner="b"
        )
        assert try_acquire(s, name="daily", ttl_seconds=60, min_interval_seconds=0, owner="b")


def test_concurrent_runners_run_a_job_once(db_url):
    RUNS.clear()
    job = jobs.Job(name="once", interval_seconds=3600, target=f"{__name__}:record_run")
    barrier = threading.Barrier(4)

    def worker() -> None:
        barrier.wait()
        jobs.run_due_jobs([job])

    threads = [threading.Thread(target=worker, name=f"w{i}") for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(RUNS) == 1


def test_a_failing_job_does_not_stop_the_others(db_url):
    RUNS.clear()
    broken = jobs.Job(name="broken", interval_seconds=0, target="math:nonexistent_function")
    good = jobs.Job(name="good", interval_seconds=0, target=f"{__name__}:record_run")
    assert jobs.run_due_jobs([broken, good]) == ["good"]
    assert len(RUNS) == 1
