"""core.pacing: requests of any process on the host are seen; backlogs yield but never starve."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

from core import pacing

ROOT = Path(__file__).resolve().parents[2]
HOLD_A_REQUEST = """
import sys
from core import pacing
with pacing.serving_request(sys.argv[1]):
    print("serving", flush=True)
    sys.stdin.read()
"""


def test_a_request_served_by_another_process_is_seen(tmp_path, monkeypatch):
    monkeypatch.setattr(pacing, "QUIET_SECONDS", 0.0)  # in flight only, not "just ended"
    url = f"sqlite:///{tmp_path / 'registry.db'}"
    assert not pacing.requests_in_flight(url)
    other = subprocess.Popen(
        [sys.executable, "-c", HOLD_A_REQUEST, url],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert other.stdout.readline() == "serving\n"
        assert pacing.requests_in_flight(url)
    finally:
        other.communicate("", timeout=30)  # the request ends, the process exits
    assert other.returncode == 0
    assert not pacing.requests_in_flight(url)


def test_a_request_in_another_thread_of_this_process_is_seen(tmp_path, monkeypatch):
    monkeypatch.setattr(pacing, "QUIET_SECONDS", 0.0)
    url = f"sqlite:///{tmp_path / 'registry.db'}"
    entered, leave = threading.Event(), threading.Event()

    def serve() -> None:
        with pacing.serving_request(url):
            entered.set()
            leave.wait(30)

    thread = threading.Thread(target=serve)
    thread.start()
    assert entered.wait(30)
    assert pacing.requests_in_flight(url)
    leave.set()
    thread.join(30)
    assert not pacing.requests_in_flight(url)


def test_a_request_that_just_ended_still_counts_as_busy(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'registry.db'}"
    with pacing.serving_request(url):
        pass
    monkeypatch.setattr(pacing, "QUIET_SECONDS", 3600.0)
    assert pacing.requests_in_flight(url)  # the next request is probably on its way
    monkeypatch.setattr(pacing, "QUIET_SECONDS", 0.0)
    assert not pacing.requests_in_flight(url)


def test_backlog_is_worked_off_in_batches_even_while_requests_keep_coming(tmp_path):
    url = f"sqlite:///{tmp_path / 'registry.db'}"
    items = list(range(10))
    done: list[list[int]] = []

    def batch(batch_url: str) -> int:
        assert batch_url == url
        taken, items[:3] = items[:3], []
        if taken:
            done.append(taken)
        return len(taken)

    backlog = pacing.Backlog("test-backlog", batch)
    with pacing.serving_request(url):  # a request in flight the whole time: no starvation
        backlog.notify(url)
        assert backlog.wait_idle(30)
    assert done == [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]
    assert backlog.idle


def test_a_failing_batch_is_logged_and_the_next_notify_works_again(tmp_path, caplog):
    url = f"sqlite:///{tmp_path / 'registry.db'}"
    calls: list[str] = []

    def batch(_url: str) -> int:
        calls.append("call")
        if len(calls) == 1:
            raise RuntimeError("database went away")
        return 0

    backlog = pacing.Backlog("flaky-backlog", batch)
    backlog.notify(url)
    assert backlog.wait_idle(30)
    assert "flaky-backlog backlog could not be worked off" in caplog.text
    backlog.notify(url)
    assert backlog.wait_idle(30)
    assert calls == ["call", "call"]
