"""Stored in the request, processed after it: crash recovery, exactly once, order per issue."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from core import registry
from core.config import get_settings, reset_settings
from core.db import session_scope
from core.jira import inbox, processing
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


def submitted(people, make_agent, key: str, **fields) -> int:  # noqa: ANN001, ANN003
    """An agent pending review, its submission tracked by Jira issue `key`."""
    agent = make_agent(people["developer"], **fields)
    with session_scope(write=True) as session:
        registry.submit_agent(
            session, agent_id=agent.id, actor_email=people["developer"], source=Source.CLI
        )
        session.get(Agent, agent.id).jira_issue_key = key
        for version in session.scalars(
            select(AgentVersion).where(AgentVersion.agent_id == agent.id)
        ):
            version.jira_issue_key = key
    return agent.id


@pytest.fixture
def pending_agent(people, make_agent, make_user) -> int:  # noqa: ANN001
    make_user("ada@example.com", "approver")  # the payloads' Jira user
    return submitted(people, make_agent, "AGENT-7")


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
    assert processing.process_received(**not_run[0]) is None
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
    assert processing.process_received(url=url, event_id=second["event_id"]) == "processed"
    assert (rows()["first"]["status"], rows()["second"]["status"]) == ("processed", "processed")
    status = agent(pending_agent)
    assert status["status"] == "approved"
    assert any("In Progress" in h["comment"] for h in status["history"])
    assert processing.process_received(**not_run[0]) is None


def test_processing_takes_the_oldest_deliveries_in_short_batches(
    pending_agent, not_run, monkeypatch
):
    monkeypatch.setattr(processing, "QUIET_BATCH_SECONDS", 60.0)  # bounded by the count alone here
    total = processing.BATCH_EVENTS + 4
    for n in range(total):
        deliver(payloads.comment_event("AGENT-7", comment_id=str(9000 + n), body=f"c{n}"), f"d{n}")
    url = get_settings().sqlalchemy_url

    assert processing.process_batch(url) == processing.BATCH_EVENTS
    statuses = [rows()[f"d{n}"]["status"] for n in range(total)]
    assert statuses == ["processed"] * processing.BATCH_EVENTS + ["received"] * 4

    # A request is being answered: one delivery, then the writer lock is free for it.
    monkeypatch.setattr(processing, "BATCH_SECONDS", 0.0)
    monkeypatch.setattr(processing, "requests_in_flight", lambda url: True)
    assert processing.process_batch(url) == 1
    assert rows()[f"d{processing.BATCH_EVENTS}"]["status"] == "processed"
    assert processing.process_batch(url) == 1
    assert processing.process_batch(url) + processing.process_batch(url) == 2
    assert processing.process_batch(url) == 0
    assert {row["status"] for row in rows().values()} == {"processed"}


@pytest.fixture
def second_pending_agent(people, make_agent) -> int:  # noqa: ANN001
    return submitted(people, make_agent, "AGENT-8", name="second-agent")


@pytest.fixture
def applied_order(monkeypatch) -> list[str]:  # noqa: ANN001
    """The delivery ids in the order processing applied them."""
    order: list[str] = []
    apply = processing.process_payload

    def recording(session, *, payload, attempts, delivery_id):  # noqa: ANN001, ANN202
        order.append(delivery_id)
        return apply(session, payload=payload, attempts=attempts, delivery_id=delivery_id)

    monkeypatch.setattr(processing, "process_payload", recording)
    return order


def comment(key: str, n: int) -> dict:
    return payloads.comment_event(key, comment_id=str(7000 + n), body=f"note {n}")


def test_a_batch_applies_each_issue_in_arrival_order_once(
    pending_agent, second_pending_agent, not_run, applied_order, monkeypatch
):
    monkeypatch.setattr(processing, "QUIET_BATCH_SECONDS", 60.0)  # bounded by the count alone
    ts = payloads.now_ms() + 60_000  # after the comments' issue snapshots
    deliver(comment("AGENT-7", 1), "a1")
    deliver(comment("AGENT-8", 2), "b1")
    step = payloads.status_changed(
        "AGENT-7", from_status="To Do", to_status="In Progress", timestamp=ts
    )
    deliver(step, "a2")
    deliver(comment("AGENT-8", 3), "b2")
    approve = payloads.status_changed(
        "AGENT-7", from_status="In Progress", to_status="Approved", timestamp=ts + 1
    )
    deliver(approve, "a3")
    url = get_settings().sqlalchemy_url

    assert processing.process_batch(url) == 5
    # Issue by issue (in the order of each one's oldest delivery), arrival order within each.
    assert applied_order == ["a1", "a2", "a3", "b1", "b2"]
    stored = rows()
    assert {d: (stored[d]["status"], stored[d]["attempts"]) for d in stored} == {
        d: ("processed", 1) for d in ("a1", "a2", "a3", "b1", "b2")
    }
    assert agent(pending_agent)["status"] == "approved"
    # Nothing is left to apply twice, by the backlog or by a late single-delivery attempt.
    assert processing.process_batch(url) == 0
    assert all(processing.process_received(**handed) is None for handed in not_run)
    assert applied_order == ["a1", "a2", "a3", "b1", "b2"]


def test_a_window_another_process_already_took_is_not_applied_again(
    pending_agent, not_run, applied_order
):
    for n in range(3):
        deliver(comment("AGENT-7", n), f"c{n}")
    url = get_settings().sqlalchemy_url
    with session_scope() as session:
        ids = session.connection().execute(processing._OLDEST_RECEIVED).scalars().all()

    # Two processes read the same window; the second gets the write lock (or the row locks)
    # after the first committed, and finds nothing `received` left in it.
    assert processing._process_window(url, ids) == 3
    assert processing._process_window(url, ids) == 0
    assert applied_order == ["c0", "c1", "c2"]
    assert {row["attempts"] for row in rows().values()} == {1}


def test_one_failing_delivery_leaves_the_rest_of_its_batch_applied(
    pending_agent, not_run, monkeypatch
):
    apply = processing.apply_event

    def failing_on_boom(session, *, payload):  # noqa: ANN001, ANN202
        if "boom" in json.dumps(payload):
            raise RuntimeError("boom")
        return apply(session, payload=payload)

    monkeypatch.setattr(processing, "apply_event", failing_on_boom)
    monkeypatch.setattr(processing, "QUIET_BATCH_SECONDS", 60.0)
    deliver(comment("AGENT-7", 1), "before")
    deliver(payloads.comment_event("AGENT-7", comment_id="7999", body="boom"), "failing")
    deliver(comment("AGENT-7", 2), "after")
    url = get_settings().sqlalchemy_url

    assert processing.process_batch(url) == 3
    stored = rows()
    assert (stored["before"]["status"], stored["after"]["status"]) == ("processed", "processed")
    assert (stored["failing"]["status"], stored["failing"]["attempts"]) == ("retrying", 1)
    assert stored["failing"]["error"] == "RuntimeError: boom"
    bodies = [c["body"] for c in agent(pending_agent).get("comments", [])]
    assert "boom" not in bodies
    assert processing.process_batch(url) == 0  # a retry is the retry job's, not the backlog's


def test_a_batch_whose_window_another_process_took_goes_on_with_the_next(
    pending_agent, not_run, applied_order, monkeypatch
):
    monkeypatch.setattr(processing, "QUIET_BATCH_SECONDS", 60.0)
    total = processing.BATCH_EVENTS + 2
    for n in range(total):
        deliver(comment("AGENT-7", n), f"c{n}")
    url = get_settings().sqlalchemy_url
    window = processing._process_window
    taken_elsewhere: list[int] = []

    def another_process_first(url: str, ids: list[int]) -> int:
        if not taken_elsewhere:  # the other worker got the write lock for this window first
            taken_elsewhere.append(window(url, ids))
        return window(url, ids)

    monkeypatch.setattr(processing, "_process_window", another_process_first)
    # Not 0 (which would end this process's backlog thread): the next window is taken.
    assert processing.process_batch(url) == 2
    assert taken_elsewhere == [processing.BATCH_EVENTS]
    assert applied_order == [f"c{n}" for n in range(total)]
    assert processing.process_batch(url) == 0
