"""Fair turns for SQLite writers across processes (gunicorn workers).

SQLite makes a writer that finds the database locked sleep and poll (1, 2, 5 … 100 ms), so
with two busy workers one can starve for hundreds of milliseconds. Waiting on a blocking
`flock` instead wakes the waiter the moment the lock is free. PostgreSQL/MariaDB: no-op.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

from sqlalchemy.engine import make_url

try:
    import fcntl
except ImportError:  # not on POSIX: fall back to SQLite's own waiting
    fcntl = None  # type: ignore[assignment]

_held = threading.local()


@lru_cache(maxsize=32)
def _lock_path(url: str) -> str | None:
    parsed = make_url(url)
    database = parsed.database or ""
    if fcntl is None or parsed.get_backend_name() != "sqlite" or database in ("", ":memory:"):
        return None
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
    with open(lock_path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        _held.depth = 1
        try:
            yield
        finally:
            _held.depth = 0
            fcntl.flock(handle, fcntl.LOCK_UN)
