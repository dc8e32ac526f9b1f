"""The agent status machine: who may move an agent where, and the audit row for each move.

draft → pending → approved → production
           ↘ rejected        (pending → draft on cancel)
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core import events
from core.auth import get_user
from core.errors import ConflictError, InvalidTransitionError, PermissionDeniedError
from core.models import (
    Agent,
    AgentStatus,
    AgentVersion,
    Role,
    Source,
    StatusChange,
    User,
    VersionStatus,
    utcnow,
)
from core.registry.agents import get_agent

DECIDER_ROLES = frozenset({Role.APPROVER, Role.ADMIN})


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


def _require_owner_or_admin(agent: Agent, actor: User, action: str) -> None:
    if actor.id != agent.owner_id and actor.role != Role.ADMIN:
        raise PermissionDeniedError(
            f"only the owner ({agent.owner.email}) or an admin may {action} agent {agent.id}"
        )


def _require_decider(agent: Agent, actor: User, action: str) -> None:
    if actor.role not in DECIDER_ROLES:
        raise PermissionDeniedError(
            f"{actor.email} is a {actor.role.value}; only approvers may {action} agents"
        )
    if actor.id == agent.owner_id:
        raise PermissionDeniedError(
            f"{actor.email} owns agent {agent.id}; another approver must {action} it"
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
    actor = get_user(session, email=actor_email)
    _require_owner_or_admin(agent, actor, "submit")
    _require_state(agent, AgentStatus.DRAFT, "submit")
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
    actor = get_user(session, email=actor_email)
    _require_owner_or_admin(agent, actor, "cancel")
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
    actor: str,
    source: Source,
    comment: str = "",
    at=None,  # noqa: ANN001 - datetime of the decision (Jira's event time), default now
) -> Agent:
    """Record an approval decision without permission checks (Jira already decided)."""
    agent = get_agent(session, agent_id=agent_id)
    to = AgentStatus.APPROVED if approve else AgentStatus.REJECTED
    _require_state(agent, AgentStatus.PENDING, "approve" if approve else "reject")
    when = at or utcnow()
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
    """An approver's decision: permission checks, the move, and the Jira transition."""
    agent = get_agent(session, agent_id=agent_id)
    actor = get_user(session, email=actor_email)
    _require_decider(agent, actor, "approve" if approve else "reject")
    decide_agent(
        session,
        agent_id=agent_id,
        approve=approve,
        actor=actor.email,
        source=source,
        comment=comment,
    )
    events.announce(  # Jira (a subscriber) is moved in the background, never waited on
        session,
        kind=events.APPROVED if approve else events.REJECTED,
        agent_id=agent.id,
        version=agent.version,
        actor=actor.email,
        source=source,
    )
    return agent


def deploy_agent(
    session: Session, *, agent_id: int, actor_email: str, source: Source, comment: str = ""
) -> Agent:
    """Put the approved version into production (admins only); the previous one retires."""
    agent = get_agent(session, agent_id=agent_id)
    actor = get_user(session, email=actor_email)
    if actor.role != Role.ADMIN:
        raise PermissionDeniedError(
            f"{actor.email} is a {actor.role.value}; only admins deploy agents"
        )
    _require_state(agent, AgentStatus.APPROVED, "deploy")
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
    snapshot = current_snapshot(session, agent=agent)
    move(
        session,
        agent=agent,
        expected=AgentStatus.APPROVED,
        to=AgentStatus.PRODUCTION,
        actor=actor.email,
        source=source,
        comment=comment,
        values={"production_version": agent.version},
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
    """For each action, None if `user` may take it now, else the reason why not."""
    from core.registry.agents import EDITABLE  # agents imports this module lazily too

    def edit() -> None:
        _require_owner_or_admin(agent, user, "edit")
        if agent.status not in EDITABLE:
            raise InvalidTransitionError(f"agent {agent.id} is {agent.status.value}")

    def deploy() -> None:
        if user.role != Role.ADMIN:
            raise PermissionDeniedError("only admins deploy agents")
        _require_state(agent, AgentStatus.APPROVED, "deploy")

    def owner_move(action: str, state: AgentStatus):  # noqa: ANN202
        def check() -> None:
            _require_owner_or_admin(agent, user, action)
            _require_state(agent, state, action)

        return check

    def decision(action: str):  # noqa: ANN202
        def check() -> None:
            _require_decider(agent, user, action)
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
