"""Jira decisions the registry does not accept: judged, recorded and explained in Jira.

A move to an approved, rejected or cancelled status counts only when the Jira user is a
linked registry account allowed to make it (`core.registry.authority`, the same rules as the
dashboard and the CLI). Otherwise the agent keeps its status, the history records who tried
and why, and the outbox posts a comment to the issue and moves it back to where it was.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from core.config import get_settings
from core.errors import DomainError
from core.jira.outbox import enqueue
from core.jira.people import JiraActor, resolve_jira_actor
from core.models import Agent, Comment, OutboxKind, Source
from core.registry import authority, workflow

COMMENT_AUTHOR = "Approval check"


@dataclass(frozen=True)
class JiraVerdict:
    actor: JiraActor
    refusal: str | None  # None: allowed, act as `actor.user.email`

    @property
    def email(self) -> str:
        return self.actor.user.email if self.actor.user is not None else ""


def judge(session: Session, *, agent: Agent, jira_user: Any, action: str) -> JiraVerdict:
    """May this Jira user `action` (approve, reject or cancel) the agent's pending version?"""
    actor = resolve_jira_actor(session, jira_user=jira_user)
    if actor.user is None:
        return JiraVerdict(actor, actor.problem)
    try:
        if action == "cancel":
            authority.authorise_owner_action(
                session, agent=agent, actor_email=actor.user.email, action=action
            )
        else:
            authority.authorise_decision(
                session, agent=agent, actor_email=actor.user.email, action=action
            )
    except DomainError as refused:
        return JiraVerdict(actor, str(refused))
    return JiraVerdict(actor, None)


def refuse(
    session: Session,
    *,
    agent: Agent,
    issue_key: str,
    from_status: str,
    to_status: str,
    verdict: JiraVerdict,
) -> None:
    """Record the refused move (no status change) and tell the issue why; undo it in Jira."""
    workflow.record_note(
        session,
        agent=agent,
        actor=verdict.actor.label[:255],
        source=Source.JIRA,
        note=(
            f"Refused: Jira {issue_key}: {from_status or '?'} → {to_status} by "
            f"{verdict.actor.label}; not applied: {verdict.refusal}"
        ),
        label=agent.status.value,
    )
    if not get_settings().jira_enabled:
        return
    back = f" The issue is moved back to {from_status}." if _reviewable(from_status) else ""
    note = Comment(
        agent_id=agent.id,
        author=COMMENT_AUTHOR,
        body=(
            f"The move to {to_status} by {verdict.actor.label} was not applied: "
            f"{verdict.refusal}. The agent stays {agent.status.value} in the registry.{back}"
            "\n\nDecisions count only from an approver or admin linked to a registry account "
            "who neither owns nor authored this version."
        ),
        source=Source.SYSTEM,
    )
    session.add(note)
    session.flush()
    enqueue(
        session,
        agent_id=agent.id,
        version=agent.version,
        kind=OutboxKind.POST_COMMENT,
        dedupe_key=f"comment:{note.id}",
        payload={"comment_id": note.id},
    )
    if back:
        enqueue(
            session,
            agent_id=agent.id,
            version=agent.version,
            kind=OutboxKind.TRANSITION,
            dedupe_key=f"transition:{agent.id}:{agent.version}:refused:{note.id}",
            payload={"statuses": [from_status]},
        )


def _reviewable(status: str) -> bool:
    """A status to move a refused issue back to: known, and not itself a decision."""
    settings = get_settings()
    decided = {
        s.casefold()
        for s in (
            *settings.jira_approved_statuses,
            *settings.jira_rejected_statuses,
            *settings.jira_cancelled_statuses,
        )
    }
    return bool(status) and status.casefold() not in decided
