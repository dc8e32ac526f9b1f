"""The balanced gthread worker: a busy worker leaves a new connection to an idle one."""

from __future__ import annotations

import fcntl
import os
import socket
import threading
from collections.abc import Iterator

import pytest
from gunicorn.workers.gthread import ThreadWorker

from webhook_server import gthread_worker
from webhook_server.gthread_worker import BalancedThreadWorker


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.setblocking(False)
    client = socket.create_connection(server.getsockname())  # one connection waiting
    yield server
    client.close()
    server.close()


@pytest.fixture
def accepted(monkeypatch) -> list[socket.socket]:  # noqa: ANN001
    """What the stock worker's accept took (it is replaced by a recorder)."""
    taken: list[socket.socket] = []

    def stock_accept(self, listener):  # noqa: ANN001, ANN202
        taken.append(listener.accept()[0])

    monkeypatch.setattr(ThreadWorker, "accept", stock_accept)
    yield taken
    for connection in taken:
        connection.close()


def _must_not_wait(seconds: float) -> None:
    raise AssertionError(f"waited {seconds} s to accept")


@pytest.fixture(autouse=True)
def _close_workers() -> Iterator[None]:
    yield
    while _opened:
        os.close(_opened.pop())


_opened: list[int] = []


def _worker(connections: int) -> BalancedThreadWorker:
    worker = object.__new__(BalancedThreadWorker)  # only the accept logic, no gunicorn config
    worker._idle_fd = os.open(f"/proc/self/fd/{gthread_worker._IDLE_FILE}", os.O_RDWR)
    _opened.append(worker._idle_fd)
    worker.nr_conns = connections
    return worker


@pytest.fixture
def idle_sibling() -> Iterator[None]:
    """Another worker holding no connection (its shared lock on the same file)."""
    fd = os.open(f"/proc/self/fd/{gthread_worker._IDLE_FILE}", os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_SH)
    yield
    os.close(fd)


pytestmark = pytest.mark.skipif(gthread_worker._IDLE_FILE is None, reason="needs /proc and flock")


@pytest.mark.usefixtures("idle_sibling")
def test_a_worker_without_connections_accepts_at_once(listener, accepted, monkeypatch):  # noqa: ANN001
    monkeypatch.setattr(gthread_worker.time, "sleep", _must_not_wait)
    _worker(0).accept(listener)
    assert len(accepted) == 1


@pytest.mark.usefixtures("idle_sibling")
def test_a_busy_worker_leaves_the_connection_to_an_idle_one(listener, accepted):  # noqa: ANN001
    taken_by_sibling: list[socket.socket] = []

    def sibling_accepts() -> None:
        listener.setblocking(True)
        taken_by_sibling.append(listener.accept()[0])

    thread = threading.Thread(target=sibling_accepts)
    try:
        thread.start()
        thread.join()  # the idle sibling took it, as it would while the busy one waits
        _worker(1).accept(listener)
    finally:
        for connection in taken_by_sibling:
            connection.close()
    assert accepted == [] and len(taken_by_sibling) == 1


@pytest.mark.usefixtures("idle_sibling")
def test_a_busy_worker_accepts_when_the_idle_one_does_not(listener, accepted, monkeypatch):  # noqa: ANN001
    monkeypatch.setattr(gthread_worker, "ACCEPT_DEFER_SECONDS", 0.005)
    _worker(1).accept(listener)
    assert len(accepted) == 1


def test_a_busy_worker_accepts_at_once_when_no_worker_is_idle(listener, accepted, monkeypatch):  # noqa: ANN001
    monkeypatch.setattr(gthread_worker.time, "sleep", _must_not_wait)
    _worker(2).accept(listener)
    assert len(accepted) == 1


def test_the_idle_lock_follows_the_connection_count():
    worker = _worker(0)
    worker._conns = 0
    fcntl.flock(worker._idle_fd, fcntl.LOCK_SH)  # run(): started and idle
    observer = _worker(3)  # a busy sibling looking for an idle worker
    assert observer._other_worker_idle()
    worker.nr_conns += 1
    assert not observer._other_worker_idle()
    worker.nr_conns -= 1
    assert observer._other_worker_idle()
