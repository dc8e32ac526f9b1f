"""Recent activity across all agents: status moves and comments, newest first."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.models import Agent, Comment, StatusChange
from core.registry.views import iso


def recent_activity(session: Session, *, limit: int = 20) -> list[dict[str, Any]]:
    """The newest `limit` status changes and comments, merged by time."""
    changes = session.execute(
        select(StatusChange, Agent.name)
        .join(Agent, Agent.id == StatusChange.agent_id)
        .order_by(StatusChange.created_at.desc(), StatusChange.id.desc())
        .limit(limit)
    ).all()
    comments = session.execute(
        select(Comment, Agent.name)
        .join(Agent, Agent.id == Comment.agent_id)
        .order_by(Comment.created_at.desc(), Comment.id.desc())
        .limit(limit)
    ).all()
    items = [status_item(row, name) for row, name in changes] + [
        comment_item(row, name) for row, name in comments
    ]
    items.sort(key=lambda item: item["at"], reverse=True)
    return [item | {"at": iso(item["at"])} for item in items[:limit]]


def status_item(row: StatusChange, agent_name: str) -> dict[str, Any]:
    """One status move as an activity item (`at` still a datetime)."""
    return {
        "kind": "status",
        "agent_id": row.agent_id,
        "agent_name": agent_name,
        "actor": row.actor,
        "source": row.source.value,
        "text": _describe_change(row),
        "at": row.created_at,
    }


def comment_item(row: Comment, agent_name: str) -> dict[str, Any]:
    """One comment as an activity item (`at` still a datetime)."""
    return {
        "kind": "comment",
        "agent_id": row.agent_id,
        "agent_name": agent_name,
        "actor": row.author,
        "source": row.source.value,
        "text": row.body,
        "at": row.created_at,
    }


def _describe_change(row: StatusChange) -> str:
    move = f"{row.from_status} → {row.to_status}" if row.from_status else row.to_status
    return f"{move}: {row.comment}" if row.comment else move
