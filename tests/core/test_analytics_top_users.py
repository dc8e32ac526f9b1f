"""Top users' "Agents used" counts each user's own distinct agents (issue 12, point 10)."""

from __future__ import annotations

from core import analytics
from core.db import session_scope
from core.models import utcnow


def test_agents_used_is_per_user(db_url, people, make_agent):
    ids = [make_agent(people["developer"]).id for _ in range(3)]
    now = utcnow().replace(microsecond=0).isoformat()
    plan = {"heavy@corp.example": ids, "light@corp.example": ids[:1] * 4}
    events = [
        {"agent_id": agent_id, "event_type": "viewed", "user": user, "created_at": now}
        for user, agents in plan.items()
        for agent_id in agents
    ]
    with session_scope(write=True) as session:
        analytics.log_events(session, events=events)
    today = utcnow().date()
    with session_scope() as session:
        rows = analytics.top_users(session, start=today, end=today)
    assert {r["user"]: (r["events"], r["agents"]) for r in rows} == {
        "light@corp.example": (4, 1),
        "heavy@corp.example": (3, 3),
    }
