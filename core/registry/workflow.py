"""The agent status machine: who may move an agent where, and the audit row for each move.

draft → pending → approved → production
           ↘ rejected        (pending → draft on cancel)
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core import events
from core.audit.approval import require_approved_content
from core.audit.content import content_hash_of
from core.errors import ConflictError, InvalidTransitionError, PermissionDeniedError
from core.models import (
    Agent,
    AgentStatus,
    AgentVersion,
    AuthorAction,
    Role,
    Source,
    StatusChange,
    User,
    VersionStatus,
    utcnow,
)
from core.registry import authority
from core.registry.agents import get_agent


def move(
    session: Session,
    *,
    agent: Agent,
    expected: AgentStatus,
    to: AgentStatus,
    actor: str,
    source: Source,
    comment: str = "",
    values: dict[str, Any] | None = None,
    content_hash: str | None = None,
) -> Agent:
    """Move `agent` from `expected` to `to` if nobody moved it first, and record the move.

    The conditional UPDATE is what makes two racing decisions safe: exactly one matches.
    """
    version = agent.version
    result = session.execute(
        update(Agent)
        .where(Agent.id == agent.id, Agent.status == expected)
        .values(status=to, updated_at=utcnow(), **(values or {}))
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        session.expire(agent)
        now = session.scalar(select(Agent.status).where(Agent.id == agent.id))
        raise ConflictError(
            f"agent {agent.id} is no longer {expected.value} (now {AgentStatus(now).value}); "
            "someone else acted first — reload and check"
        )
    session.expire(agent)
    session.add(
        StatusChange(
            agent_id=agent.id,
            version=version,
            from_status=expected.value,
            to_status=to.value,
            actor=actor,
            source=source,
            comment=comment or "",
            content_hash=content_hash,
        )
    )
    session.flush()
    return agent


def record_note(
    session: Session, *, agent: Agent, actor: str, source: Source, note: str, label: str
) -> None:
    """A history row that does not change the status (e.g. Jira moved to In Progress)."""
    session.add(
        StatusChange(
            agent_id=agent.id,
            version=agent.version,
            from_status=agent.status.value,
            to_status=label,
            actor=actor,
            source=source,
            comment=note,
        )
    )
    session.flush()


def _require_state(agent: Agent, allowed: AgentStatus, action: str) -> None:
    if agent.status != allowed:
        raise InvalidTransitionError(
            f"cannot {action} agent {agent.id}: it is {agent.status.value}, not {allowed.value}"
        )


def current_snapshot(session: Session, *, agent: Agent) -> AgentVersion | None:
    return session.scalar(
        select(AgentVersion).where(
            AgentVersion.agent_id == agent.id, AgentVersion.version == agent.version
        )
    )


def submit_agent(
    session: Session, *, agent_id: int, actor_email: str, source: Source, notes: str = ""
) -> Agent:
    """Freeze the working copy as an immutable version and put it up for approval."""
    agent = get_agent(session, agent_id=agent_id)
    actor = authority.authorise_owner_action(
        session, agent=agent, actor_email=actor_email, action="submit"
    )
    _require_state(agent, AgentStatus.DRAFT, "submit")
    authority.record_author(
        session, agent=agent, version=agent.version, user=actor, action=AuthorAction.SUBMITTED
    )
    session.add(
        AgentVersion(
            agent_id=agent.id,
            version=agent.version,
            name=agent.name,
            description=agent.description,
            model=agent.model,
            system_prompt=agent.system_prompt,
            tools=list(agent.tools or []),
            code=agent.code,
            code_filename=agent.code_filename,
            notes=notes or "",
            status=VersionStatus.PENDING,
            submitted_by=actor.email,
            content_hash=content_hash_of(agent),
        )
    )
    move(
        session,
        agent=agent,
        expected=AgentStatus.DRAFT,
        to=AgentStatus.PENDING,
        actor=actor.email,
        source=source,
        comment=notes,
        values={"approved_by": None, "approved_at": None, "jira_issue_key": None},
    )
    events.announce(
        session,
        kind=events.SUBMITTED,
        agent_id=agent.id,
        version=agent.version,
        actor=actor.email,
        source=source,
    )
    return agent


def cancel_agent(
    session: Session, *, agent_id: int, actor_email: str, source: Source, comment: str = ""
) -> Agent:
    """Withdraw a pending submission; the next edit or submission is a new version."""
    agent = get_agent(session, agent_id=agent_id)
    actor = authority.authorise_owner_action(
        session, agent=agent, actor_email=actor_email, action="cancel"
    )
    _require_state(agent, AgentStatus.PENDING, "cancel")
    _set_snapshot_status(session, agent=agent, status=VersionStatus.CANCELLED)
    cancelled_version = agent.version
    move(
        session,
        agent=agent,
        expected=AgentStatus.PENDING,
        to=AgentStatus.DRAFT,
        actor=actor.email,
        source=source,
        comment=comment or "submission cancelled",
        values={"version": agent.version + 1},
    )
    events.announce(
        session,
        kind=events.CANCELLED,
        agent_id=agent.id,
        version=cancelled_version,
        actor=actor.email,
        source=source,
        data={"comment": comment},
    )
    return agent


def decide_agent(
    session: Session,
    *,
    agent_id: int,
    approve: bool,
    actor_email: str,
    source: Source,
    comment: str = "",
    at=None,  # noqa: ANN001 - datetime of the decision (Jira's event time), default now
) -> Agent:
    """Record an approval decision by `actor_email`, who must be allowed to make it now.

    Every decision path (dashboard, CLI, Jira) comes through here, so the authority check
    (`core.registry.authority.authorise_decision`) cannot be skipped.
    """
    agent = get_agent(session, agent_id=agent_id)
    to = AgentStatus.APPROVED if approve else AgentStatus.REJECTED
    verb = "approve" if approve else "reject"
    actor = authority.authorise_decision(
        session, agent=agent, actor_email=actor_email, action=verb
    ).email
    _require_state(agent, AgentStatus.PENDING, verb)
    when = at or utcnow()
    snapshot = current_snapshot(session, agent=agent)
    _set_snapshot_status(
        session,
        agent=agent,
        status=VersionStatus.APPROVED if approve else VersionStatus.REJECTED,
        approved_by=actor,
        approved_at=when,
    )
    return move(
        session,
        agent=agent,
        expected=AgentStatus.PENDING,
        to=to,
        actor=actor,
        source=source,
        comment=comment,
        values={"approved_by": actor, "approved_at": when},
        content_hash=snapshot.content_hash if snapshot is not None else None,
    )


def approve_agent(
    session: Session, *, agent_id: int, actor_email: str, source: Source, comment: str = ""
) -> Agent:
    return _decide_as_user(
        session,
        agent_id=agent_id,
        actor_email=actor_email,
        source=source,
        comment=comment,
        approve=True,
    )


def reject_agent(
    session: Session, *, agent_id: int, actor_email: str, source: Source, comment: str = ""
) -> Agent:
    return _decide_as_user(
        session,
        agent_id=agent_id,
        actor_email=actor_email,
        source=source,
        comment=comment,
        approve=False,
    )


def _decide_as_user(
    session: Session,
    *,
    agent_id: int,
    actor_email: str,
    source: Source,
    comment: str,
    approve: bool,
) -> Agent:
    """A decision made in the registry: the checked move, then the Jira transition."""
    agent = decide_agent(
        session,
        agent_id=agent_id,
        approve=approve,
        actor_email=actor_email,
        source=source,
        comment=comment,
    )
    events.announce(  # Jira (a subscriber) is moved in the background, never waited on
        session,
        kind=events.APPROVED if approve else events.REJECTED,
        agent_id=agent.id,
        version=agent.version,
        actor=agent.approved_by,  # the checked decider's account email
        source=source,
    )
    return agent


def deploy_agent(
    session: Session, *, agent_id: int, actor_email: str, source: Source, comment: str = ""
) -> Agent:
    """Put the approved version into production (admins only); the previous one retires."""
    agent = get_agent(session, agent_id=agent_id)
    actor = authority.authorise_deploy(session, actor_email=actor_email)
    _require_state(agent, AgentStatus.APPROVED, "deploy")
    snapshot = current_snapshot(session, agent=agent)
    deployed_hash = (
        require_approved_content(session, snapshot=snapshot) if snapshot is not None else None
    )
    now = utcnow()
    if agent.production_version:
        previous = session.scalar(
            select(AgentVersion).where(
                AgentVersion.agent_id == agent.id,
                AgentVersion.version == agent.production_version,
            )
        )
        if previous is not None:
            previous.status = VersionStatus.RETIRED
    _set_snapshot_status(session, agent=agent, status=VersionStatus.PRODUCTION, deployed_at=now)
    move(
        session,
        agent=agent,
        expected=AgentStatus.APPROVED,
        to=AgentStatus.PRODUCTION,
        actor=actor.email,
        source=source,
        comment=comment,
        values={"production_version": agent.version},
        content_hash=deployed_hash,
    )
    if snapshot is not None:  # DEPLOY_WEBHOOK_URL is notified in the background (outbox)
        events.announce(
            session,
            kind=events.DEPLOYED,
            agent_id=agent.id,
            version=snapshot.version,
            actor=actor.email,
            source=source,
        )
    return agent


def _set_snapshot_status(
    session: Session, *, agent: Agent, status: VersionStatus, **fields: Any
) -> None:
    snapshot = current_snapshot(session, agent=agent)
    if snapshot is None:
        return
    snapshot.status = status
    for name, value in fields.items():
        setattr(snapshot, name, value)


def allowed_actions(agent: Agent, user: User) -> dict[str, str | None]:
    """For each action, None if `user` may take it now, else the reason why not.

    Only for showing buttons: the action itself checks again, re-reading the user.
    """
    from core.registry.agents import EDITABLE  # agents imports this module lazily too

    session = Session.object_session(agent)

    def require_owner_or_admin(action: str) -> None:
        reason = authority.owner_action_refusal(agent, user, action)
        if reason is not None:
            raise PermissionDeniedError(reason)

    def edit() -> None:
        require_owner_or_admin("edit")
        if agent.status not in EDITABLE:
            raise InvalidTransitionError(f"agent {agent.id} is {agent.status.value}")

    def deploy() -> None:
        if user.role != Role.ADMIN:
            raise PermissionDeniedError("only admins deploy agents")
        _require_state(agent, AgentStatus.APPROVED, "deploy")

    def owner_move(action: str, state: AgentStatus):  # noqa: ANN202
        def check() -> None:
            require_owner_or_admin(action)
            _require_state(agent, state, action)

        return check

    def decision(action: str):  # noqa: ANN202
        def check() -> None:
            reason = authority.decision_refusal(session, agent=agent, user=user, action=action)
            if reason is not None:
                raise PermissionDeniedError(reason)
            _require_state(agent, AgentStatus.PENDING, action)

        return check

    checks = {
        "edit": edit,
        "submit": owner_move("submit", AgentStatus.DRAFT),
        "cancel": owner_move("cancel", AgentStatus.PENDING),
        "approve": decision("approve"),
        "reject": decision("reject"),
        "deploy": deploy,
    }
    reasons: dict[str, str | None] = {}
    for action, check in checks.items():
        try:
            check()
            reasons[action] = None
        except (PermissionDeniedError, InvalidTransitionError) as refusal:
            reasons[action] = str(refusal)
    return reasons
