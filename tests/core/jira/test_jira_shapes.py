"""Every shape Jira Cloud and Server/DC send, and signed bodies of any other shape.

Server/DC comment events without `issue` (matched by the stored issue id), a status seen
only in `issue.fields.status`, comment edits and deletions, issue deletion, and oddly
shaped JSON (stored, `ignored` with a reason, never `failed`). Property tests (hypothesis)
drive the parser and the whole apply step with arbitrary JSON.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from core import registry
from core.config import reset_settings
from core.db import session_scope
from core.jira.inbox import Verdict, list_events, receive
from core.jira.shapes import parse_event
from core.jira.signature import sign
from core.models import (
    Agent,
    AgentVersion,
    Comment,
    JiraIssueState,
    JiraOutbox,
    OutboxKind,
    OutboxStatus,
    Source,
)
from tests.jira_double import payloads

SECRET = "shape-secret"
KEY = "AGENT-9"
ISSUE_ID = "10009"  # what tests.jira_double.payloads gives AGENT-9


@pytest.fixture(autouse=True)
def _secret(monkeypatch, db_url):  # noqa: ANN001
    monkeypatch.setenv("JIRA_WEBHOOK_SECRET", SECRET)
    reset_settings()


@pytest.fixture
def agent_id(people, make_agent, make_user) -> int:  # noqa: ANN001
    """A pending agent whose submission's Jira issue is AGENT-9.

    Ada, the default Jira user of the payloads, is an approver with a registry account.
    """
    make_user("ada@example.com", "approver")
    agent = make_agent(people["developer"])
    with session_scope(write=True) as session:
        registry.submit_agent(
            session, agent_id=agent.id, actor_email=people["developer"], source=Source.CLI
        )
        session.get(Agent, agent.id).jira_issue_key = KEY
        for version in session.scalars(
            select(AgentVersion).where(AgentVersion.agent_id == agent.id)
        ):
            version.jira_issue_key = KEY
    return agent.id


def deliver(payload: Any = None, *, raw: bytes | None = None) -> dict:
    body = raw if raw is not None else json.dumps(payload).encode()
    delivery = str(uuid.uuid4())
    with session_scope(write=True) as session:
        receipt = receive(session, body=body, signature=sign(SECRET, body), delivery_id=delivery)
    assert receipt.verdict in (Verdict.ACCEPTED, Verdict.INVALID), receipt
    with session_scope() as session:
        return {e["delivery_id"]: e for e in list_events(session, limit=1000)}[delivery]


def status_of(agent_id: int) -> dict:
    with session_scope() as session:
        return registry.agent_status(session, agent_id=agent_id)


def server_comment(comment_id: str, body: str, event: str = "comment_created") -> dict:
    """Jira Server/DC's shape: no `issue`; comment.self names the issue by its id."""
    payload = payloads.comment_event(KEY, comment_id=comment_id, body=body, event=event)
    del payload["issue"]
    payload["comment"]["self"] = (
        f"https://jira.example.com/rest/api/2/issue/{ISSUE_ID}/comment/{comment_id}"
    )
    return payload


def issue_updated(status: str, *, timestamp: int | None = None, **extra: Any) -> dict:
    """`jira:issue_updated` with the status only in issue.fields.status (no changelog item)."""
    payload = payloads.status_changed(KEY, from_status="?", to_status=status, timestamp=timestamp)
    payload["changelog"] = {"id": "1", "items": [{"field": "assignee", "toString": "Bob"}]}
    return payload | extra


# --- Jira Server/DC comments without `issue` ---------------------------------------------


def test_server_comment_without_issue_is_matched_by_the_issue_id_learnt_before(agent_id):
    before = deliver(server_comment("501", "lost before the id was known"))
    assert (before["status"], before["error"]) == ("unmatched", "no agent has Jira issue id 10009")
    # Any delivery naming the issue with key and id teaches the id (as does issue creation).
    deliver(payloads.comment_event(KEY, comment_id="500", body="Cloud-style comment"))
    with session_scope() as session:
        assert session.get(JiraIssueState, KEY).issue_id == ISSUE_ID
    created = deliver(server_comment("502", "*Looks* good to me [~jsmith]\r\n{code}x = 1{code}"))
    assert created["status"] == "processed"
    updated = deliver(server_comment("502", "Looks fine", event="comment_updated"))
    assert updated["status"] == "processed"
    deleted = deliver(server_comment("500", "Cloud-style comment", event="comment_deleted"))
    assert deleted["status"] == "processed"
    comments = status_of(agent_id)["comments"]
    assert [(c["body"], c["deleted_at"] is not None) for c in comments] == [
        ("Cloud-style comment", True),
        ("Looks fine", False),
    ]


def test_wiki_markup_is_stored_readable(agent_id):
    with session_scope(write=True) as session:
        session.add(JiraIssueState(issue_key=KEY, issue_id=ISSUE_ID))
    deliver(server_comment("503", "*Looks* good to me [~jsmith]\r\n{code:python}x = 1{code}"))
    [comment] = status_of(agent_id)["comments"]
    assert comment["body"] == "**Looks** good to me @jsmith\n\n```python\nx = 1\n```"


def test_replay_of_an_unmatched_server_comment_works_once_the_id_is_known(agent_id):
    event = deliver(server_comment("504", "early"))
    assert event["status"] == "unmatched"
    with session_scope(write=True) as session:
        session.add(JiraIssueState(issue_key=KEY, issue_id=ISSUE_ID))
    from core.jira.inbox import replay_delivery

    with session_scope(write=True) as session:
        assert replay_delivery(session, ref=event["delivery_id"])["status"] == "processed"
    assert [c["body"] for c in status_of(agent_id)["comments"]] == ["early"]


# --- status only in issue.fields.status ---------------------------------------------------


def test_status_seen_only_in_fields_is_compared_with_the_last_known(agent_id):
    first = deliver(issue_updated("To Do", timestamp=1_000))
    assert (first["status"], first["error"]) == ("ignored", "no status change or comment")
    assert len(status_of(agent_id)["history"]) == 2  # created, submitted: no note for To Do
    moved = deliver(issue_updated("In Review", timestamp=2_000))
    assert moved["status"] == "processed"
    assert (
        "Jira AGENT-9: To Do → In Review by ada@example.com"
        in (status_of(agent_id)["history"][-1]["comment"])
    )
    approved = deliver(issue_updated("Approved", timestamp=3_000))
    assert approved["status"] == "processed"
    assert status_of(agent_id)["status"] == "approved"


def test_first_status_seen_in_fields_can_be_a_decision(agent_id):
    deliver(issue_updated("Rejected"))
    assert status_of(agent_id)["status"] == "rejected"


def test_an_older_snapshot_changes_no_status_but_its_comment_is_kept(agent_id):
    deliver(
        payloads.status_changed(KEY, from_status="To Do", to_status="Approved", timestamp=5_000)
    )
    late = payloads.comment_event(
        KEY, comment_id="600", body="written while in review", status="In Review", timestamp=4_000
    )
    event = deliver(late)
    assert event["status"] == "processed"
    data = status_of(agent_id)
    assert data["status"] == "approved"
    assert [c["body"] for c in data["comments"]] == ["written while in review"]


# --- comments: ids only, edits, deletions --------------------------------------------------


def test_registry_comment_edited_in_jira_keeps_the_registry_text(agent_id, people):
    with session_scope(write=True) as session:
        comment = registry.add_comment(
            session,
            agent_id=agent_id,
            actor_email=people["developer"],
            body="Ours",
            source=Source.CLI,
        )
        comment.jira_comment_id = "700"  # as the outbox records it after posting
    event = deliver(
        payloads.comment_event(KEY, comment_id="700", body="Edited", event="comment_updated")
    )
    assert event["status"] == "processed"
    assert [c["body"] for c in status_of(agent_id)["comments"]] == ["Ours"]


def test_deleting_an_unknown_comment_is_ignored_with_a_reason(agent_id):
    event = deliver(
        payloads.comment_event(KEY, comment_id="701", body="x", event="comment_deleted")
    )
    assert (event["status"], event["error"]) == ("ignored", "deleted comment 701 was never stored")


# --- jira:issue_deleted -------------------------------------------------------------------


def test_deleted_issue_of_a_pending_submission_is_decided_in_the_registry(
    agent_id, people, monkeypatch
):
    with session_scope(write=True) as session:
        session.add(
            JiraOutbox(
                agent_id=agent_id,
                version=1,
                kind=OutboxKind.POST_COMMENT,
                dedupe_key="comment:waiting",
                payload={"comment_id": 0},
            )
        )
    deleted = payloads.issue_created(KEY) | {"webhookEvent": "jira:issue_deleted"}
    event = deliver(deleted)
    assert event["status"] == "processed"
    data = status_of(agent_id)
    assert (data["jira_issue_key"], data["jira_issue_deleted"]) == (None, KEY)
    assert "decide in the registry, or cancel and submit again" in data["history"][-1]["comment"]
    with session_scope() as session:
        [row] = session.scalars(select(JiraOutbox)).all()
        assert (row.status, row.last_error) == (
            OutboxStatus.FAILED,
            "Jira issue AGENT-9 was deleted",
        )
    assert deliver(deleted)["status"] == "unmatched"  # again: the issue is no agent's now
    # Jira is configured (and unreachable): the decision must not need it.
    monkeypatch.setenv("JIRA_BASE_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("JIRA_EMAIL", "bot@example.com")
    monkeypatch.setenv("JIRA_API_TOKEN", "token")
    reset_settings()
    with session_scope(write=True) as session:
        registry.approve_agent(
            session, agent_id=agent_id, actor_email=people["approver"], source=Source.CLI
        )
    assert status_of(agent_id)["status"] == "approved"


# --- oddly shaped signed bodies (issue 11) -------------------------------------------------

ODD_BODIES: list[tuple[str, Any, str]] = [
    (
        "items is a number",
        {"webhookEvent": "jira:issue_updated", "issue": {"key": KEY}, "changelog": {"items": 5}},
        "ignored",
    ),
    (
        "comment is a string",
        {"webhookEvent": "comment_created", "issue": {"key": KEY}, "comment": "hello"},
        "ignored",
    ),
    (
        "lists for objects",
        {"webhookEvent": "jira:issue_updated", "issue": [], "user": [], "changelog": []},
        "ignored",
    ),
    (
        "issue is a string",
        {"webhookEvent": "comment_created", "issue": KEY, "comment": {"id": "1", "body": "x"}},
        "ignored",
    ),
    (
        "comment id is an object",
        {"webhookEvent": "comment_created", "issue": {"key": KEY}, "comment": {"id": {"a": 1}}},
        "ignored",
    ),
    (
        "changelog item lists",
        {
            "webhookEvent": "jira:issue_updated",
            "issue": {"key": KEY},
            "changelog": {"items": [[], 1, None, {"field": "status", "toString": ["Approved"]}]},
        },
        "ignored",
    ),
    (
        "huge numbers",
        {
            "webhookEvent": "comment_created",
            "timestamp": 2**70,
            "issue": {"key": KEY, "id": 10**40},
            "comment": {"id": 10**60, "body": "big", "author": {"displayName": "x" * 5000}},
        },
        "processed",
    ),
    (
        "NUL and a huge status",
        {
            "webhookEvent": "jira:issue_updated",
            "issue": {"key": KEY},
            "user": {"displayName": "N\u0000ul"},
            "changelog": {
                "items": [
                    {"field": "status", "fromString": "a" * 1000, "toString": "b\u0000" * 500}
                ]
            },
        },
        "processed",
    ),
    (
        "webhookEvent is a list",
        {"webhookEvent": ["comment_created"], "issue": {"key": KEY}},
        "ignored",
    ),
    ("body is a bare number", 5, "invalid"),
]


@pytest.mark.parametrize(("name", "body", "expected"), ODD_BODIES, ids=[b[0] for b in ODD_BODIES])
def test_oddly_shaped_body_is_stored_and_never_fails(agent_id, name, body, expected):
    event = deliver(body)
    assert event["status"] == expected, event
    assert event["attempts"] <= 1


@pytest.mark.parametrize("number", [b"1e300", b"1180591620717411303424", b"-5"])
def test_absurd_timestamps_are_not_a_failure(agent_id, number):
    event = deliver(raw=_comment_with_timestamp(number))
    assert event["status"] == "processed", event


@pytest.mark.parametrize("number", [b"NaN", b"Infinity", b"-Infinity"])
def test_non_json_number_constants_are_refused_as_invalid_json(agent_id, number):
    """NaN and Infinity are not JSON (RFC 8259): stored as `invalid`, never `failed`."""
    event = deliver(raw=_comment_with_timestamp(number))
    assert event["status"] == "invalid", event
    assert "is not a JSON value" in event["error"]


def _comment_with_timestamp(number: bytes) -> bytes:
    return (
        b'{"webhookEvent": "comment_created", "timestamp": '
        + number
        + b', "issue": {"key": "'
        + KEY.encode()
        + b'"}, "comment": {"id": "9'
        + str(len(number)).encode()
        + b'", "body": "t"}}'
    )


# --- properties ------------------------------------------------------------------------------

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)  # NaN: not JSON (see above)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)
EVENT_TYPES = st.sampled_from(
    [
        "jira:issue_updated",
        "jira:issue_deleted",
        "comment_created",
        "comment_updated",
        "comment_deleted",
    ]
)
JIRA_LIKE = st.fixed_dictionaries(
    {"webhookEvent": EVENT_TYPES | JSON},
    optional={
        "timestamp": JSON,
        "issue_event_type_name": st.sampled_from(["issue_commented", "issue_comment_deleted"])
        | JSON,
        "user": JSON,
        "issue": st.fixed_dictionaries(
            {"key": st.just(KEY) | JSON},
            optional={"id": JSON, "fields": st.fixed_dictionaries({"status": JSON})},
        )
        | JSON,
        "comment": st.fixed_dictionaries(
            {"id": st.text(min_size=1, max_size=5) | JSON},
            optional={
                "body": JSON,
                "self": st.just(f"/rest/api/2/issue/{ISSUE_ID}/comment/1") | JSON,
                "author": JSON,
            },
        )
        | JSON,
        "changelog": st.fixed_dictionaries(
            {
                "items": st.lists(
                    JSON | st.fixed_dictionaries({"field": st.just("status"), "toString": JSON}),
                    max_size=3,
                )
                | JSON
            }
        )
        | JSON,
    },
)


@settings(max_examples=300, deadline=None)
@given(JSON | JIRA_LIKE)
def test_parser_never_raises(payload):
    event = parse_event(payload)
    assert event.problem is None or isinstance(event.problem, str)
    for value in (event.issue_key, event.issue_id, event.fields_status):
        assert value is None or (isinstance(value, str) and "\x00" not in value)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(payload=JIRA_LIKE)
def test_any_signed_json_ends_processed_ignored_or_unmatched(agent_id, payload):
    event = deliver(payload)
    assert event["status"] in {"processed", "ignored", "unmatched", "stale"}, event


def test_comment_deletion_naming_no_comment_uses_the_complete_comment_list(agent_id):
    for comment_id, body in (("800", "kept"), ("801", "gone")):
        deliver(payloads.comment_event(KEY, comment_id=comment_id, body=body, timestamp=1_000))
    event = payloads.issue_commented(KEY, comment_id="800", body="kept") | {
        "issue_event_type_name": "issue_comment_deleted",
        "timestamp": payloads.now_ms(),
    }
    del event["comment"]
    truncated = {"comments": [{"id": "800"}], "total": 2, "startAt": 0}
    event["issue"]["fields"]["comment"] = truncated
    assert deliver(event)["status"] == "ignored"  # not the whole list: nothing is concluded
    event["issue"]["fields"]["comment"] = truncated | {"total": 1}
    assert deliver(event)["status"] == "processed"
    comments = status_of(agent_id)["comments"]
    assert [(c["body"], c["deleted_at"] is not None) for c in comments] == [
        ("kept", False),
        ("gone", True),
    ]


def test_a_comment_stored_in_the_deletion_events_millisecond_counts_as_stored_before(agent_id):
    """Jira's timestamps are milliseconds, ours microseconds: a comment stored at .834244 and
    an event stamped .834 are the same instant, not "stored after the event"."""
    for comment_id, body in (("800", "kept"), ("801", "gone")):
        deliver(payloads.comment_event(KEY, comment_id=comment_id, body=body, timestamp=1_000))
    stamp = payloads.now_ms()
    with session_scope(write=True) as session:
        for comment in session.scalars(select(Comment).where(Comment.agent_id == agent_id)):
            comment.created_at = datetime.fromtimestamp(stamp / 1000, UTC) + timedelta(
                microseconds=900
            )
    event = payloads.issue_commented(KEY, comment_id="800", body="kept") | {
        "issue_event_type_name": "issue_comment_deleted",
        "timestamp": stamp,
    }
    del event["comment"]
    event["issue"]["fields"]["comment"] = {"comments": [{"id": "800"}], "total": 1, "startAt": 0}
    assert deliver(event)["status"] == "processed"
    comments = status_of(agent_id)["comments"]
    assert [(c["body"], c["deleted_at"] is not None) for c in comments] == [
        ("kept", False),
        ("gone", True),
    ]
