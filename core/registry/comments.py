"""The discussion thread on an agent."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import events
from core.actors import acting_user
from core.errors import ValidationError
from core.models import Comment, Source
from core.registry.agents import get_agent

MAX_COMMENT = 10_000


def clean_body(body: str | None) -> str:
    body = (body or "").strip()
    if not body:
        raise ValidationError("comment is empty; write something", field="body")
    if len(body) > MAX_COMMENT:
        raise ValidationError(
            f"comment is too long; use at most {MAX_COMMENT} characters", field="body"
        )
    return body


def add_comment(
    session: Session, *, agent_id: int, actor_email: str, body: str, source: Source
) -> Comment:
    agent = get_agent(session, agent_id=agent_id)
    actor = acting_user(session, email=actor_email, action="comment")
    comment = Comment(agent_id=agent.id, author=actor.email, body=clean_body(body), source=source)
    session.add(comment)
    session.flush()
    events.announce(
        session,
        kind=events.COMMENT_ADDED,
        agent_id=agent.id,
        version=agent.version,
        actor=actor.email,
        source=source,
        data={"comment_id": comment.id},
    )
    return comment


def list_comments(session: Session, *, agent_id: int) -> list[Comment]:
    return list(
        session.scalars(
            select(Comment)
            .where(Comment.agent_id == agent_id)
            .order_by(Comment.created_at, Comment.id)
        )
    )
