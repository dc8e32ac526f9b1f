"""What we know per Jira issue (`jira_issue_states`): its numeric id, for matching events.

Jira Server/Data Center `comment_*` events name the issue only by id (in `comment.self`),
so the id is stored as soon as it is known: when the outbox creates the issue, and from
any delivery that carries both the key and the id.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.models import JiraIssueState


def remember_issue_id(session: Session, *, key: str, issue_id: object) -> None:
    """Store the numeric id of issue `key` (no-op without an id)."""
    if issue_id is None or issue_id == "":
        return
    key, value = str(key)[:32], str(issue_id)[:32]
    state = session.get(JiraIssueState, key)
    if state is None:
        session.add(JiraIssueState(issue_key=key, issue_id=value))
        session.flush()  # later look-ups by primary key in this session must find it
    elif state.issue_id != value:
        state.issue_id = value


def issue_key_for_id(session: Session, *, issue_id: str) -> str | None:
    return session.scalar(
        select(JiraIssueState.issue_key).where(JiraIssueState.issue_id == issue_id).limit(1)
    )
