"""Apply one stored Jira webhook delivery to the registry (status moves, notes, comments)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session, lazyload

from core.config import get_settings
from core.errors import ConflictError
from core.jira import refusals, shapes
from core.jira.issue_states import issue_key_for_id, remember_issue_id
from core.models import (
    Agent,
    AgentStatus,
    AgentVersion,
    Comment,
    JiraIssueState,
    JiraOutbox,
    OutboxStatus,
    Source,
    WebhookStatus,
    utcnow,
)
from core.registry import workflow

log = logging.getLogger(__name__)


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
    return EventSummary(
        str(payload.get("webhookEvent"))[:64] if payload.get("webhookEvent") else None,
        str(issue.get("key"))[:32] if issue.get("key") else None,
        shapes.timestamp_ms(payload.get("timestamp")),  # NaN, 1e300 or 2**70: None
    )


def apply_event(session: Session, *, payload: dict[str, Any]) -> Outcome:
    """Decide what a delivery means and apply it; raises on database trouble (retried).

    Any JSON shape is handled: what cannot be used ends `ignored` with the reason.
    """
    event = shapes.parse_event(payload)
    if event.problem:
        return Outcome(WebhookStatus.IGNORED, event.problem)
    agent, version, key = _match(session, event)
    if agent is None or key is None:
        if (
            event.status_item is None
            and event.comment is None
            and event.remaining_comment_ids is None
            and not event.issue_deleted
        ):
            return Outcome(WebhookStatus.IGNORED, "no status change or comment")
        issue = event.issue_key or f"id {event.issue_id}"
        return Outcome(WebhookStatus.UNMATCHED, f"no agent has Jira issue {issue}")
    summary = EventSummary(event.event_type, key, event.timestamp_ms)
    if event.issue_deleted:
        return _apply_issue_deleted(session, agent, version, summary, payload)
    outcome = None
    status_item = event.status_item or _status_from_fields(session, key, event)
    if status_item is not None:
        outcome = _apply_status(session, agent, version, summary, payload, status_item)
    if event.comment is not None:  # also a transition made with a comment (one event, both)
        comment_outcome = _apply_comment(session, agent, event.comment, summary)
        outcome = outcome or comment_outcome
    if event.remaining_comment_ids is not None:
        deleted = _mark_missing_comments(session, agent, event.remaining_comment_ids, summary)
        outcome = outcome or deleted
    return outcome or Outcome(WebhookStatus.IGNORED, "no status change or comment")


def _match(
    session: Session, event: shapes.JiraEvent
) -> tuple[Agent | None, int | None, str | None]:
    """The agent and submission the event's issue tracks, and the issue key.

    By key when the event names one, else (Jira Server/DC comment events, or an issue whose
    key changed when it moved project) by the Jira issue id we stored for the issue.
    """
    if event.issue_key:
        agent, version = _agent_for_issue(session, event.issue_key)
        if agent is not None:
            if event.issue_id:
                remember_issue_id(session, key=event.issue_key, issue_id=event.issue_id)
            return agent, version, event.issue_key
    if event.issue_id:
        key = issue_key_for_id(session, issue_id=event.issue_id)
        if key is not None:
            agent, version = _agent_for_issue(session, key)
            return agent, version, key
    return None, None, None


def _status_from_fields(
    session: Session, key: str, event: shapes.JiraEvent
) -> dict[str, str] | None:
    """A status change seen only in `issue.fields.status` (no changelog item), as an item.

    Compared with the last status we know of the issue; a snapshot older than the last
    applied status event changes nothing. The first neutral status we see is remembered
    quietly (there is no change to report).
    """
    name = event.fields_status
    if name is None or event.event_type not in shapes.STATUS_SNAPSHOT_EVENTS:
        return None
    state = session.get(JiraIssueState, key, with_for_update=True)
    last = state.last_status if state is not None else None
    if last is not None and last.casefold() == name.casefold():
        return None
    ts, last_ms = event.timestamp_ms, state.last_status_event_ms if state is not None else None
    if ts is not None and last_ms is not None and ts < last_ms:
        return None
    if last is None and not _is_decision(name):
        if state is None:
            state = JiraIssueState(issue_key=key)
            session.add(state)
        state.last_status, state.last_status_event_ms = name, ts
        session.flush()
        return None
    return {"field": "status", "fromString": last or "", "toString": name}


def _is_decision(name: str) -> bool:
    settings = get_settings()
    return any(
        _in(name, names)
        for names in (
            settings.jira_approved_statuses,
            settings.jira_rejected_statuses,
            settings.jira_cancelled_statuses,
        )
    )


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
    label = user.get("emailAddress") or user.get("displayName") or user.get("accountId")
    return shapes.text(label, shapes.PERSON_LENGTH) or "Jira"  # no NUL, fits the column


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


_COMMENT_BY_JIRA_ID = select(Comment).where(Comment.jira_comment_id == bindparam("comment_id"))


def _apply_comment(
    session: Session, agent: Agent, comment: shapes.JiraComment, summary: EventSummary
) -> Outcome:
    """Store, update or mark deleted one Jira comment, matched by its Jira id only.

    Text never links a Jira comment to a registry comment: a registry comment gets its Jira
    id when the outbox posts it (and drops the webhook copy that may have arrived first).
    """
    existing = session.scalars(_COMMENT_BY_JIRA_ID, {"comment_id": comment.id}).first()
    if comment.action == "deleted":
        if existing is None:
            return Outcome(WebhookStatus.IGNORED, f"deleted comment {comment.id} was never stored")
        if existing.deleted_at is None:
            existing.deleted_at = _event_time(summary.timestamp_ms)
            return Outcome(WebhookStatus.PROCESSED, "comment marked deleted")
        return Outcome(WebhookStatus.PROCESSED, "comment already marked deleted")
    if existing is not None:
        if comment.action != "updated":
            return Outcome(WebhookStatus.PROCESSED, "comment already known")
        if existing.source != Source.JIRA:
            return Outcome(WebhookStatus.PROCESSED, "registry comment edited in Jira: kept as is")
        if comment.body and comment.body != existing.body:
            existing.body = comment.body
            return Outcome(WebhookStatus.PROCESSED, "comment updated")
        return Outcome(WebhookStatus.PROCESSED, "comment unchanged")
    if not comment.body:
        return Outcome(WebhookStatus.IGNORED, "empty comment")
    # A concurrent copy of this comment (another event type) makes this insert fail on the
    # unique Jira id; the event is then retried and finds the comment.
    session.add(
        Comment(
            agent_id=agent.id,
            author=jira_user_label(comment.author),
            body=comment.body,
            source=Source.JIRA,
            jira_comment_id=comment.id,
        )
    )
    session.flush()
    return Outcome(WebhookStatus.PROCESSED, "comment added")


def _mark_missing_comments(
    session: Session, agent: Agent, remaining: frozenset[str], summary: EventSummary
) -> Outcome:
    """A comment deletion that names no comment: the agent's Jira-linked comments missing
    from the issue's complete comment list are the deleted ones. Only when the agent's
    comments all belong to this one issue, and only comments stored before the event."""
    keys = set(
        session.scalars(
            select(AgentVersion.jira_issue_key).where(
                AgentVersion.agent_id == agent.id, AgentVersion.jira_issue_key.is_not(None)
            )
        )
    )
    if keys - {summary.issue_key} or agent.jira_issue_deleted_key or summary.timestamp_ms is None:
        return Outcome(WebhookStatus.IGNORED, "comment deletion names no comment")
    at = _event_time(summary.timestamp_ms)
    gone = [
        c
        for c in session.scalars(
            select(Comment).where(
                Comment.agent_id == agent.id,
                Comment.jira_comment_id.is_not(None),
                Comment.deleted_at.is_(None),
            )
        )
        if c.jira_comment_id not in remaining and _to_ms(c.created_at) <= _naive(at)
    ]
    for comment in gone:
        comment.deleted_at = at
    if not gone:
        return Outcome(WebhookStatus.IGNORED, "no stored comment is missing from the issue")
    return Outcome(WebhookStatus.PROCESSED, f"{len(gone)} comment(s) marked deleted")


def _naive(value: datetime) -> datetime:
    return value.replace(tzinfo=None) if value.tzinfo else value


def _to_ms(value: datetime) -> datetime:
    """`value` (naive) cut to Jira's millisecond timestamps: a comment stored in the same
    millisecond as an event counts as stored before it (microseconds said "after" at random)."""
    return _naive(value).replace(microsecond=value.microsecond // 1000 * 1000)


def _apply_issue_deleted(
    session: Session,
    agent: Agent,
    version: int | None,
    summary: EventSummary,
    payload: dict[str, Any],
) -> Outcome:
    """The issue was deleted in Jira: mark the agent; a pending submission leaves Jira.

    A pending submission loses its issue key, so the registry decides it locally (and a
    cancel and new submission creates a new issue); calls still owed to the dead issue are
    marked failed. A decided submission keeps its key for the audit trail.
    """
    key = summary.issue_key or ""
    actor = jira_user_label(payload.get("user"))
    state = session.get(JiraIssueState, key, with_for_update=True)
    if state is None:
        state = JiraIssueState(issue_key=key)
        session.add(state)
    if state.deleted_at is not None:
        return Outcome(WebhookStatus.PROCESSED, f"{key} already known deleted")
    state.deleted_at, state.deleted_by = _event_time(summary.timestamp_ms), actor
    note = f"Jira {key}: issue deleted in Jira by {actor}"
    if agent.jira_issue_key == key:
        agent.jira_issue_deleted_key = key
    if version == agent.version and agent.status == AgentStatus.PENDING:
        agent.jira_issue_key = None
        session.execute(
            update(AgentVersion)
            .where(AgentVersion.agent_id == agent.id, AgentVersion.version == version)
            .values(jira_issue_key=None)
        )
        session.execute(
            update(JiraOutbox)
            .where(
                JiraOutbox.agent_id == agent.id,
                JiraOutbox.version == version,
                JiraOutbox.status == OutboxStatus.PENDING,
            )
            .values(status=OutboxStatus.FAILED, last_error=f"Jira issue {key} was deleted")
        )
        note += "; decide in the registry, or cancel and submit again for a new issue"
    _note(session, agent, actor, note)
    return Outcome(WebhookStatus.PROCESSED, "agent marked: Jira issue deleted")
