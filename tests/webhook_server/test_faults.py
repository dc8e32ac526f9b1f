"""Fault injection against the real server (gunicorn with gunicorn.conf.py) on SQLite.

Database locked longer than the busy timeout, a read-only database, an unusable `.writers` lock
file, a worker killed mid-burst, a chunked body over the limit: the answers are 503 with
Retry-After (or success), never a 500 or a dropped answer, and nothing accepted is lost —
what was refused is stored once when sent again.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from core import auth, registry
from core.db import session_scope
from core.jira.signature import sign
from core.models import Agent, AgentVersion, Role, Source, UsageLog, WebhookEvent
from tests.jira_double import payloads
from tests.webhook_server.live import running_server

pytestmark = pytest.mark.slow
SECRET = "fault-secret"
ISSUE = "AGENT-7"


@pytest.fixture
def setup(sqlite_url) -> dict:  # noqa: ANN001
    """An agent linked to a Jira issue and an ingest token, in a fresh SQLite file."""
    with session_scope(write=True) as session:
        auth.create_user(session, email="dev@example.com", name="Dev", role=Role.DEVELOPER)
        agent = registry.create_agent(
            session,
            owner_email="dev@example.com",
            source=Source.CLI,
            name="Fault agent",
            description="An agent that the fault tests comment on",
            model="gpt-4o",
        )
        session.flush()
        session.get(Agent, agent.id).jira_issue_key = ISSUE
        for version in session.query(AgentVersion).filter_by(agent_id=agent.id):
            version.jira_issue_key = ISSUE
        token = auth.create_api_token(session, name="faults").token
        agent_id = agent.id
    path = Path(make_url(sqlite_url).database)
    return {"url": sqlite_url, "path": path, "agent": agent_id, "token": token}


def _env(setup: dict, **extra: str) -> dict[str, str]:
    return {"DATABASE_URL": setup["url"], "JIRA_WEBHOOK_SECRET": SECRET} | extra


def _events(setup: dict, base: str, count: int = 3) -> requests.Response:
    body = {"events": [{"agent_id": setup["agent"], "event_type": "viewed"}] * count}
    headers = {"Authorization": f"Bearer {setup['token']}"}
    return requests.post(f"{base}/api/analytics/events", json=body, headers=headers, timeout=30)


def _delivery(base: str, delivery: str, n: int = 0) -> requests.Response:
    payload = payloads.comment_event(ISSUE, comment_id=str(10_000 + n), body=f"note {n}")
    body = json.dumps(payload).encode()
    headers = {
        "X-Hub-Signature": sign(SECRET, body),
        "X-Atlassian-Webhook-Identifier": delivery,
        "Content-Type": "application/json",
    }
    return requests.post(f"{base}/api/jira/webhook", data=body, headers=headers, timeout=30)


def _stored_events() -> int:
    with session_scope() as session:
        return session.scalar(select(func.count()).select_from(UsageLog))


def _stored_deliveries() -> dict[str, int]:
    with session_scope() as session:
        rows = session.execute(
            select(WebhookEvent.delivery_id, func.count()).group_by(WebhookEvent.delivery_id)
        )
        return dict(rows.all())


def _assert_unavailable(response: requests.Response) -> None:
    assert response.status_code == 503, response.text
    assert int(response.headers["Retry-After"]) > 0
    assert response.headers["Content-Type"].startswith("application/json")


@contextmanager
def _write_lock_held(path: Path) -> Iterator[None]:
    """Another program holds SQLite's write lock (as a long migration or backup would)."""
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        other.execute("ROLLBACK")
        other.close()


def test_database_locked_longer_than_the_busy_timeout_is_503_then_nothing_lost(setup):
    with running_server(_env(setup, SQLITE_BUSY_TIMEOUT_MS="300")) as server:
        with _write_lock_held(setup["path"]):
            _assert_unavailable(_events(setup, server.base))
            _assert_unavailable(_delivery(server.base, "locked"))
            assert requests.get(f"{server.base}/healthz", timeout=30).status_code == 200
            ready = requests.get(f"{server.base}/readyz", timeout=30)
            assert ready.status_code == 503
            assert "locked" in ready.json()["error"]
        assert (_stored_events(), _stored_deliveries()) == (0, {})
        # The client sends again after Retry-After: each is stored once.
        assert _events(setup, server.base).status_code == 201
        assert _delivery(server.base, "locked").status_code == 200
        assert requests.get(f"{server.base}/readyz", timeout=30).status_code == 200
    assert (_stored_events(), _stored_deliveries()) == (3, {"locked": 1})


def test_read_only_database_is_503_and_not_ready(setup):
    read_only = f"sqlite:///file:{setup['path']}?mode=ro&uri=true"
    with running_server(_env(setup, DATABASE_URL=read_only)) as server:
        ready = requests.get(f"{server.base}/readyz", timeout=30)
        assert ready.status_code == 503
        assert "readonly" in ready.json()["error"]
        _assert_unavailable(_events(setup, server.base))
        _assert_unavailable(_delivery(server.base, "read-only"))
        assert requests.get(f"{server.base}/healthz", timeout=30).status_code == 200
    assert (_stored_events(), _stored_deliveries()) == (0, {})
    with running_server(_env(setup)) as server:  # writable again: the retries are stored
        assert _events(setup, server.base).status_code == 201
        assert _delivery(server.base, "read-only").status_code == 200
    assert (_stored_events(), _stored_deliveries()) == (3, {"read-only": 1})


def test_unusable_writers_lock_file_falls_back_to_sqlite_locking(setup):
    Path(f"{setup['path']}.writers").mkdir()  # cannot be opened as a file
    with running_server(_env(setup)) as server:
        answers = [_delivery(server.base, f"d{n}", n).status_code for n in range(5)]
        assert answers == [200] * 5
        assert _events(setup, server.base).status_code == 201
        assert requests.get(f"{server.base}/readyz", timeout=30).status_code == 200
    assert _stored_deliveries() == {f"d{n}": 1 for n in range(5)}
    assert _stored_events() == 3


def test_chunked_body_over_the_limit_is_413_and_stores_nothing(setup):
    limit = 256 * 1024
    with running_server(_env(setup, MAX_CONTENT_LENGTH=str(limit))) as server:
        event = json.dumps({"agent_id": setup["agent"], "event_type": "viewed"}).encode()
        big = b'{"events": [' + b",".join([event] * (3 * limit // len(event))) + b"]}"
        small = b'{"events": [' + b",".join([event] * 10) + b"]}"
        headers = {"Authorization": f"Bearer {setup['token']}"}

        def chunks(body: bytes) -> Iterator[bytes]:  # a generator: requests sends it chunked
            for start in range(0, len(body), 16 * 1024):
                yield body[start : start + 16 * 1024]

        url = f"{server.base}/api/analytics/events"
        refused = requests.post(url, data=chunks(big), headers=headers, timeout=30)
        assert refused.status_code == 413
        assert "MAX_CONTENT_LENGTH" in refused.json()["message"]
        assert requests.post(url, data=chunks(small), headers=headers, timeout=30).json() == {
            "stored": 10
        }
    assert _stored_events() == 10


def test_a_worker_killed_mid_burst_loses_nothing(setup):
    total = 120
    killed = threading.Event()
    with running_server(_env(setup)) as server:

        def deliver(n: int) -> str:
            delivery = str(uuid.uuid4())
            if n == total // 3 and not killed.is_set():
                killed.set()
                server.kill_a_worker()
            for _ in range(50):  # as Jira does: send again until a 2xx
                try:
                    status = _delivery(server.base, delivery, n).status_code
                except requests.RequestException:  # the connection died with the worker
                    continue
                assert status < 500 or status == 503
                if status == 200:
                    return delivery
            raise AssertionError(f"delivery {n} was never accepted")

        with ThreadPoolExecutor(4) as pool:
            accepted = list(pool.map(deliver, range(total)))
        assert killed.is_set()
        _wait_until_all_applied(total, setup["agent"])
    assert _stored_deliveries() == dict.fromkeys(accepted, 1)


def _wait_until_all_applied(total: int, agent_id: int, timeout: float = 90.0) -> None:
    """Deliveries a killed worker left `received` are picked up by the periodic job."""
    deadline = time.monotonic() + timeout
    while True:
        with session_scope() as session:
            statuses = dict(
                session.execute(
                    select(WebhookEvent.status, func.count()).group_by(WebhookEvent.status)
                ).all()
            )
            comments = registry.agent_status(session, agent_id=agent_id)["comments"]
        if sum(statuses.values()) == total and {s.value for s in statuses} == {"processed"}:
            assert len(comments) == total  # each applied exactly once
            return
        assert time.monotonic() < deadline, f"not all processed: {statuses}"
        time.sleep(0.2)
