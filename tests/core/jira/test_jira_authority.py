"""Decisions made in Jira count only from a linked registry account allowed to make them."""

from __future__ import annotations

import json

import pytest

from core import registry
from core.cli import main
from core.db import session_scope
from core.jira.adf import to_plain_text
from core.jira.inbox import receive
from core.jira.signature import sign
from core.models import Source, WebhookStatus
from tests.jira_double import payloads
from tests.jira_double.fixtures import WEBHOOK_SECRET

KEY = "AGENT-1"


def cli(capsys, *argv: str) -> tuple[int, str, str]:  # noqa: ANN001
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def agent_id(people, make_agent, jira_env, capsys) -> int:  # noqa: ANN001
    """An approver's own agent, submitted: its approval issue AGENT-1 is in the Jira double."""
    agent = make_agent(people["approver2"])
    code, out, err = cli(
        capsys, "agents", "submit", str(agent.id), "--actor", people["approver2"], "--json"
    )
    assert code == 0, err
    sync(capsys)  # the CLI only queues Jira calls; the background job creates the issue
    assert status(agent.id)["jira_issue_key"] == KEY
    return agent.id


def sync(capsys) -> None:  # noqa: ANN001
    """What the webhook server's background job does: deliver the Jira calls that are due."""
    code, _, err = cli(capsys, "jira", "sync")
    assert code == 0, err


def move_in_jira(jira_env, user: dict, *, to: str = "Approved", delivery: str) -> WebhookStatus:  # noqa: ANN001
    """Someone moves the issue in Jira's UI; Jira's signed delivery reaches the registry."""
    issue = jira_env.issues[KEY]
    before, issue.status = issue.status, to
    body = json.dumps(
        payloads.status_changed(KEY, from_status=before, to_status=to, user=user)
    ).encode()
    with session_scope(write=True) as session:
        receipt = receive(
            session, body=body, signature=sign(WEBHOOK_SECRET, body), delivery_id=delivery
        )
    return receipt.status


def status(agent_id: int) -> dict:
    with session_scope() as session:
        return registry.agent_status(session, agent_id=agent_id)


def deliveries(capsys) -> dict[str, dict]:  # noqa: ANN001
    code, out, err = cli(capsys, "webhooks", "list", "--json")
    assert code == 0, err
    return {row["delivery_id"]: row for row in json.loads(out)}


def assert_refused(jira_env, agent_id: int, capsys, delivery: str, reason: str) -> None:  # noqa: ANN001
    data = status(agent_id)
    assert data["status"] == "pending" and data["approved_by"] is None
    note = data["history"][-1]
    assert (note["from"], note["to"], note["source"]) == ("pending", "pending", "jira")
    assert note["comment"].startswith("Refused:") and reason in note["comment"]
    row = deliveries(capsys)[delivery]
    assert row["status"] == "refused" and reason in row["error"]
    sync(capsys)  # the explanation and the move back go through the outbox
    posted = to_plain_text(jira_env.issues[KEY].comments[-1]["body"])
    assert "was not applied" in posted and reason in posted
    assert jira_env.issues[KEY].status == "To Do"  # moved back to where review happens


def test_only_a_linked_approver_moves_the_agent(agent_id, people, jira_env, capsys):
    # The owner (an approver), known to Jira by the same email: linked automatically, refused.
    owner = payloads.jira_user("Otto Owner", people["approver2"])
    assert move_in_jira(jira_env, owner, delivery="owner") == WebhookStatus.REFUSED
    assert_refused(jira_env, agent_id, capsys, "owner", "owns agent")

    # Somebody Jira knows but the registry does not (Cloud hides the email).
    stranger = payloads.jira_user("Mallory", None, account_id="557058:mallory")
    assert move_in_jira(jira_env, stranger, delivery="stranger") == WebhookStatus.REFUSED
    assert_refused(jira_env, agent_id, capsys, "stranger", "is not linked to a registry account")
    assert "Mallory (Jira 557058:mallory)" in status(agent_id)["history"][-1]["actor"]

    # An analyst, linked by an admin: a registry account, but not a decider.
    assert (
        cli(capsys, "users", "link-jira", "--email", people["analyst"], "--account-id", "acc-ann")[
            0
        ]
        == 0
    )
    analyst = payloads.jira_user("Ann Alyst", None, account_id="acc-ann")
    assert move_in_jira(jira_env, analyst, delivery="analyst") == WebhookStatus.REFUSED
    assert_refused(jira_env, agent_id, capsys, "analyst", "only approvers may approve")
    assert status(agent_id)["history"][-1]["actor"] == people["analyst"]

    # A linked approver: the decision is applied, in the name of the registry account.
    code, out, err = cli(
        capsys,
        "users",
        "link-jira",
        "--email",
        people["approver"],
        "--account-id",
        "acc-appy",
        "--json",
    )
    assert code == 0, err
    assert json.loads(out)["jira_account_id"] == "acc-appy"
    approver = payloads.jira_user("Appy Rover", None, account_id="acc-appy")
    assert move_in_jira(jira_env, approver, delivery="approver") == WebhookStatus.PROCESSED
    data = status(agent_id)
    assert data["status"] == "approved"
    assert data["approved_by"] == people["approver"]
    assert data["history"][-1]["actor"] == people["approver"]
    assert deliveries(capsys)["approver"]["status"] == "processed"
    sync(capsys)
    refusals = [c for c in jira_env.issues[KEY].comments if "was not applied" in str(c)]
    assert len(refusals) == 3


def test_an_admin_who_edited_the_version_cannot_approve_it_in_jira(
    people, make_agent, jira_env, capsys
):
    agent = make_agent(people["developer"])
    with session_scope(write=True) as session:
        registry.update_agent(
            session,
            agent_id=agent.id,
            actor_email=people["admin"],
            code="print('hello')\n",
            source=Source.CLI,
        )
    assert cli(capsys, "agents", "submit", str(agent.id), "--actor", people["developer"])[0] == 0
    sync(capsys)
    admin = payloads.jira_user("Ad Min", people["admin"])  # auto-linked by email
    assert move_in_jira(jira_env, admin, delivery="admin") == WebhookStatus.REFUSED
    assert_refused(jira_env, agent.id, capsys, "admin", "authored version 1")
    rejecter = payloads.jira_user("Other Approver", people["approver2"])
    assert move_in_jira(jira_env, rejecter, to="Rejected", delivery="r") == WebhookStatus.PROCESSED
    assert status(agent.id)["status"] == "rejected"
    assert status(agent.id)["approved_by"] == people["approver2"]


def test_a_cancel_in_jira_needs_the_owner_or_an_admin(agent_id, people, jira_env, capsys):
    approver = payloads.jira_user("Appy", people["approver"])
    assert move_in_jira(jira_env, approver, to="Cancelled", delivery="c1") == WebhookStatus.REFUSED
    assert status(agent_id)["status"] == "pending"
    owner = payloads.jira_user("Otto", people["approver2"])
    assert move_in_jira(jira_env, owner, to="Cancelled", delivery="c2") == WebhookStatus.PROCESSED
    data = status(agent_id)
    assert data["status"] == "draft" and data["history"][-1]["actor"] == people["approver2"]


def test_a_deactivated_linked_approver_is_refused(agent_id, people, jira_env, capsys):
    approver = payloads.jira_user("Appy", people["approver"])
    assert cli(capsys, "users", "deactivate", "--email", people["approver"])[0] == 0
    assert move_in_jira(jira_env, approver, delivery="gone") == WebhookStatus.REFUSED
    assert_refused(jira_env, agent_id, capsys, "gone", "is not linked")
