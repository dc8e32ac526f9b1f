"""Stored in the request, processed after it: crash recovery, exactly once, order per issue."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from core import registry
from core.config import get_settings, reset_settings
from core.db import session_scope
from core.jira import inbox
from core.jira.signature import sign
from core.models import Agent, AgentVersion, Source, WebhookStatus
from tests.jira_double import payloads

SECRET = "s3cret"


@pytest.fixture(autouse=True)
def _secret(monkeypatch, db_url):  # noqa: ANN001
    monkeypatch.setenv("JIRA_WEBHOOK_SECRET", SECRET)
    reset_settings()


@pytest.fixture
def not_run(monkeypatch) -> list[dict]:  # noqa: ANN001
    """The process 'dies' after answering: what it would have processed, never run."""
    handed_over: list[dict] = []
    monkeypatch.setattr(inbox, "process_soon", lambda **kwargs: handed_over.append(kwargs))
    return handed_over


@pytest.fixture
def pending_agent(people, make_agent, make_user) -> int:  # noqa: ANN001
    make_user("ada@example.com", "approver")  # the payloads' Jira user
    agent = make_agent(people["developer"])
    with session_scope(write=True) as session:
        registry.submit_agent(
            session, agent_id=agent.id, actor_email=people["developer"], source=Source.CLI
        )
        session.get(Agent, agent.id).jira_issue_key = "AGENT-7"
        for version in session.scalars(
            select(AgentVersion).where(AgentVersion.agent_id == agent.id)
        ):
            version.jira_issue_key = "AGENT-7"
    return agent.id


def deliver(payload: dict, delivery_id: str) -> inbox.Receipt:
    body = json.dumps(payload).encode()
    return inbox.handle_delivery(body=body, signature=sign(SECRET, body), delivery_id=delivery_id)


def rows() -> dict[str, dict]:
    with session_scope() as session:
        return {e["delivery_id"]: e for e in inbox.list_events(session, limit=100)}


def agent(agent_id: int) -> dict:
    with session_scope() as session:
        return registry.agent_status(session, agent_id=agent_id)


def test_stored_delivery_left_by_a_dead_process_is_processed_once(
    pending_agent, not_run, monkeypatch
):
    approve = payloads.status_changed("AGENT-7", from_status="To Do", to_status="Approved")
    receipt = deliver(approve, "orphan")
    assert (receipt.verdict, receipt.status) == (inbox.Verdict.ACCEPTED, WebhookStatus.RECEIVED)
    assert len(not_run) == 1
    row = rows()["orphan"]
    assert (row["status"], row["event_type"], row["issue_key"], row["attempts"]) == (
        "received",
        "jira:issue_updated",
        "AGENT-7",
        0,
    )
    assert agent(pending_agent)["status"] == "pending"

    # Too fresh: the receiving process may still be about to process it.
    assert inbox.process_left_received() == 0
    monkeypatch.setattr(inbox, "RECEIVED_GRACE", timedelta(0))
    assert inbox.process_left_received() == 1
    assert (rows()["orphan"]["status"], rows()["orphan"]["attempts"]) == ("processed", 1)
    assert agent(pending_agent)["status"] == "approved"

    # The late in-process attempt and the job again: nothing left to claim.
    assert inbox.process_received(**not_run[0]) is None
    assert inbox.process_left_received() == 0
    assert [h["to"] for h in agent(pending_agent)["history"]].count("approved") == 1


def test_waiting_deliveries_of_one_issue_apply_in_arrival_order(pending_agent, not_run):
    ts = 1_790_000_000_000
    deliver(
        payloads.status_changed(
            "AGENT-7", from_status="To Do", to_status="In Progress", timestamp=ts
        ),
        "first",
    )
    deliver(
        payloads.status_changed(
            "AGENT-7", from_status="In Progress", to_status="Approved", timestamp=ts + 1
        ),
        "second",
    )
    # The worker that received the second delivery gets to it first.
    url = get_settings().sqlalchemy_url
    second = next(k for k in not_run if k["event_id"] != not_run[0]["event_id"])
    assert inbox.process_received(url=url, event_id=second["event_id"]) == "processed"
    assert (rows()["first"]["status"], rows()["second"]["status"]) == ("processed", "processed")
    status = agent(pending_agent)
    assert status["status"] == "approved"
    assert any("In Progress" in h["comment"] for h in status["history"])
    assert inbox.process_received(**not_run[0]) is None


def test_processing_takes_the_oldest_deliveries_in_short_batches(
    pending_agent, not_run, monkeypatch
):
    monkeypatch.setattr(inbox, "QUIET_BATCH_SECONDS", 60.0)  # bounded by the count alone here
    total = inbox.BATCH_EVENTS + 4
    for n in range(total):
        deliver(payloads.comment_event("AGENT-7", comment_id=str(9000 + n), body=f"c{n}"), f"d{n}")
    url = get_settings().sqlalchemy_url

    assert inbox.process_batch(url) == inbox.BATCH_EVENTS
    statuses = [rows()[f"d{n}"]["status"] for n in range(total)]
    assert statuses == ["processed"] * inbox.BATCH_EVENTS + ["received"] * 4

    # A request is being answered: one delivery, then the writer lock is free for it.
    monkeypatch.setattr(inbox, "BATCH_SECONDS", 0.0)
    monkeypatch.setattr(inbox, "requests_in_flight", lambda url: True)
    assert inbox.process_batch(url) == 1
    assert rows()[f"d{inbox.BATCH_EVENTS}"]["status"] == "processed"
    assert inbox.process_batch(url) == 1
    assert inbox.process_batch(url) + inbox.process_batch(url) == 2
    assert inbox.process_batch(url) == 0
    assert {row["status"] for row in rows().values()} == {"processed"}
