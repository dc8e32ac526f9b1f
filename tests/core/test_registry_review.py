"""core.registry.review (what an approver sees, the diff) and core.registry.inbox."""

from __future__ import annotations

import pytest

from core import registry
from core.db import session_scope
from core.errors import NotFoundError, ValidationError
from core.models import Source
from core.registry import inbox, review


def _submit(url: str, agent_id: int, email: str, **changes) -> None:  # noqa: ANN003
    with session_scope(url, write=True) as session:
        if changes:
            registry.update_agent(
                session, agent_id=agent_id, actor_email=email, source=Source.CLI, **changes
            )
        registry.submit_agent(session, agent_id=agent_id, actor_email=email, source=Source.CLI)


def _decide(url: str, agent_id: int, email: str, *, approve: bool, comment: str = "") -> None:
    with session_scope(url, write=True) as session:
        if approve:
            registry.approve_agent(
                session, agent_id=agent_id, actor_email=email, source=Source.CLI, comment=comment
            )
        else:
            review.reject_with_reason(
                session, agent_id=agent_id, actor_email=email, source=Source.CLI, reason=comment
            )


def test_side_by_side_pairs_changed_lines_and_keeps_numbers():
    rows = review.side_by_side("a\nb\nc", "a\nB\nc\nd")
    assert [(r["kind"], r["left_no"], r["left"], r["right_no"], r["right"]) for r in rows] == [
        ("same", 1, "a", 1, "a"),
        ("changed", 2, "b", 2, "B"),
        ("same", 3, "c", 3, "c"),
        ("added", None, "", 4, "d"),
    ]
    assert [r["kind"] for r in review.side_by_side("x\ny", "y")] == ["removed", "same"]


def test_a_v2_is_compared_with_the_last_approved_version(db_url, people, make_agent):
    agent = make_agent(
        people["developer"], system_prompt="Be brief.", tools=["search"], code="print(1)\n"
    )
    _submit(db_url, agent.id, people["developer"])
    _decide(db_url, agent.id, people["approver"], approve=True)
    with session_scope(db_url, write=True) as session:
        registry.deploy_agent(
            session, agent_id=agent.id, actor_email=people["admin"], source=Source.CLI
        )
    _submit(db_url, agent.id, people["developer"], system_prompt="Be brief.\nCite sources.")
    with session_scope(db_url) as session:
        data = review.review(session, agent_id=agent.id)
    assert data["version"]["version"] == 2
    assert data["version"]["system_prompt"] == "Be brief.\nCite sources."
    assert (data["baseline"]["version"], data["baseline_reason"]) == (1, "last approved version")
    changed = {c["field"]: c for c in data["changes"] if c["changed"]}
    assert set(changed) == {"system_prompt"}
    assert changed["system_prompt"]["rows"][-1] == {
        "kind": "added",
        "left_no": None,
        "left": "",
        "right_no": 2,
        "right": "Cite sources.",
    }
    assert data["jira"] == {"key": None, "url": None, "state": None}


def test_without_an_approved_version_the_previous_submission_is_the_baseline(
    db_url, people, make_agent
):
    agent = make_agent(people["developer"], model="gpt-4o")
    with session_scope(db_url) as session, pytest.raises(NotFoundError, match="no submitted"):
        review.review(session, agent_id=agent.id)
    _submit(db_url, agent.id, people["developer"])
    with session_scope(db_url) as session:
        first = review.review(session, agent_id=agent.id)
    assert first["baseline"] is None and not any(c["changed"] for c in first["changes"])
    _decide(db_url, agent.id, people["approver"], approve=False, comment="Use a cheaper model")
    _submit(db_url, agent.id, people["developer"], model="gpt-4o-mini")
    with session_scope(db_url) as session:
        data = review.review(session, agent_id=agent.id)
    assert (data["baseline"]["version"], data["baseline_reason"]) == (1, "previous submission")
    assert data["baseline"]["decided_by"] == people["approver"]
    assert [c["field"] for c in data["changes"] if c["changed"]] == ["model"]


def test_a_rejection_needs_a_reason(db_url, people, make_agent):
    agent = make_agent(people["developer"])
    _submit(db_url, agent.id, people["developer"])
    for blank in ("", "   "):
        with pytest.raises(ValidationError, match="reason for the rejection"):
            _decide(db_url, agent.id, people["approver"], approve=False, comment=blank)
    _decide(db_url, agent.id, people["approver"], approve=False, comment="  Add a rate limit ")
    with session_scope(db_url) as session:
        info = registry.agent_status(session, agent_id=agent.id)
    assert (info["status"], info["history"][-1]["comment"]) == ("rejected", "Add a rate limit")


def test_the_inbox_holds_decisions_and_comments_by_others(db_url, people, make_agent):
    mine = make_agent(people["developer"], name="Mine")
    make_agent(people["developer2"], name="Not mine")
    _submit(db_url, mine.id, people["developer"])
    with session_scope(db_url, write=True) as session:
        registry.add_comment(
            session,
            agent_id=mine.id,
            actor_email=people["developer"],
            body="my own note",
            source=Source.CLI,
        )
    _decide(db_url, mine.id, people["approver"], approve=False, comment="Needs tests")
    with session_scope(db_url, write=True) as session:
        registry.add_comment(
            session,
            agent_id=mine.id,
            actor_email=people["approver"],
            body="Ping me when fixed",
            source=Source.CLI,
        )
    with session_scope(db_url) as session:
        box = inbox.inbox(session, email=people["developer"])
        other = inbox.inbox(session, email=people["developer2"])
    assert [(i["kind"], i["to"], i["text"], i["new"]) for i in box["items"]] == [
        ("comment", None, "Ping me when fixed", True),
        ("status", "rejected", "Needs tests", True),
    ]
    assert box["items"][1]["from"] == "pending" and box["items"][1]["version"] == 1
    assert box["unread"] == 2
    assert other == {"items": [], "unread": 0, "seen_at": other["seen_at"]}

    with session_scope(db_url, write=True) as session:
        inbox.mark_read(session, email=people["developer"])
    with session_scope(db_url) as session:
        box = inbox.inbox(session, email=people["developer"])
        assert inbox.unread_count(session, email=people["developer"]) == 0
    assert box["unread"] == 0 and not any(i["new"] for i in box["items"])
    assert len(box["items"]) == 2  # read items stay listed
