"""Apply one stored Jira webhook delivery to the registry (status moves, notes, comments)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, bindparam, or_, select
from sqlalchemy.orm import Session, lazyload

from core.config import get_settings
from core.errors import ConflictError
from core.jira import refusals
from core.jira.adf import to_plain_text
from core.models import (
    Agent,
    AgentStatus,
    AgentVersion,
    Comment,
    JiraIssueState,
    Source,
    WebhookStatus,
    utcnow,
)
from core.registry import workflow

log = logging.getLogger(__name__)

COMMENT_EVENTS = {"comment_created", "comment_updated"}


@dataclass(frozen=True)
class Outcome:
    status: WebhookStatus
    note: str = ""


@dataclass(frozen=True)
class EventSummary:
    event_type: str | None
    issue_key: str | None
    timestamp_ms: int | None


def summarise(payload: Any) -> EventSummary:
    """The fields we index a delivery by; tolerant of any JSON shape."""
    if not isinstance(payload, dict):
        return EventSummary(None, None, None)
    issue = payload.get("issue") if isinstance(payload.get("issue"), dict) else {}
    timestamp = payload.get("timestamp")
    return EventSummary(
        str(payload.get("webhookEvent"))[:64] if payload.get("webhookEvent") else None,
        str(issue.get("key"))[:32] if issue.get("key") else None,
        _timestamp_ms(timestamp),
    )


MAX_TIMESTAMP_MS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z


def _timestamp_ms(value: Any) -> int | None:
    """Jira's `timestamp` (ms since the epoch) when it is a usable number, else None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if not 0 <= value <= MAX_TIMESTAMP_MS:  # also False for NaN
        return None
    return int(value)


def apply_event(session: Session, *, payload: dict[str, Any]) -> Outcome:
    """Decide what a delivery means and apply it; raises on database trouble (retried)."""
    summary = summarise(payload)
    status_item = _status_item(payload)
    is_comment = summary.event_type in COMMENT_EVENTS or (
        summary.event_type == "jira:issue_updated" and isinstance(payload.get("comment"), dict)
    )
    if not (summary.event_type == "jira:issue_updated" and status_item) and not is_comment:
        return Outcome(WebhookStatus.IGNORED, f"event {summary.event_type!r} is not acted on")
    if not summary.issue_key:
        return Outcome(WebhookStatus.IGNORED, "no issue in the event")
    agent, version = _agent_for_issue(session, summary.issue_key)
    if agent is None:
        return Outcome(WebhookStatus.UNMATCHED, f"no agent has Jira issue {summary.issue_key}")
    outcome = None
    if status_item and summary.event_type == "jira:issue_updated":
        outcome = _apply_status(session, agent, version, summary, payload, status_item)
    if is_comment:  # also a transition made with a comment (one event carries both)
        comment_outcome = _apply_comment(
            session, agent, summary.event_type or "", payload["comment"]
        )
        outcome = outcome or comment_outcome
    return outcome


def _status_item(payload: dict[str, Any]) -> dict[str, Any] | None:
    changelog = payload.get("changelog") if isinstance(payload.get("changelog"), dict) else {}
    for item in changelog.get("items") or []:
        if isinstance(item, dict) and item.get("field") == "status":
            return item
    return None


_AGENT_BY_SUBMISSION_KEY = (
    select(Agent, AgentVersion.version)
    .options(lazyload(Agent.owner))  # the owner is not needed here; skip the join
    .join(AgentVersion, AgentVersion.agent_id == Agent.id)
    .where(AgentVersion.jira_issue_key == bindparam("key"))
    .order_by(AgentVersion.version.desc())
    .limit(1)
)
_AGENT_BY_KEY = (
    select(Agent)
    .options(lazyload(Agent.owner))
    .where(Agent.jira_issue_key == bindparam("key"))
    .limit(1)
)


def _agent_for_issue(session: Session, key: str) -> tuple[Agent | None, int | None]:
    """The agent whose submission the issue tracks, and that submission's version."""
    # Pre-built statements: constructing them per delivery cost more than running them.
    row = session.execute(_AGENT_BY_SUBMISSION_KEY, {"key": key}).first()
    if row is not None:
        return row[0], row[1]
    agent = session.scalars(_AGENT_BY_KEY, {"key": key}).first()
    return agent, (agent.version if agent else None)


def jira_user_label(user: Any) -> str:
    if not isinstance(user, dict):
        return "Jira"
    return str(
        user.get("emailAddress") or user.get("displayName") or user.get("accountId") or "Jira"
    )


def _event_time(timestamp_ms: int | None) -> datetime:
    if timestamp_ms is None:
        return utcnow()
    return datetime.fromtimestamp(timestamp_ms / 1000, UTC)


def _in(name: str, names: list[str]) -> bool:
    return name.casefold() in {n.casefold() for n in names}


def _apply_status(
    session: Session,
    agent: Agent,
    version: int | None,
    summary: EventSummary,
    payload: dict[str, Any],
    item: dict[str, Any],
) -> Outcome:
    key = summary.issue_key or ""
    to_name = str(item.get("toString") or "")
    from_name = str(item.get("fromString") or "")
    actor = jira_user_label(payload.get("user"))
    state = session.get(JiraIssueState, key, with_for_update=True)
    if state is None:
        state = JiraIssueState(issue_key=key)
        session.add(state)
    ts = summary.timestamp_ms
    last = state.last_status_event_ms
    if last is not None and ts is not None and ts < last:
        return Outcome(
            WebhookStatus.STALE,
            f"{key} → {to_name} is older than the last applied status event ({state.last_status})",
        )
    state.last_status, state.last_status_event_ms = to_name, ts
    state.updated_at = utcnow()

    settings = get_settings()
    note = f"Jira {key}: {from_name or '?'} → {to_name} by {actor}"
    if _in(to_name, settings.jira_approved_statuses):
        target = AgentStatus.APPROVED
    elif _in(to_name, settings.jira_rejected_statuses):
        target = AgentStatus.REJECTED
    elif _in(to_name, settings.jira_cancelled_statuses):
        target = AgentStatus.DRAFT
    else:
        _note(session, agent, actor, note)
        return Outcome(WebhookStatus.PROCESSED, "recorded as a note")
    # Wait for (and then see) a decision another transaction is committing on this agent.
    session.refresh(agent, with_for_update=True)
    if version != agent.version:
        _note(session, agent, actor, f"{note} (version {version} is no longer under review)")
        return Outcome(WebhookStatus.PROCESSED, "older submission: recorded as a note")
    if agent.status == target:
        return Outcome(WebhookStatus.PROCESSED, f"already {target.value}")
    if agent.status != AgentStatus.PENDING:
        _note(session, agent, actor, f"{note}; not applied, the agent is {agent.status.value}")
        return Outcome(WebhookStatus.PROCESSED, f"agent is {agent.status.value}: recorded as note")
    action = {AgentStatus.APPROVED: "approve", AgentStatus.REJECTED: "reject"}.get(target, "cancel")
    verdict = refusals.judge(session, agent=agent, jira_user=payload.get("user"), action=action)
    if verdict.refusal is not None:
        refusals.refuse(
            session,
            agent=agent,
            issue_key=key,
            from_status=from_name,
            to_status=to_name,
            verdict=verdict,
        )
        return Outcome(WebhookStatus.REFUSED, verdict.refusal)
    try:
        with session.begin_nested():
            if target == AgentStatus.DRAFT:
                workflow.cancel_agent(
                    session,
                    agent_id=agent.id,
                    actor_email=verdict.email,
                    source=Source.JIRA,
                    comment=note,
                )
            else:
                workflow.decide_agent(
                    session,
                    agent_id=agent.id,
                    approve=target == AgentStatus.APPROVED,
                    actor_email=verdict.email,
                    source=Source.JIRA,
                    comment=note,
                    at=_event_time(ts),
                )
    except ConflictError:  # decided in the dashboard a moment ago
        return Outcome(WebhookStatus.PROCESSED, "decided concurrently; not applied")
    return Outcome(WebhookStatus.PROCESSED, f"agent moved to {target.value}")


def _note(session: Session, agent: Agent, actor: str, text: str) -> None:
    workflow.record_note(
        session, agent=agent, actor=actor, source=Source.JIRA, note=text, label=agent.status.value
    )


# One query finds both the comment itself and our own not-yet-linked comments (echoes).
_COMMENT_OR_UNLINKED = select(Comment).where(
    Comment.agent_id == bindparam("agent_id"),
    or_(
        Comment.jira_comment_id == bindparam("comment_id"),
        and_(Comment.jira_comment_id.is_(None), Comment.source != Source.JIRA),
    ),
)


def _apply_comment(
    session: Session, agent: Agent, event_type: str, comment: dict[str, Any]
) -> Outcome:
    comment_id = str(comment.get("id") or "")
    if not comment_id:
        return Outcome(WebhookStatus.IGNORED, "comment without an id")
    body = to_plain_text(comment.get("body")).strip()
    author = jira_user_label(comment.get("author"))
    candidates = session.scalars(
        _COMMENT_OR_UNLINKED, {"agent_id": agent.id, "comment_id": comment_id}
    ).all()
    existing = next((c for c in candidates if c.jira_comment_id == comment_id), None)
    if existing is not None:
        if event_type == "comment_updated" and existing.source == Source.JIRA and body:
            existing.body = body
            return Outcome(WebhookStatus.PROCESSED, "comment updated")
        return Outcome(WebhookStatus.PROCESSED, "comment already known")
    echo = next((c for c in candidates if c.body.strip() and c.body.strip() in body), None)
    if echo is not None:  # our own comment, echoed before we stored its Jira id
        echo.jira_comment_id = comment_id
        return Outcome(WebhookStatus.PROCESSED, "echo of a registry comment")
    if not body:
        return Outcome(WebhookStatus.IGNORED, "empty comment")
    # A concurrent copy of this comment (another event type) makes this insert fail on the
    # unique Jira id; the event is then retried and finds the comment.
    session.add(
        Comment(
            agent_id=agent.id,
            author=author,
            body=body,
            source=Source.JIRA,
            jira_comment_id=comment_id,
        )
    )
    session.flush()
    return Outcome(WebhookStatus.PROCESSED, "comment added")
