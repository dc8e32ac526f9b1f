"""`POST /api/jira/webhook` over HTTP: signatures, idempotency, junk, limits, failures."""

from __future__ import annotations

import json
import threading
import uuid

import pytest
import requests
from sqlalchemy.exc import OperationalError
from werkzeug.serving import make_server

from core import registry
from core.config import reset_settings
from core.db import session_scope
from core.jira import events as jira_events
from core.jira.inbox import list_events, retry_due_events
from core.jira.signature import sign
from core.models import Agent, AgentVersion, Source
from tests.jira_double import payloads
from tests.webhook_server.test_guard import _chunked
from tests.webhook_server.waiting import wait_until_processed
from webhook_server import create_app, jira_webhook

SECRET = "hook-secret"


@pytest.fixture
def app(db_url, monkeypatch):  # noqa: ANN001
    monkeypatch.setenv("JIRA_WEBHOOK_SECRET", SECRET)
    monkeypatch.setenv("WEBHOOK_RETRY_BASE_SECONDS", "0")
    reset_settings()
    return create_app({"TESTING": True, "MAX_CONTENT_LENGTH": 64 * 1024})


@pytest.fixture
def client(app):  # noqa: ANN001
    return app.test_client()


@pytest.fixture
def agent_id(people, make_agent, make_user):  # noqa: ANN001
    make_user("ada@example.com", "approver")  # the payloads' Jira user
    agent = make_agent(people["developer"])
    with session_scope(write=True) as session:
        registry.submit_agent(
            session, agent_id=agent.id, actor_email=people["developer"], source=Source.CLI
        )
        session.get(Agent, agent.id).jira_issue_key = "AGENT-3"
        for version in session.query(AgentVersion).filter_by(agent_id=agent.id):
            version.jira_issue_key = "AGENT-3"
    return agent.id


def post(client, payload=None, *, raw=None, secret=SECRET, delivery=None, signature=None):  # noqa: ANN001
    body = raw if raw is not None else json.dumps(payload).encode()
    headers = {
        "Content-Type": "application/json",
        "X-Atlassian-Webhook-Identifier": delivery or str(uuid.uuid4()),
    }
    if signature is None and secret is not None:
        signature = sign(secret, body)
    if signature is not None:
        headers["X-Hub-Signature"] = signature
    return client.post("/api/jira/webhook", data=body, headers=headers)


def stored() -> dict[str, dict]:
    with session_scope() as session:
        return {e["delivery_id"]: e for e in list_events(session, limit=500)}


def agent_status(agent_id: int) -> str:
    with session_scope() as session:
        return registry.agent_status(session, agent_id=agent_id)["status"]


APPROVE = payloads.status_changed("AGENT-3", from_status="To Do", to_status="Approved")


def test_valid_signature_is_processed(client, agent_id):
    response = post(client, APPROVE, delivery="ok-1")
    assert response.status_code == 200
    assert response.json["status"] == "received"  # stored; processed right after the answer
    wait_until_processed()
    assert stored()["ok-1"]["status"] == "processed"
    assert agent_status(agent_id) == "approved"


@pytest.mark.parametrize(
    "case",
    ["tampered body", "wrong secret", "missing header", "unknown method", "re-serialized body"],
)
def test_bad_signatures_are_refused_and_not_stored(client, agent_id, case):
    body = json.dumps(APPROVE).encode()
    good = sign(SECRET, body)
    kwargs = {
        "tampered body": {"raw": body.replace(b"Approved", b"Rejected"), "signature": good},
        "wrong secret": {"raw": body, "secret": "not-the-secret"},
        "missing header": {"raw": body, "secret": None},
        "unknown method": {"raw": body, "signature": "sha1=" + good.split("=", 1)[1]},
        # Same JSON, different bytes: the signature covers the raw body, not the data.
        "re-serialized body": {"raw": json.dumps(APPROVE, indent=2).encode(), "signature": good},
    }[case]
    response = post(client, delivery="bad", **kwargs)
    assert response.status_code == 401
    assert "bad" not in stored()
    assert agent_status(agent_id) == "pending"


def test_no_secret_fails_closed(client, agent_id, monkeypatch):
    monkeypatch.setenv("JIRA_WEBHOOK_SECRET", "")
    reset_settings()
    assert post(client, APPROVE, secret=None).status_code == 401
    assert post(client, APPROVE, secret="anything").status_code == 401
    assert stored() == {}


def test_allow_unsigned_accepts_without_secret(client, agent_id, monkeypatch):
    monkeypatch.setenv("JIRA_WEBHOOK_SECRET", "")
    monkeypatch.setenv("WEBHOOK_ALLOW_UNSIGNED", "true")
    reset_settings()
    assert post(client, APPROVE, secret=None).status_code == 200
    wait_until_processed()
    assert agent_status(agent_id) == "approved"


def test_duplicates_in_sequence_answer_200_and_apply_once(client, agent_id):
    note = payloads.status_changed("AGENT-3", from_status="To Do", to_status="In Progress")
    first = post(client, note, delivery="dup")
    second = post(client, note, delivery="dup")
    assert (first.status_code, second.status_code) == (200, 200)
    assert second.json["result"] == "duplicate"
    wait_until_processed()
    with session_scope() as session:
        history = registry.agent_status(session, agent_id=agent_id)["history"]
    assert sum("In Progress" in h["comment"] for h in history) == 1


def test_simultaneous_duplicates_are_processed_once(app, agent_id):
    """Real HTTP server with threads; eight copies of one delivery at the same moment."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True).start()
    body = json.dumps(
        payloads.comment_event("AGENT-3", comment_id="4242", body="Looks good")
    ).encode()
    headers = {
        "X-Atlassian-Webhook-Identifier": "same-moment",
        "X-Hub-Signature": sign(SECRET, body),
        "Content-Type": "application/json",
    }
    barrier = threading.Barrier(8)
    codes: list[int] = []

    def send() -> None:
        barrier.wait()
        url = f"http://127.0.0.1:{server.server_port}/api/jira/webhook"
        codes.append(requests.post(url, data=body, headers=headers, timeout=60).status_code)

    threads = [threading.Thread(target=send) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    server.shutdown()
    assert codes == [200] * 8
    wait_until_processed()
    assert len(stored()) == 1
    with session_scope() as session:
        comments = registry.agent_status(session, agent_id=agent_id)["comments"]
    assert [c["body"] for c in comments] == ["Looks good"]


@pytest.mark.parametrize("junk", [b"not json at all", b"[1, 2, 3]", b"\xff\xfe\x00garbage", b""])
def test_signed_junk_is_400_and_stored_invalid(client, agent_id, junk):
    response = post(client, raw=junk, delivery="junk")
    assert response.status_code == 400
    assert stored()["junk"]["status"] == "invalid"


def test_oversized_body_is_413(client, agent_id):
    big = json.dumps({**APPROVE, "padding": "x" * 100_000}).encode()
    assert post(client, raw=big, delivery="big").status_code == 413
    assert "big" not in stored()


def test_unknown_event_and_unmatched_issue_answer_200(client, agent_id):
    assert post(client, {"webhookEvent": "board_created"}, delivery="u1").status_code == 200
    other = payloads.status_changed("ZZZ-9", from_status="To Do", to_status="Approved")
    assert post(client, other, delivery="u2").status_code == 200
    wait_until_processed()
    rows = stored()
    assert (rows["u1"]["status"], rows["u2"]["status"]) == ("ignored", "unmatched")


def test_storage_failure_is_503(client, agent_id, monkeypatch, tmp_path):
    # A database without our tables: the INSERT fails, so Jira must retry.
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    reset_settings()
    response = post(client, APPROVE, delivery="lost")
    assert response.status_code == 503
    assert response.headers["Retry-After"]


def test_processing_failure_is_retried_then_dead_lettered_then_replayed(
    client, agent_id, monkeypatch, capsys
):
    calls = {"n": 0}
    real = jira_events.workflow.decide_agent

    def flaky(*args, **kwargs):  # noqa: ANN002, ANN003
        calls["n"] += 1
        raise OperationalError("UPDATE agent_configs", {}, Exception("database is locked"))

    monkeypatch.setattr(jira_events.workflow, "decide_agent", flaky)
    response = post(client, APPROVE, delivery="flaky")
    assert response.status_code == 200  # stored: Jira must not resend
    wait_until_processed()
    assert stored()["flaky"]["status"] == "retrying"
    for _ in range(3):  # the background job's retries (backoff set to 0 s for the test)
        assert retry_due_events() == 1
    row = stored()["flaky"]
    assert (row["status"], row["attempts"]) == ("failed", 4)
    assert "database is locked" in row["error"]
    assert retry_due_events() == 0  # dead letters are not retried automatically
    assert agent_status(agent_id) == "pending"

    monkeypatch.setattr(jira_events.workflow, "decide_agent", real)
    from core.cli import main

    assert main(["webhooks", "list", "--status", "failed", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [r["delivery_id"] for r in listed] == ["flaky"]
    assert main(["webhooks", "replay", "--failed"]) == 0
    assert stored()["flaky"]["status"] == "processed"
    assert agent_status(agent_id) == "approved"
    assert calls["n"] == 4


def test_only_one_worker_claims_a_retry(client, agent_id, monkeypatch):
    from core.jira import inbox

    def broken(*args, **kwargs):  # noqa: ANN002, ANN003
        raise OperationalError("SELECT", {}, Exception("disk I/O error"))

    monkeypatch.setattr(jira_events.workflow, "decide_agent", broken)
    post(client, APPROVE, delivery="claimed")
    wait_until_processed()
    with session_scope() as session:
        event_id = inbox.find_event(session, ref="claimed").id
    assert inbox._claim(event_id) is True
    assert inbox._claim(event_id) is False  # another worker finds the lease taken
    assert retry_due_events() == 0  # and so does the job in any process


def test_a_chunked_delivery_is_answered_like_a_sized_one(client, agent_id):
    """Sized bodies are answered without Flask's request objects, chunked ones through the
    Flask view: the same answer, stored the same way."""
    comment = payloads.comment_event("AGENT-3", comment_id="8101", body="sized")
    sized = post(client, comment, delivery="sized")
    body = json.dumps(payloads.comment_event("AGENT-3", comment_id="8102", body="chunked")).encode()
    chunked = client.post(
        "/api/jira/webhook",
        headers={
            "X-Hub-Signature": sign(SECRET, body),
            "X-Atlassian-Webhook-Identifier": "chunked",
            "Transfer-Encoding": "chunked",
        },
        environ_overrides=_chunked(body),
    )
    for response, delivery in ((sized, "sized"), (chunked, "chunked")):
        assert response.status_code == 200
        assert response.headers["Content-Type"] == "application/json"
        assert response.get_json() == {
            "result": "accepted",
            "message": "stored",
            "delivery_id": delivery,
            "status": "received",
        }
    assert {"sized", "chunked"} <= set(stored())


def test_a_body_shorter_than_its_length_is_400_and_not_stored(client):
    body = json.dumps(APPROVE).encode()
    response = client.post(
        "/api/jira/webhook",
        headers={
            "X-Hub-Signature": sign(SECRET, body),
            "X-Atlassian-Webhook-Identifier": "cut",
            "Content-Length": str(len(body) + 10),
        },
        environ_overrides={"wsgi.input": _Cut(body), "CONTENT_LENGTH": str(len(body) + 10)},
    )
    assert response.status_code == 400
    assert response.get_json()["error"] == "Bad Request"
    assert "cut" not in stored()


def test_an_unexpected_failure_answers_json_500(client, monkeypatch):
    def broken(**kwargs):  # noqa: ANN003, ANN202
        raise RuntimeError("bug")

    monkeypatch.setattr(jira_webhook, "handle_delivery", broken)
    response = post(client, APPROVE, delivery="bug")
    assert response.status_code == 500
    assert response.get_json() == {
        "error": "Internal Server Error",
        "message": "unexpected error; see the log",
    }


class _Cut:
    """A stream that ends before the Content-Length it was sent with (a client gone)."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def read(self, size: int = -1) -> bytes:
        piece, self.data = self.data, b""
        return piece
