"""What the registry's workflow does in Jira when JIRA_BASE_URL is set (no-ops otherwise).

Called inside the workflow's transaction. Issue creation, attachments, comments and
transitions that can wait go through the outbox (delivered right after commit, retried
later); an approve/reject decided in the registry moves the Jira issue at once, and a
Jira failure then refuses the decision (the transaction rolls back).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.config import get_settings
from core.errors import ExternalServiceError, InvalidTransitionError
from core.jira.client import client_from_settings
from core.jira.errors import JiraError
from core.jira.outbox import enqueue
from core.models import Agent, AgentVersion, Comment, JiraOutbox, OutboxKind, OutboxStatus, Source


def jira_enabled() -> bool:
    return get_settings().jira_enabled


def after_submit(session: Session, *, agent: Agent) -> None:
    """Queue the approval issue (and the code attachment) for the version just frozen."""
    if not jira_enabled():
        return
    version = agent.version
    enqueue(
        session,
        agent_id=agent.id,
        version=version,
        kind=OutboxKind.CREATE_ISSUE,
        dedupe_key=f"create_issue:{agent.id}:{version}",
    )
    if agent.code:
        enqueue(
            session,
            agent_id=agent.id,
            version=version,
            kind=OutboxKind.ATTACH_CODE,
            dedupe_key=f"attach_code:{agent.id}:{version}",
        )


def after_decision(session: Session, *, agent: Agent, version: int, approve: bool) -> None:
    """Move the Jira issue to an approved/rejected status; raise if Jira refuses."""
    if not jira_enabled():
        return
    settings = get_settings()
    names = settings.jira_approved_statuses if approve else settings.jira_rejected_statuses
    key = _issue_key(session, agent_id=agent.id, version=version)
    if key is None and not _creation_pending(session, agent_id=agent.id, version=version):
        return  # submitted before Jira was configured: decided locally only
    if key is None:  # the issue is still being created: move it once it exists
        _enqueue_transition(
            session,
            agent=agent,
            version=version,
            action="approve" if approve else "reject",
            statuses=names,
        )
        return
    env = "JIRA_APPROVED_STATUSES" if approve else "JIRA_REJECTED_STATUSES"
    client = client_from_settings()
    try:
        if client.transition_to(key, list(names)) is not None:
            return
        current = (client.get_issue(key, fields="status").get("fields") or {}).get("status") or {}
    except JiraError as error:
        raise ExternalServiceError(
            f"Jira did not move {key} ({error}); nothing was changed — try again"
        ) from None
    current_name = str(current.get("name", "?"))
    if current_name.casefold() in {n.casefold() for n in names}:
        return  # already there in Jira (decided there too); the webhook echo changes nothing
    raise InvalidTransitionError(
        f"Jira issue {key} in {current_name!r} has no transition to {', '.join(names)} ({env}); "
        "fix the Jira workflow or the setting (`python -m core jira check`)"
    )


def after_cancel(session: Session, *, agent: Agent, version: int, actor: str, comment: str) -> None:
    """Tell the issue the submission was withdrawn; move it to a cancelled status if any."""
    if not jira_enabled():
        return
    has_issue = _issue_key(session, agent_id=agent.id, version=version) is not None
    if not has_issue and not _creation_pending(session, agent_id=agent.id, version=version):
        return
    note = Comment(
        agent_id=agent.id,
        author=actor,
        body=f"Submission of version {version} cancelled." + (f" {comment}" if comment else ""),
        source=Source.SYSTEM,
    )
    session.add(note)
    session.flush()
    enqueue(
        session,
        agent_id=agent.id,
        version=version,
        kind=OutboxKind.POST_COMMENT,
        dedupe_key=f"comment:{note.id}",
        payload={"comment_id": note.id},
    )
    statuses = get_settings().jira_cancelled_statuses
    if statuses:
        _enqueue_transition(
            session, agent=agent, version=version, action="cancel", statuses=statuses
        )


def _enqueue_transition(
    session: Session, *, agent: Agent, version: int, action: str, statuses: list[str]
) -> None:
    """Owe Jira a move of the version's issue to the first reachable of `statuses`."""
    enqueue(
        session,
        agent_id=agent.id,
        version=version,
        kind=OutboxKind.TRANSITION,
        dedupe_key=f"transition:{agent.id}:{version}:{action}",
        payload={"statuses": list(statuses)},
    )


def after_comment(session: Session, *, comment: Comment) -> None:
    """Post a registry comment to the agent's current Jira issue (if it has one)."""
    if not jira_enabled() or comment.source == Source.JIRA:
        return
    agent = session.get(Agent, comment.agent_id)
    version = _latest_submitted_version(session, agent_id=agent.id)
    if version is None:
        return  # never submitted: the comment stays local
    has_issue = _issue_key(session, agent_id=agent.id, version=version) is not None
    if not has_issue and not _creation_pending(session, agent_id=agent.id, version=version):
        return
    enqueue(
        session,
        agent_id=agent.id,
        version=version,
        kind=OutboxKind.POST_COMMENT,
        dedupe_key=f"comment:{comment.id}",
        payload={"comment_id": comment.id},
    )


def _issue_key(session: Session, *, agent_id: int, version: int) -> str | None:
    return session.scalar(
        select(AgentVersion.jira_issue_key).where(
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


def _creation_pending(session: Session, *, agent_id: int, version: int) -> bool:
    return (
        session.scalar(
            select(JiraOutbox.id).where(
                JiraOutbox.dedupe_key == f"create_issue:{agent_id}:{version}",
                JiraOutbox.status == OutboxStatus.PENDING,
            )
        )
        is not None
    )
