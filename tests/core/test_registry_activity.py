"""core.registry.recent_activity: status moves and comments across agents, newest first."""

from __future__ import annotations

from core import registry
from core.db import session_scope
from core.models import Source


def test_recent_activity_merges_moves_and_comments_newest_first(db_url, people, make_agent):
    first = make_agent(people["developer"], name="First")
    second = make_agent(people["developer"], name="Second")
    with session_scope(db_url, write=True) as session:
        registry.submit_agent(
            session, agent_id=second.id, actor_email=people["developer"], source=Source.CLI
        )
        registry.add_comment(
            session,
            agent_id=first.id,
            actor_email=people["approver"],
            body="Which data does it read?",
            source=Source.DASHBOARD,
        )
    with session_scope(db_url) as session:
        items = registry.recent_activity(session, limit=10)
        limited = registry.recent_activity(session, limit=2)
    assert [(i["kind"], i["agent_name"]) for i in items] == [
        ("comment", "First"),
        ("status", "Second"),
        ("status", "Second"),
        ("status", "First"),
    ]
    assert items[0] | {"at": None} == {
        "kind": "comment",
        "agent_id": first.id,
        "agent_name": "First",
        "actor": people["approver"],
        "source": "dashboard",
        "text": "Which data does it read?",
        "at": None,
    }
    assert items[1]["text"] == "draft → pending"
    assert items[3]["text"] == "draft: created"
    assert limited == items[:2]


def test_recent_activity_on_an_empty_registry(db_url):
    with session_scope(db_url) as session:
        assert registry.recent_activity(session) == []
