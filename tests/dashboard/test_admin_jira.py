"""Admin page: webhook events (filters, error details, replay) and the Jira connection check."""

from __future__ import annotations

import json

import pytest

from core.config import reset_settings
from tests.dashboard.conftest import PEOPLE, button, go, log_in, messages


@pytest.fixture
def deliveries(dash_db, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setenv("WEBHOOK_ALLOW_UNSIGNED", "true")
    reset_settings()
    from core.jira.inbox import handle_delivery

    handle_delivery(body=b"{not json", signature=None, delivery_id="d-bad")
    update = {
        "webhookEvent": "jira:issue_updated",
        "timestamp": 1_700_000_000_000,
        "issue": {"key": "AGENT-99", "fields": {"status": {"name": "Approved"}}},
        "changelog": {"items": [{"field": "status", "fromString": "Open", "toString": "Approved"}]},
    }
    handle_delivery(body=json.dumps(update).encode(), signature=None, delivery_id="d-unknown")


def _webhook_rows(at) -> list[str]:  # noqa: ANN001
    frames = [f.value for f in at.dataframe if "delivery_id" in f.value]
    return list(frames[0]["delivery_id"]) if frames else []


def test_webhook_events_filter_details_and_replay(deliveries):
    at = go(log_in(PEOPLE["admin"]), "admin")
    assert set(_webhook_rows(at)) == {"d-bad", "d-unknown"}
    at.selectbox(key="webhook_status").select("invalid").run()
    assert _webhook_rows(at) == ["d-bad"]
    assert any("d-bad" in e.label for e in at.expander)  # the error details
    at.selectbox(key="replay_delivery").select("d-bad")
    button(at, "Replay").click().run()
    assert "delivery d-bad is not JSON and cannot be replayed" in messages(at.error)

    at.selectbox(key="webhook_status").select(None).run()
    at.selectbox(key="replay_delivery").select("d-unknown")
    button(at, "Replay").click().run()
    assert not at.exception
    assert any(m.startswith("Delivery d-unknown replayed: now") for m in messages(at.success))


def test_jira_tab_without_jira_is_information_not_an_error(dash_db):
    at = go(log_in(PEOPLE["admin"]), "admin")
    assert any(
        m.startswith("Jira is not configured: approvals run locally") for m in messages(at.info)
    )
    assert not at.error
    assert "Check the Jira connection" not in [b.label for b in at.button]


def test_outbox_lists_undelivered_jira_calls_and_retries_one(dash_db):
    from core import registry
    from core.db import session_scope
    from core.models import JiraOutbox, OutboxKind, OutboxStatus, Source

    with session_scope(write=True) as session:
        agent = registry.create_agent(
            session,
            owner_email=PEOPLE["developer"],
            source=Source.CLI,
            name="Outboxed",
            description="waits for Jira",
            model="gpt-4o",
        )
        session.add(
            JiraOutbox(
                agent_id=agent.id,
                version=1,
                kind=OutboxKind.TRANSITION,
                dedupe_key="transition:test",
                status=OutboxStatus.FAILED,
                attempts=1,
                last_error="Jira issue AGENT-1 in 'To Do' has no transition to Approved",
                payload={},
            )
        )
    at = go(log_in(PEOPLE["admin"]), "admin")
    frames = [f.value for f in at.dataframe if "kind" in f.value]
    assert list(frames[0]["state"]) == ["failed"]
    button(at, "Retry").click().run()
    assert not at.exception
    assert any("is due now" in m for m in messages(at.success))
    with session_scope() as session:
        assert session.query(JiraOutbox).one().status == OutboxStatus.PENDING
