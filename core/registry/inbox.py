"""A developer's inbox: decisions and comments other people made on the agents they own."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.auth import get_user
from core.models import Agent, Comment, InboxMark, StatusChange, User, utcnow
from core.registry.activity import comment_item, status_item
from core.registry.views import iso


def inbox(session: Session, *, email: str, limit: int = 30) -> dict[str, Any]:
    """The newest `limit` items, newest first, and how many arrived since the last read."""
    user = get_user(session, email=email)
    seen_at = _seen_at(session, user)
    changes = session.execute(
        select(StatusChange, Agent.name)
        .join(Agent, Agent.id == StatusChange.agent_id)
        .where(*_changes_for(user))
        .order_by(StatusChange.created_at.desc(), StatusChange.id.desc())
        .limit(limit)
    ).all()
    comments = session.execute(
        select(Comment, Agent.name)
        .join(Agent, Agent.id == Comment.agent_id)
        .where(*_comments_for(user))
        .order_by(Comment.created_at.desc(), Comment.id.desc())
        .limit(limit)
    ).all()
    # A move's `text` is the mover's comment (e.g. the rejection reason), `from`/`to` the move.
    items = [
        status_item(row, name)
        | {
            "version": row.version,
            "from": row.from_status,
            "to": row.to_status,
            "text": row.comment,
        }
        for row, name in changes
    ] + [
        comment_item(row, name) | {"version": None, "from": None, "to": None}
        for row, name in comments
    ]
    items.sort(key=lambda item: item["at"], reverse=True)
    return {
        "items": [
            item | {"new": item["at"] > seen_at, "at": iso(item["at"])} for item in items[:limit]
        ],
        "unread": unread_count(session, email=user.email),
        "seen_at": iso(seen_at),
    }


def unread_count(session: Session, *, email: str) -> int:
    """How many inbox items arrived after the user last marked it read (for the sidebar)."""
    user = get_user(session, email=email)
    seen_at = _seen_at(session, user)
    changes = session.scalar(
        select(func.count())
        .select_from(StatusChange)
        .join(Agent, Agent.id == StatusChange.agent_id)
        .where(*_changes_for(user), StatusChange.created_at > seen_at)
    )
    comments = session.scalar(
        select(func.count())
        .select_from(Comment)
        .join(Agent, Agent.id == Comment.agent_id)
        .where(*_comments_for(user), Comment.created_at > seen_at)
    )
    return int(changes or 0) + int(comments or 0)


def mark_read(session: Session, *, email: str, at: datetime | None = None) -> datetime:
    """Everything up to `at` (default now) counts as read."""
    user = get_user(session, email=email)
    at = at or utcnow()
    mark = session.get(InboxMark, user.id)
    if mark is None:
        session.add(InboxMark(user_id=user.id, seen_at=at))
    elif at > mark.seen_at:
        mark.seen_at = at
    session.flush()
    return at


def _changes_for(user: User) -> tuple:
    # Moves other people (approvers, Jira, admins) made on this user's agents.
    return (Agent.owner_id == user.id, StatusChange.actor != user.email)


def _comments_for(user: User) -> tuple:
    return (Agent.owner_id == user.id, Comment.author != user.email)


def _seen_at(session: Session, user: User) -> datetime:
    mark = session.get(InboxMark, user.id)
    return mark.seen_at if mark is not None else user.created_at
