"""Webhook deliveries stored and applied by core (every configured database backend)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from core import registry
from core.config import reset_settings
from core.db import session_scope
from core.jira.inbox import Verdict, list_events, receive
from core.jira.signature import sign
from core.models import Agent, AgentVersion, Comment, Source, WebhookStatus
from tests.jira_double import payloads

SECRET = "s3cret"


@pytest.fixture(autouse=True)
def _secret(monkeypatch, db_url):  # noqa: ANN001
    monkeypatch.setenv("JIRA_WEBHOOK_SECRET", SECRET)
    reset_settings()


@pytest.fixture
def pending_agent(people, make_agent, make_user):  # noqa: ANN001
    """A submitted agent whose Jira issue is AGENT-7 (Jira itself is not configured here).

    Ada, the default Jira user of the payloads, is an approver with a registry account.
    """
    make_user("ada@example.com", "approver")
    agent = make_agent(people["developer"])
    with session_scope(write=True) as session:
        registry.submit_agent(
            session, agent_id=agent.id, actor_email=people["developer"], source=Source.CLI
        )
        row = session.get(Agent, agent.id)
        row.jira_issue_key = "AGENT-7"
        for version in session.scalars(
            select(AgentVersion).where(AgentVersion.agent_id == agent.id)
        ):
            version.jira_issue_key = "AGENT-7"
    return agent.id


def deliver(payload, delivery_id="d-1", *, raw: bytes | None = None, signature=None):  # noqa: ANN001
    body = raw if raw is not None else json.dumps(payload).encode()
    with session_scope(write=True) as session:
        return receive(
            session,
            body=body,
            signature=signature if signature is not None else sign(SECRET, body),
            delivery_id=delivery_id,
        )


def status_of(agent_id: int) -> dict:
    with session_scope() as session:
        return registry.agent_status(session, agent_id=agent_id)


def events() -> dict[str, dict]:
    with session_scope() as session:
        return {e["delivery_id"]: e for e in list_events(session, limit=100)}


def test_approved_status_approves_with_jira_user_and_event_time(pending_agent):
    ts = 1_790_000_000_000
    payload = payloads.status_changed(
        "AGENT-7",
        from_status="In Review",
        to_status="approved",
        timestamp=ts,
        user=payloads.jira_user("Ada", "ada@example.com"),
    )
    receipt = deliver(payload)
    assert receipt.verdict == Verdict.ACCEPTED and receipt.status == WebhookStatus.PROCESSED
    data = status_of(pending_agent)
    assert data["status"] == "approved"
    assert data["approved_by"] == "ada@example.com"
    assert data["approved_at"].startswith("2026-09-21T")  # from Jira's timestamp
    last = data["history"][-1]
    assert (last["from"], last["to"], last["source"]) == ("pending", "approved", "jira")


def test_rejected_status_rejects(pending_agent):
    deliver(payloads.status_changed("AGENT-7", from_status="To Do", to_status="Rejected"))
    assert status_of(pending_agent)["status"] == "rejected"


def test_other_status_is_a_history_note_only(pending_agent):
    deliver(payloads.status_changed("AGENT-7", from_status="To Do", to_status="In Progress"))
    data = status_of(pending_agent)
    assert data["status"] == "pending"
    assert "In Progress" in data["history"][-1]["comment"]
    assert data["history"][-1]["source"] == "jira"


def test_duplicate_delivery_is_not_processed_twice(pending_agent):
    payload = payloads.status_changed("AGENT-7", from_status="To Do", to_status="In Progress")
    assert deliver(payload, "same").verdict == Verdict.ACCEPTED
    assert deliver(payload, "same").verdict == Verdict.DUPLICATE
    notes = [h for h in status_of(pending_agent)["history"] if "In Progress" in h["comment"]]
    assert len(notes) == 1


def test_out_of_order_status_event_is_stored_stale_not_applied(pending_agent):
    newer = payloads.status_changed(
        "AGENT-7", from_status="To Do", to_status="In Progress", timestamp=2_000
    )
    older = payloads.status_changed(
        "AGENT-7", from_status="To Do", to_status="Approved", timestamp=1_000
    )
    deliver(newer, "newer")
    deliver(older, "older")
    assert status_of(pending_agent)["status"] == "pending"
    assert events()["older"]["status"] == "stale"


def test_unknown_issue_is_unmatched_and_unknown_event_ignored(pending_agent):
    deliver(payloads.status_changed("NOPE-1", from_status="To Do", to_status="Approved"), "u")
    deliver(payloads.issue_created("AGENT-7"), "c")
    deliver({"webhookEvent": "jira:version_released", "version": {"id": "1"}}, "v")
    stored = events()
    assert stored["u"]["status"] == "unmatched"
    assert stored["c"]["status"] == "ignored"
    assert stored["v"]["status"] == "ignored"
    assert status_of(pending_agent)["status"] == "pending"


def test_signed_junk_is_stored_invalid(pending_agent):
    receipt = deliver(None, "junk", raw=b"this is { not json")
    assert receipt.verdict == Verdict.INVALID
    assert events()["junk"]["status"] == "invalid"


def test_bad_signature_is_not_stored(pending_agent):
    body = json.dumps(payloads.issue_created("AGENT-7")).encode()
    receipt = deliver(None, "bad", raw=body, signature=sign("other", body))
    assert receipt.verdict == Verdict.UNAUTHORIZED
    assert "bad" not in events()


def test_comments_are_keyed_by_jira_id_across_event_kinds(pending_agent):
    created = payloads.comment_event("AGENT-7", comment_id="901", body="Please add tests")
    deliver(created, "c1")
    deliver(payloads.issue_commented("AGENT-7", comment_id="901", body="Please add tests"), "c2")
    updated = payloads.comment_event(
        "AGENT-7", comment_id="901", body="Please add more tests", event="comment_updated"
    )
    deliver(updated, "c3")
    comments = status_of(pending_agent)["comments"]
    assert [(c["body"], c["source"]) for c in comments] == [("Please add more tests", "jira")]
    assert comments[0]["author"] == "ada@example.com"


def test_a_jira_comment_is_never_linked_to_a_registry_comment_by_text(pending_agent, people):
    """The "LGTM" swallow: a registry comment queued while Jira was down, then a Jira user's
    different comment containing it. Matching is by Jira comment id only: the Jira text is
    stored as its own comment and the registry comment keeps waiting for its own Jira id
    (the outbox records it when it posts the comment, and drops a webhook copy then)."""
    with session_scope(write=True) as session:
        registry.add_comment(
            session,
            agent_id=pending_agent,
            actor_email=people["developer"],
            body="LGTM",
            source=Source.CLI,
        )
    text = "Not LGTM at all: this agent leaks customer data to a third-party API."
    deliver(payloads.comment_event("AGENT-7", comment_id="778", body=text), "jira-user")
    with session_scope() as session:
        rows = session.scalars(
            select(Comment).where(Comment.agent_id == pending_agent).order_by(Comment.id)
        ).all()
        assert [(c.body, c.source, c.jira_comment_id) for c in rows] == [
            ("LGTM", Source.CLI, None),
            (text, Source.JIRA, "778"),
        ]
    assert events()["jira-user"]["status"] == "processed"


def test_approval_echo_of_a_local_decision_changes_nothing(pending_agent, people):
    with session_scope(write=True) as session:
        registry.approve_agent(
            session, agent_id=pending_agent, actor_email=people["approver"], source=Source.CLI
        )
    before = status_of(pending_agent)
    deliver(payloads.status_changed("AGENT-7", from_status="To Do", to_status="Approved"))
    after = status_of(pending_agent)
    assert after["approved_by"] == people["approver"]
    assert len(after["history"]) == len(before["history"])
    assert events()["d-1"]["status"] == "processed"


def test_approval_for_a_cancelled_submission_is_only_a_note(pending_agent, people):
    with session_scope(write=True) as session:
        registry.cancel_agent(
            session, agent_id=pending_agent, actor_email=people["developer"], source=Source.CLI
        )
    deliver(payloads.status_changed("AGENT-7", from_status="To Do", to_status="Approved"))
    data = status_of(pending_agent)
    assert data["status"] == "draft"
    assert "no longer under review" in data["history"][-1]["comment"]


def test_transition_with_a_comment_applies_both(pending_agent):
    payload = payloads.status_changed("AGENT-7", from_status="To Do", to_status="Approved")
    payload["comment"] = payloads.comment_event(
        "AGENT-7", comment_id="555", body="Approved, ship it"
    )["comment"]
    deliver(payload, "both")
    data = status_of(pending_agent)
    assert data["status"] == "approved"
    assert [c["body"] for c in data["comments"]] == ["Approved, ship it"]
