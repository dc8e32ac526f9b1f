"""Backlog work that yields to requests, across the processes of one host.

A request holds a shared `flock` on a small file for as long as it is served
(`serving_request`) and stamps the time it ended into that file (mapped in memory); background
work asks `requests_in_flight` before each batch, which is true while any process of this
host (every gunicorn worker) is answering someone or did within `QUIET_SECONDS`. A
`Backlog` works off stored work in small batches, each its own short transaction, and while
requests keep coming the host's processes take one batch per `MAX_DEFER_SECONDS` between
them: answers wait for at most one small batch, and the backlog still moves. Once requests
stop it runs flat out.
"""

from __future__ import annotations

import hashlib
import logging
import mmap
import os
import struct
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache

from sqlalchemy.engine import make_url

from core.thread_files import ThreadFiles

try:
    import fcntl
except ImportError:  # not on POSIX: only this process's own requests are seen
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

# While requests are being answered: one batch, then wait this long before the next one.
# A batch under load is bounded to a few milliseconds (core.jira.processing.BATCH_SECONDS),
# so processing holds about 5% of the time and the backlog still moves (issue 13: at one
# 4 ms batch per 250 ms it moved about 15 deliveries/s, so a burst's backlog only grew
# while requests kept coming; at 0.1 s with the older, costlier batches it took 5-10% of
# a saturated server, issue 11's re-measure). Short batches often rather than long ones
# rarely: a request's INSERT waits for one short batch at most.
MAX_DEFER_SECONDS = 0.08
# How often a waiting batch looks whether requests have stopped: each look takes the GIL
# from a request thread, so not every few milliseconds.
POLL_SECONDS = 0.02
# Requests come back to back: a gap this short between two is still "busy".
QUIET_SECONDS = 0.005
# A request waiting for the GIL while a batch runs waits at most this per switch (default 5 ms).
REQUEST_GIL_WAIT_SECONDS = 0.0005

_files = ThreadFiles()
_in_flight_here = 0
_count_lock = threading.Lock()
_warned: set[str] = set()
_stamps: dict[str, mmap.mmap | None] = {}
# time.monotonic() (one clock per host) of the last request end and of the last batch start
# or end of any process: the pacing is host-wide, not per worker.
_STAMP = struct.Struct("dd")
_backlogs: list[Backlog] = []


@lru_cache(maxsize=32)
def _signal_path(url: str) -> str | None:
    """`<database>.requests` beside an SQLite file; a per-URL file in the temp dir otherwise."""
    if fcntl is None:
        return None
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database in ("", ":memory:"):
            return None
        if database.startswith("file:"):
            database = database[len("file:") :].split("?", 1)[0]
        return f"{database}.requests"
    digest = hashlib.sha256(url.encode()).hexdigest()[:16]
    return os.path.join(tempfile.gettempdir(), f"agent-registry-{digest}.requests")


def _handle(path: str) -> int | None:
    """This thread's own descriptor for `path` (flock locks belong to an open file)."""
    try:
        return _files.fd(path)
    except OSError as error:
        if path not in _warned:
            _warned.add(path)
            log.warning(
                "cannot open %s (%s): background work cannot see other processes' "
                "requests; make the file writable by the server's user",
                path,
                error.strerror or type(error).__name__,
            )
        return None


def _stamp(path: str) -> mmap.mmap | None:
    """The shared memory holding the last request end (`path` mapped, once per process)."""
    if path not in _stamps:
        fd = _handle(path)
        mapped = None
        if fd is not None:
            try:
                if os.fstat(fd).st_size < _STAMP.size:
                    os.ftruncate(fd, _STAMP.size)
                mapped = mmap.mmap(fd, _STAMP.size)
            except (OSError, ValueError):
                mapped = None
        _stamps[path] = mapped
    return _stamps[path]


@contextmanager
def serving_request(url: str) -> Iterator[None]:
    """Mark a request in progress for every process of this host that shares `url`."""
    global _in_flight_here
    with _count_lock:
        _in_flight_here += 1
    path = _signal_path(url)
    fd = _handle(path) if path else None
    if fd is not None:
        fcntl.flock(fd, fcntl.LOCK_SH)
    try:
        yield
    finally:
        if fd is not None:
            stamp = _stamp(path)
            if stamp is not None:
                struct.pack_into("d", stamp, 0, time.monotonic())
            fcntl.flock(fd, fcntl.LOCK_UN)
        with _count_lock:
            _in_flight_here -= 1


def requests_in_flight(url: str) -> bool:
    """Is any process of this host (this one included) answering a request right now, or
    did one end less than QUIET_SECONDS ago (the next is probably on its way)?"""
    if _in_flight_here:
        return True
    path = _signal_path(url)
    fd = _handle(path) if path else None
    if fd is None:
        return False
    stamp = _stamp(path)
    # A stamp "in the future" is from before a reboot (the clock restarts): ignored.
    if stamp is not None and 0 <= time.monotonic() - _STAMP.unpack_from(stamp)[0] < QUIET_SECONDS:
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    fcntl.flock(fd, fcntl.LOCK_UN)
    return False


def wait_turn(url: str, *, last_batch_end: float) -> None:
    """Until no request is in flight, or `MAX_DEFER_SECONDS` after the last batch of any
    process of this host; then marks a batch as started (call `batch_done` after it)."""
    path = _signal_path(url)
    stamp = _stamp(path) if path else None
    while True:
        now = time.monotonic()
        last = last_batch_end
        if stamp is not None:  # (one "in the future" is from before a reboot)
            last = max(last, min(_STAMP.unpack_from(stamp)[1], now))
        left = last + MAX_DEFER_SECONDS - now
        if left <= 0 or not requests_in_flight(url):
            break
        time.sleep(min(POLL_SECONDS, left))
    batch_done(url)  # started, in fact: the other processes wait from now on


def batch_done(url: str) -> float:
    """Stamp the end of a batch for every process of the host; the time stamped."""
    now = time.monotonic()
    path = _signal_path(url)
    stamp = _stamp(path) if path else None
    if stamp is not None:
        struct.pack_into("d", stamp, 8, now)
    return now


class Backlog:
    """One daemon thread per process working off `batch(url)` (which returns how many items
    it handled; 0 means nothing is left) whenever `notify(url)` says there may be work."""

    def __init__(self, name: str, batch: Callable[[str], int]) -> None:
        self.name = name
        self._batch = batch
        self._changed = threading.Condition()
        self._pending: list[str] = []
        self._busy = False
        self._started_in_pid: int | None = None
        self._last_batch_end = 0.0
        _backlogs.append(self)

    def notify(self, url: str) -> None:
        with self._changed:
            self._ensure_thread()
            if url not in self._pending:
                self._pending.append(url)
                self._changed.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        """Block until every notified backlog is worked off; False if `timeout` passed first."""
        with self._changed:
            return self._changed.wait_for(lambda: self.idle, timeout)

    @property
    def idle(self) -> bool:
        return not self._pending and not self._busy

    def _ensure_thread(self) -> None:
        if self._started_in_pid == os.getpid():
            return
        # A forked child (gunicorn worker) inherits the flag but not the thread.
        self._started_in_pid = os.getpid()
        self._pending.clear()
        self._busy = False
        sys.setswitchinterval(REQUEST_GIL_WAIT_SECONDS)
        threading.Thread(target=self._loop, name=self.name, daemon=True).start()

    def _loop(self) -> None:
        while True:
            with self._changed:
                self._changed.wait_for(lambda: self._pending)
                url = self._pending.pop(0)
                self._busy = True
            try:
                self._work_off(url)
            except Exception:  # the periodic job picks up whatever this left
                log.exception("%s backlog could not be worked off", self.name)
            finally:
                with self._changed:
                    self._busy = False
                    self._changed.notify_all()

    def _work_off(self, url: str) -> None:
        # The request that notified is still sending its answer: give it a moment first.
        self._last_batch_end = max(
            self._last_batch_end, time.monotonic() - MAX_DEFER_SECONDS + POLL_SECONDS
        )
        while True:
            wait_turn(url, last_batch_end=self._last_batch_end)
            handled = self._batch(url)
            self._last_batch_end = batch_done(url)
            if not handled:
                return


def wait_backlogs_idle(timeout: float) -> bool:
    """Block until every backlog of this process is worked off (tests, shutdown)."""
    deadline = time.monotonic() + timeout
    return all(backlog.wait_idle(max(0.0, deadline - time.monotonic())) for backlog in _backlogs)


def backlogs_idle() -> bool:
    return all(backlog.idle for backlog in _backlogs)
