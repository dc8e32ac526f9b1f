"""What Jira is owed when the registry announces an event (see core.events).

Runs inside the registry's transaction and only queues outbox rows: no person ever waits on
Jira. The outbox delivers them after commit, in the background, in order per agent.
Events that came from Jira itself are not sent back to it.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import events
from core.config import get_settings
from core.jira.issue_content import needs_spec_attachment
from core.jira.outbox import add_row, enqueue, queued_keys
from core.models import Agent, AgentVersion, Comment, DomainEvent, OutboxKind, Source


def on_event(session: Session, event: DomainEvent) -> None:
    if not get_settings().jira_enabled or event.source == Source.JIRA.value:
        return
    handler = {
        events.SUBMITTED: _submitted,
        events.APPROVED: _decided,
        events.REJECTED: _decided,
        events.CANCELLED: _cancelled,
        events.COMMENT_ADDED: _commented,
    }.get(event.kind)
    if handler is not None:
        handler(session, event)


def _submitted(session: Session, event: DomainEvent) -> None:
    """The approval issue, the code attachment and (if the issue text had to be shortened)
    the full specification as a Markdown attachment."""
    agent_id, version = event.agent_id, event.version
    enqueue(
        session,
        agent_id=agent_id,
        version=version,
        kind=OutboxKind.CREATE_ISSUE,
        dedupe_key=_create_key(agent_id, version),
    )
    snapshot = _snapshot(session, agent_id=agent_id, version=version)
    if snapshot is not None and snapshot.code:
        enqueue(
            session,
            agent_id=agent_id,
            version=version,
            kind=OutboxKind.ATTACH_CODE,
            dedupe_key=f"attach_code:{agent_id}:{version}",
        )
    if snapshot is not None and needs_spec_attachment(
        get_settings(), agent=session.get(Agent, agent_id), version=snapshot
    ):
        enqueue(
            session,
            agent_id=agent_id,
            version=version,
            kind=OutboxKind.ATTACH_SPEC,
            dedupe_key=f"attach_spec:{agent_id}:{version}",
        )


def _decided(session: Session, event: DomainEvent) -> None:
    """Move the issue to an approved/rejected status (after any earlier calls for it)."""
    queued = queued_keys(session, agent_id=event.agent_id, version=event.version)
    if _create_key(event.agent_id, event.version) not in queued:
        return  # submitted before Jira was configured: decided locally only
    settings = get_settings()
    approve = event.kind == events.APPROVED
    statuses = settings.jira_approved_statuses if approve else settings.jira_rejected_statuses
    _enqueue_transition(
        session,
        event=event,
        action="approve" if approve else "reject",
        statuses=statuses,
        setting="JIRA_APPROVED_STATUSES" if approve else "JIRA_REJECTED_STATUSES",
        queued=queued,
    )


def _cancelled(session: Session, event: DomainEvent) -> None:
    """Tell the issue the submission was withdrawn; move it to a cancelled status if any."""
    version = event.version
    queued = queued_keys(session, agent_id=event.agent_id, version=version)
    if _create_key(event.agent_id, version) not in queued:
        return
    comment = str(event.data.get("comment") or "")
    note = Comment(
        agent_id=event.agent_id,
        author=event.actor,
        body=f"Submission of version {version} cancelled." + (f" {comment}" if comment else ""),
        source=Source.SYSTEM,
    )
    session.add(note)
    session.flush()
    enqueue_comment(session, agent_id=event.agent_id, version=version, comment_id=note.id)
    statuses = get_settings().jira_cancelled_statuses
    if statuses:
        _enqueue_transition(
            session,
            event=event,
            action="cancel",
            statuses=statuses,
            setting="JIRA_CANCELLED_STATUSES",
            queued=queued,
        )


def _commented(session: Session, event: DomainEvent) -> None:
    """Post a registry comment to the agent's newest Jira issue (if it has one)."""
    comment_id = event.data.get("comment_id")
    version = _latest_submitted_version(session, agent_id=event.agent_id)
    if comment_id is None or version is None:
        return  # never submitted: the comment stays local
    if _create_key(event.agent_id, version) not in queued_keys(
        session, agent_id=event.agent_id, version=version
    ):
        return
    enqueue_comment(session, agent_id=event.agent_id, version=version, comment_id=comment_id)


def enqueue_comment(session: Session, *, agent_id: int, version: int, comment_id: int) -> None:
    """Owe Jira one registry comment on the version's issue."""
    enqueue(
        session,
        agent_id=agent_id,
        version=version,
        kind=OutboxKind.POST_COMMENT,
        dedupe_key=f"comment:{comment_id}",
        payload={"comment_id": comment_id},
    )


def _enqueue_transition(
    session: Session,
    *,
    event: DomainEvent,
    action: str,
    statuses: list[str],
    setting: str,
    queued: set[str],
) -> None:
    key = f"transition:{event.agent_id}:{event.version}:{action}"
    if key in queued:
        return
    add_row(
        session,
        agent_id=event.agent_id,
        version=event.version,
        kind=OutboxKind.TRANSITION,
        dedupe_key=key,
        payload={"statuses": list(statuses), "setting": setting, "action": action},
    )


def _create_key(agent_id: int, version: int | None) -> str:
    """The issue creation's dedupe key: queued (in any state) iff the version has, or is
    owed, a Jira issue (it was submitted while Jira was configured)."""
    return f"create_issue:{agent_id}:{version}"


def _snapshot(session: Session, *, agent_id: int, version: int | None) -> AgentVersion | None:
    return session.scalar(
        select(AgentVersion).where(
            AgentVersion.agent_id == agent_id, AgentVersion.version == version
        )
    )


def _latest_submitted_version(session: Session, *, agent_id: int) -> int | None:
    return session.scalar(
        select(AgentVersion.version)
        .where(AgentVersion.agent_id == agent_id)
        .order_by(AgentVersion.version.desc())
        .limit(1)
    )
