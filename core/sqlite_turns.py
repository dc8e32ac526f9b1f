"""Fair turns for SQLite writers across processes (gunicorn workers).

SQLite makes a writer that finds the database locked sleep and poll (1, 2, 5 … 100 ms), so
with two busy workers one can starve for hundreds of milliseconds. Waiting on a blocking
`flock` instead wakes the waiter the moment the lock is free. PostgreSQL/MariaDB: no-op.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

from sqlalchemy.engine import make_url

from core.thread_files import ThreadFiles

try:
    import fcntl
except ImportError:  # not on POSIX: fall back to SQLite's own waiting
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)
_held = threading.local()
_warned: set[str] = set()
_files = ThreadFiles()


@lru_cache(maxsize=32)
def _lock_path(url: str) -> str | None:
    parsed = make_url(url)
    database = parsed.database or ""
    if fcntl is None or parsed.get_backend_name() != "sqlite" or database in ("", ":memory:"):
        return None
    if database.startswith("file:"):  # an SQLite URI filename: file:/path/db
        database = database[len("file:") :]
    return f"{database}.writers"


@contextmanager
def sqlite_write_turn(url: str) -> Iterator[None]:
    """Hold the cross-process writer turn for `url` (re-entrant within a thread)."""
    lock_path = _lock_path(url)
    if lock_path is None:
        yield
        return
    if getattr(_held, "depth", 0):
        _held.depth += 1
        try:
            yield
        finally:
            _held.depth -= 1
        return
    fd = _handle(lock_path)
    if fd is None:
        # The turn only makes waiting fair; SQLite's own locking still keeps writes correct.
        yield
        return
    fcntl.flock(fd, fcntl.LOCK_EX)
    _held.depth = 1
    try:
        yield
    finally:
        _held.depth = 0
        fcntl.flock(fd, fcntl.LOCK_UN)


def _handle(lock_path: str) -> int | None:
    """This thread's descriptor of the lock file; None if it cannot be opened."""
    try:
        return _files.fd(lock_path)
    except OSError as error:
        _warn_once(lock_path, error)
        return None


def _warn_once(lock_path: str, error: OSError) -> None:
    if lock_path not in _warned:
        _warned.add(lock_path)
        log.warning(
            "cannot open the SQLite writer lock %s (%s); writers fall back to SQLite's own "
            "waiting — make the file writable by the server's user",
            lock_path,
            error.strerror or type(error).__name__,
        )
