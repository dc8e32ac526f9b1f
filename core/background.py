"""Work done right after an HTTP answer: one queue and one daemon thread per process.

Only for work that is already durable (stored first) and that a periodic job would pick up
anyway if the process died: this makes it prompt, not reliable.

Requests come first: a task starts only once the process has served no request for
`QUIET_SECONDS`, so a burst of requests is answered at full speed and the queue is worked
off in the gaps or right after the burst (the periodic job bounds how long anything waits).
"""

from __future__ import annotations

import atexit
import logging
import os
import queue
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from core import pacing

log = logging.getLogger(__name__)

SHUTDOWN_DRAIN_SECONDS = 5.0
QUIET_SECONDS = 0.005
REQUEST_GIL_WAIT_SECONDS = 0.0005

_queue: queue.Queue[tuple[Callable[..., Any], dict[str, Any]]] = queue.Queue()
_lock = threading.Lock()
_started_in_pid: int | None = None
_in_flight = 0
_last_request_end = 0.0
_quiet_until = 0.0


@contextmanager
def serving_request() -> Iterator[None]:
    """Mark a request in progress; background tasks wait until requests leave a gap."""
    global _in_flight, _last_request_end
    with _lock:
        _in_flight += 1
    try:
        yield
    finally:
        with _lock:
            _in_flight -= 1
            _last_request_end = time.monotonic()


def mark_activity(quiet_for: float = QUIET_SECONDS) -> None:
    """The caller is still answering someone (e.g. just committed a click and is about to
    render the answer): background tasks start no sooner than `quiet_for` from now."""
    global _quiet_until
    with _lock:
        _quiet_until = max(_quiet_until, time.monotonic() + quiet_for)


def run_soon(function: Callable[..., Any], /, **kwargs: Any) -> None:
    """Call `function(**kwargs)` in this process's background thread, in submission order."""
    _ensure_thread()
    _queue.put((function, kwargs))


def wait_idle(timeout: float) -> bool:
    """Block until everything submitted so far has run, paced backlogs (webhook processing)
    included, and what they submitted in turn; False if `timeout` passed first."""
    deadline = time.monotonic() + timeout
    while True:
        if not pacing.wait_backlogs_idle(max(0.0, deadline - time.monotonic())):
            return False
        with _queue.all_tasks_done:
            if not _queue.all_tasks_done.wait_for(
                lambda: not _queue.unfinished_tasks, max(0.0, deadline - time.monotonic())
            ):
                return False
        if pacing.backlogs_idle():
            return True


def _ensure_thread() -> None:
    global _started_in_pid
    if _started_in_pid == os.getpid():
        return
    with _lock:
        if _started_in_pid == os.getpid():
            return
        # A forked child (gunicorn worker) inherits the flag but not the thread.
        _started_in_pid = os.getpid()
        # A request arriving while a task runs waits for the GIL at every I/O step, by
        # default up to 5 ms each time; 0.5 ms keeps that wait small.
        sys.setswitchinterval(REQUEST_GIL_WAIT_SECONDS)
        threading.Thread(target=_loop, name="background", daemon=True).start()


def _loop() -> None:
    while True:
        function, kwargs = _queue.get()
        _wait_for_quiet()
        try:
            function(**kwargs)
        except Exception:  # the periodic job retries whatever this left undone
            log.exception("background %s failed", getattr(function, "__name__", function))
        finally:
            _queue.task_done()


def _wait_for_quiet() -> None:
    # One sleep for as long as is known to be needed: every wake-up takes the GIL from the
    # thread answering a request, which on a loaded machine costs milliseconds each time.
    while True:
        now = time.monotonic()
        wait = max(
            _quiet_until - now,
            _last_request_end + QUIET_SECONDS - now,
            QUIET_SECONDS if _in_flight else 0.0,
        )
        if wait <= 0:
            return
        time.sleep(wait)


atexit.register(wait_idle, SHUTDOWN_DRAIN_SECONDS)
