"""The real server for tests: gunicorn started with the shipped gunicorn.conf.py."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class LiveServer:
    base: str
    process: subprocess.Popen

    def worker_pids(self) -> list[int]:
        pids = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                if int(fields[1]) == self.process.pid:  # field 4: the parent pid
                    pids.append(int(entry.name))
        return sorted(pids)

    def kill_a_worker(self) -> int:
        pid = self.worker_pids()[0]
        os.kill(pid, signal.SIGKILL)
        return pid


@contextmanager
def running_server(
    env: dict[str, str], *, workers: int = 2, app: str = "webhook_server:create_app()"
) -> Iterator[LiveServer]:
    """gunicorn -c gunicorn.conf.py on a free port with `env` added; stopped on exit."""
    port = free_port()
    process = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "-c",
            str(ROOT / "gunicorn.conf.py"),
            app,
        ],
        cwd=ROOT,
        env={
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "GUNICORN_BIND": f"127.0.0.1:{port}",
            "WEB_CONCURRENCY": str(workers),
            "GUNICORN_ACCESS_LOG": "",
            "GUNICORN_LOG_LEVEL": "warning",
            **env,
        },
    )
    server = LiveServer(f"http://127.0.0.1:{port}", process)
    try:
        _wait_until_up(server, workers)
        yield server
    finally:  # never leave the server running, whatever happened
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def _wait_until_up(server: LiveServer, workers: int) -> None:
    deadline = time.monotonic() + 60
    while True:  # /healthz, not /readyz: some tests start a server on a broken database
        try:
            up = requests.get(f"{server.base}/healthz", timeout=5).status_code == 200
            if up and len(server.worker_pids()) >= workers:
                return
        except requests.RequestException:  # still booting
            pass
        if server.process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("gunicorn did not start")
        time.sleep(0.1)
