"""Real Jira webhook bodies written by others (tests/jira_payloads/) through the receiver.

Every file is posted signed to `POST /api/jira/webhook` exactly as stored (raw bytes) and
its outcome is asserted: the HTTP answer, the stored delivery status and reason, and what
it did to the agent whose Jira issue the payload names (the test gives an agent that
issue's key, or the issue id for Jira Server/DC comment events without an `issue`).
A second pass posts every file with no agent at all: nothing ever ends `failed`.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from core import registry
from core.config import reset_settings
from core.db import session_scope
from core.jira.inbox import list_events
from core.jira.signature import sign
from core.models import Agent, AgentVersion, Comment, JiraIssueState, Source
from tests.webhook_server.waiting import wait_until_processed
from webhook_server import create_app

SECRET = "corpus-secret"
CORPUS = Path(__file__).resolve().parents[1] / "jira_payloads"
STORED_BEFORE = datetime(2010, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Case:
    """One real payload file and what it must do."""

    file: str
    http: int
    status: str  # the stored delivery status
    reason: str = ""  # a substring of the stored reason (ignored/unmatched/invalid)
    issue_key: str | None = None  # the agent gets this Jira issue key…
    issue_id: str | None = None  # …and/or the stored Jira issue id
    last_status: str | None = None  # the last Jira status we knew of the issue
    known_comments: tuple[tuple[str, str], ...] = ()  # (Jira comment id, body) stored before
    decided: bool = False  # the submission was approved in the registry before
    check: Callable[[dict], None] = field(default=lambda data: None)


def _comment(body: str, author: str = "earlier") -> Callable[[dict], None]:
    """One Jira comment with this text (a known comment keeps its stored author)."""

    def check(data: dict) -> None:
        jira = [c for c in data["comments"] if c["source"] == "jira"]
        assert [(c["body"], c["author"]) for c in jira] == [(body, author)]
        assert jira[0]["deleted_at"] is None

    return check


def _deleted_comment(body: str) -> Callable[[dict], None]:
    def check(data: dict) -> None:
        [comment] = data["comments"]
        assert comment["body"] == body
        assert comment["deleted_at"] is not None

    return check


def _deleted_ids(data: dict, deleted: list[str]) -> None:
    assert [c["body"] for c in data["comments"] if c["deleted_at"]] == deleted
    assert [c["body"] for c in data["comments"] if not c["deleted_at"]] == ["Tomek"]


def _note(text: str, *, status: str = "pending") -> Callable[[dict], None]:
    def check(data: dict) -> None:
        assert data["status"] == status
        assert text in data["history"][-1]["comment"]

    return check


def _issue_deleted(key: str, *, keeps_key: bool) -> Callable[[dict], None]:
    def check(data: dict) -> None:
        assert data["jira_issue_deleted"] == key
        assert data["jira_issue_key"] == (key if keeps_key else None)
        assert f"Jira {key}: issue deleted in Jira by" in data["history"][-1]["comment"]

    return check


def _markup(data: dict) -> None:
    [comment] = data["comments"]
    body = comment["body"]
    assert comment["author"] == "leo@zulip.com"
    assert "\r" not in body and "{code" not in body and "{quote}" not in body
    assert body.startswith("This is a comment that likes to **exercise** a lot of *different*")
    assert '```python\ndef python():\n    print "likes to be formatted"\n```' in body
    assert "[Google](http://www.google.com) is given a title" in body
    assert "> Someone said somewhere" in body


CASES = [
    # Jira Server/DC: comment events carry no `issue`; comment.self names issue id 10013.
    Case(
        "mattermost/webhook-server-comment-created.json",
        200,
        "processed",
        issue_id="10013",
        check=_comment("unik", "lev@mattermost.com"),
    ),
    Case(
        "mattermost/webhook-server-comment-updated.json",
        200,
        "processed",
        issue_id="10013",
        known_comments=(("10084", "and higher"),),
        check=_comment("and higher eeven higher"),
    ),
    Case(
        "mattermost/webhook-server-comment-deleted.json",
        200,
        "processed",
        issue_id="10013",
        known_comments=(("10084", "and higher eeven higher"),),
        check=_deleted_comment("and higher eeven higher"),
    ),
    # Jira Cloud comment events (with `issue`).
    Case(
        "mattermost/webhook-cloud-comment-created-mention-user.json",
        200,
        "processed",
        issue_key="TES-41",
        check=_comment("Added a comment with mentioned user @user", "Test User"),
    ),
    Case(
        "mattermost/webhook-cloud-comment-updated.json",
        200,
        "processed",
        issue_key="TES-41",
        known_comments=(("10019", "Added a comment"),),
        check=_comment("Added a comment, then edited it"),
    ),
    Case(
        "mattermost/webhook-cloud-comment-deleted.json",
        200,
        "processed",
        issue_key="TES-41",
        known_comments=(("10019", "Added a comment, then edited it"),),
        check=_deleted_comment("Added a comment, then edited it"),
    ),
    # The status is only in issue.fields.status (the changelog has a resolution item).
    Case(
        "mattermost/webhook-issue-updated-resolved-one-changelog.json",
        200,
        "processed",
        issue_key="TES-41",
        last_status="In Progress",
        check=_note("Jira TES-41: In Progress → Done by some-instance-test@gmail.com"),
    ),
    # A pending submission's issue deleted: it leaves Jira (decided in the registry now).
    Case(
        "mattermost/webhook-issue-deleted.json",
        200,
        "processed",
        issue_key="IDT-19",
        check=_issue_deleted("IDT-19", keeps_key=False),
    ),
    Case(
        "zulip/change_status_v2.json",
        200,
        "processed",
        issue_key="TEST-1",
        check=_note("Jira TEST-1: To Do → In Progress by kolaszek@tlen.pl"),
    ),
    # Not valid JSON in the source repository (trailing commas): refused, stored invalid.
    Case("zulip/comment_created_no_issue_details.json", 400, "invalid", reason="not JSON"),
    Case(
        "zulip/comment_updated.json",
        200,
        "processed",
        issue_key="SP-1",
        known_comments=(("10000", "This is a very important issue"),),
        check=_comment("This is a very important issue! I’m on it!"),
    ),
    Case(
        "zulip/comment_deleted.json",
        200,
        "processed",
        issue_key="SP-1",
        known_comments=(("10000", "This is a very important issue! I’m on it!"),),
        check=_deleted_comment("This is a very important issue! I’m on it!"),
    ),
    # Wiki markup with \r\n, {code:python}, {noformat}, {quote}, links: stored readable.
    Case("zulip/commented_markup_v1.json", 200, "processed", issue_key="TEST-7", check=_markup),
    Case(
        "zulip/example_anomalous_payload.json",
        200,
        "ignored",
        reason="no webhookEvent in the body",
    ),
    # The issue of an approved submission deleted: marked, the key kept for the audit trail.
    Case(
        "zulip/issue_deleted.json",
        200,
        "processed",
        issue_key="BUG-15",
        decided=True,
        check=_issue_deleted("BUG-15", keeps_key=True),
    ),
    # Jira Server: a comment edit as `jira:issue_updated` + issue_comment_edited.
    Case(
        "zulip/comment_edited_v2.json",
        200,
        "processed",
        issue_key="BUG-15",
        known_comments=(("10400", "Adding a comment."),),
        check=_comment("Adding a comment. Oh, what a comment it is!"),
    ),
    # Jira's `issue_comment_deleted` naming no comment: the issue's complete comment list
    # (only 10000 left) tells which stored comment is gone.
    Case(
        "zulip/comment_deleted_v2.json",
        200,
        "processed",
        issue_key="TOM-1",
        known_comments=(("10000", "Tomek"), ("10001", "Gone now")),
        check=lambda data: _deleted_ids(data, ["Gone now"]),
    ),
    # The legacy (Jira 5) shape: a `transition` object, no webhookEvent.
    Case(
        "zulip/change_status_v1.json",
        200,
        "ignored",
        reason="no webhookEvent in the body",
        issue_key="TEST-1",
        check=lambda data: None if data["status"] == "pending" else pytest.fail(str(data)),
    ),
    Case(
        "zulip/worklog_created.json",
        200,
        "ignored",
        reason="event 'worklog_created' is not acted on",
    ),
]

# With no agent for any issue: what each file ends as (never `failed`).
WITHOUT_AGENTS = {
    "zulip/comment_created_no_issue_details.json": "invalid",
    "zulip/example_anomalous_payload.json": "ignored",
    "zulip/change_status_v1.json": "ignored",
    "zulip/worklog_created.json": "ignored",
    "zulip/commented_markup_v1.json": "unmatched",
    "mattermost/webhook-issue-updated-resolved-one-changelog.json": "ignored",
}


@pytest.fixture
def client(db_url, monkeypatch):  # noqa: ANN001
    monkeypatch.setenv("JIRA_WEBHOOK_SECRET", SECRET)
    reset_settings()
    return create_app({"TESTING": True, "START_WORKER": False}).test_client()


def _post(client, body: bytes):  # noqa: ANN001
    return client.post(
        "/api/jira/webhook",
        data=body,
        headers={
            "Content-Type": "application/json",
            "X-Atlassian-Webhook-Identifier": str(uuid.uuid4()),
            "X-Hub-Signature": sign(SECRET, body),
        },
    )


def _agent_for(case: Case, people: dict, make_agent) -> int:  # noqa: ANN001
    agent = make_agent(people["developer"])
    with session_scope(write=True) as session:
        registry.submit_agent(
            session, agent_id=agent.id, actor_email=people["developer"], source=Source.CLI
        )
        if case.decided:
            registry.approve_agent(
                session, agent_id=agent.id, actor_email=people["approver"], source=Source.CLI
            )
        key = case.issue_key or f"SRV-{case.issue_id}"
        session.get(Agent, agent.id).jira_issue_key = key
        for version in session.scalars(
            select(AgentVersion).where(AgentVersion.agent_id == agent.id)
        ):
            version.jira_issue_key = key
        if case.issue_id or case.last_status:
            session.add(
                JiraIssueState(issue_key=key, issue_id=case.issue_id, last_status=case.last_status)
            )
        for comment_id, body in case.known_comments:
            session.add(
                Comment(
                    agent_id=agent.id,
                    author="earlier",
                    body=body,
                    source=Source.JIRA,
                    jira_comment_id=comment_id,
                    created_at=STORED_BEFORE,  # before the payloads' own (old) timestamps
                )
            )
    return agent.id


@pytest.mark.parametrize("case", CASES, ids=[c.file for c in CASES])
def test_real_payload_outcome(case: Case, client, people, make_agent):  # noqa: ANN001
    agent_id = _agent_for(case, people, make_agent) if case.issue_key or case.issue_id else None
    response = _post(client, (CORPUS / case.file).read_bytes())
    assert response.status_code == case.http, response.get_json()
    wait_until_processed()
    with session_scope() as session:
        [event] = list_events(session)
        data = registry.agent_status(session, agent_id=agent_id) if agent_id else None
    assert event["status"] == case.status, event
    assert case.reason in (event["error"] or "")
    if data is not None:
        case.check(data)


def test_every_corpus_file_is_in_the_table():
    files = {str(p.relative_to(CORPUS)) for p in CORPUS.rglob("*.json")}
    assert files == {c.file for c in CASES}


@pytest.mark.parametrize("name", sorted(c.file for c in CASES))
def test_without_any_agent_nothing_fails(name: str, client):  # noqa: ANN001
    response = _post(client, (CORPUS / name).read_bytes())
    assert response.status_code in (200, 400)
    wait_until_processed()
    with session_scope() as session:
        [event] = list_events(session)
    assert event["status"] == WITHOUT_AGENTS.get(name, "unmatched"), event
