"""Small lock files opened once per thread (a `flock` belongs to an open file, so each thread
needs its own descriptor for threads of one process to exclude each other too)."""

from __future__ import annotations

import os
import threading


class ThreadFiles:
    """This thread's descriptors, one per path, reopened in a forked child."""

    def __init__(self, *, max_paths: int = 8) -> None:
        self._local = threading.local()
        # Tests open many databases from one thread: bound the descriptors kept.
        self._max_paths = max_paths

    def fd(self, path: str) -> int:
        """The descriptor for `path` (created if missing); raises OSError if it cannot be."""
        local = self._local
        handles = getattr(local, "handles", None)
        if handles is None or local.pid != os.getpid():
            handles = local.handles = {}
            local.pid = os.getpid()
        fd = handles.get(path)
        if fd is None:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o664)
            if len(handles) >= self._max_paths:
                for stale in handles.values():
                    os.close(stale)
                handles.clear()
            handles[path] = fd
        return fd
