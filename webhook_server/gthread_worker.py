"""gunicorn's `gthread` worker that leaves a new connection to an idle worker when there is
one (`worker_class` in gunicorn.conf.py).

Every worker waits on the same listening socket and all are woken for a new connection; the
stock worker accepts whatever it sees, so with keep-alive a few long-lived connections (a
proxy's pool, a load generator's) could all sit on one worker while another idled (half of
`bench/webhook_throughput.py`'s runs). Here each worker holding no connection holds a shared
`flock` on one file (opened before the fork); a worker that already holds connections and
sees that lock held waits up to ACCEPT_DEFER_SECONDS for an idle worker to take the
connection, and accepts it itself only if it is still waiting. With no idle worker it
accepts at once, as the stock worker does.
"""

from __future__ import annotations

import os
import select
import tempfile
import time

from gunicorn.workers.gthread import ThreadWorker

try:
    import fcntl
except ImportError:  # not on POSIX: the stock behaviour
    fcntl = None  # type: ignore[assignment]

ACCEPT_DEFER_SECONDS = 0.01
_POLL_SECONDS = 0.0005


def _shared_file() -> int | None:
    """An unlinked file created in the master; each worker reopens it (its own flock)."""
    if fcntl is None or not os.path.isdir("/proc/self/fd"):
        return None
    handle, path = tempfile.mkstemp(prefix="gunicorn-idle-")
    os.unlink(path)
    return handle


_IDLE_FILE = _shared_file()  # the master imports this module before forking the workers


def _connection_waiting(listener) -> bool:  # noqa: ANN001
    """Whether the listening socket still has a connection to accept (poll, no wait)."""
    poller = select.poll()
    poller.register(listener, select.POLLIN)
    return bool(poller.poll(0))


class BalancedThreadWorker(ThreadWorker):
    _conns = 0
    _idle_fd: int | None = None

    def init_process(self) -> None:
        if _IDLE_FILE is not None:
            try:
                self._idle_fd = os.open(f"/proc/self/fd/{_IDLE_FILE}", os.O_RDWR)
            except OSError:
                self._idle_fd = None
        super().init_process()  # loads the app, then run()

    def run(self) -> None:
        if self._idle_fd is not None and not self._conns:
            fcntl.flock(self._idle_fd, fcntl.LOCK_SH)  # started, no connection yet: idle
        super().run()

    @property
    def nr_conns(self) -> int:
        return self._conns

    @nr_conns.setter
    def nr_conns(self, value: int) -> None:  # only ever changed by the main thread
        was_idle, self._conns = self._conns == 0, value
        if self._idle_fd is not None and was_idle != (value == 0):
            fcntl.flock(self._idle_fd, fcntl.LOCK_SH if value == 0 else fcntl.LOCK_UN)

    def accept(self, listener) -> None:  # noqa: ANN001
        if self._conns and self._idle_fd is not None:
            deadline = time.monotonic() + ACCEPT_DEFER_SECONDS
            while self._other_worker_idle() and time.monotonic() < deadline:
                time.sleep(_POLL_SECONDS)
                if not _connection_waiting(listener):
                    return  # an idle worker took it
        super().accept(listener)

    def _other_worker_idle(self) -> bool:
        try:
            fcntl.flock(self._idle_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(self._idle_fd, fcntl.LOCK_UN)
        return False
