"""Who may decide, edit, submit, cancel and deploy: one place, used by every front end.

Decisions (approve or reject) are made by a registry account that is active, holds the
approver or admin role at the moment of the decision, and is neither the owner nor an
author of the version under review (whoever created or edited its working copy, uploaded
its code, or submitted it). No role is exempt. The dashboard, the CLI and Jira webhooks all
call `authorise_decision`; the actor is re-read in the caller's transaction.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.actors import acting_user
from core.errors import PermissionDeniedError
from core.models import Agent, AuthorAction, Role, User, VersionAuthor

DECIDER_ROLES = frozenset({Role.APPROVER, Role.ADMIN})
CREATOR_ROLES = frozenset({Role.DEVELOPER, Role.APPROVER, Role.ADMIN})


def record_author(
    session: Session, *, agent: Agent, version: int, user: User, action: AuthorAction
) -> None:
    """Remember that `user` had a part in `version` (idempotent per kind of part)."""
    known = session.scalar(
        select(VersionAuthor.id).where(
            VersionAuthor.agent_id == agent.id,
            VersionAuthor.version == version,
            VersionAuthor.user_id == user.id,
            VersionAuthor.action == action.value,
        )
    )
    if known is None:
        session.add(
            VersionAuthor(agent_id=agent.id, version=version, user_id=user.id, action=action.value)
        )
        session.flush()


def version_authors(session: Session, *, agent_id: int, version: int) -> dict[int, list[str]]:
    """user id → what they did to this version (created, edited, code, submitted)."""
    parts: dict[int, list[str]] = {}
    for user_id, action in session.execute(
        select(VersionAuthor.user_id, VersionAuthor.action)
        .where(VersionAuthor.agent_id == agent_id, VersionAuthor.version == version)
        .order_by(VersionAuthor.id)
    ):
        parts.setdefault(user_id, []).append(action)
    return parts


def decision_refusal(session: Session, *, agent: Agent, user: User, action: str) -> str | None:
    """Why `user` may not `action` (approve/reject) the version under review; None if they may."""
    if not user.is_active:
        return f"{user.email} is deactivated"
    if user.role not in DECIDER_ROLES:
        return f"{user.email} is a {user.role.value}; only approvers may {action} agents"
    if user.id == agent.owner_id:
        return f"{user.email} owns agent {agent.id}; another approver must {action} it"
    parts = version_authors(session, agent_id=agent.id, version=agent.version).get(user.id)
    if parts:
        return (
            f"{user.email} authored version {agent.version} of agent {agent.id} "
            f"({', '.join(parts)}); another approver must {action} it"
        )
    return None


def authorise_decision(session: Session, *, agent: Agent, actor_email: str, action: str) -> User:
    """THE check before any approval or rejection: the decider, re-read now, may decide."""
    user = acting_user(session, email=actor_email, action=f"{action} agents")
    reason = decision_refusal(session, agent=agent, user=user, action=action)
    if reason is not None:
        raise PermissionDeniedError(reason)
    return user


def owner_action_refusal(agent: Agent, user: User, action: str) -> str | None:
    """Editing, submitting and cancelling: the owner or an admin, with a creating role."""
    if not user.is_active:
        return f"{user.email} is deactivated"
    if user.id != agent.owner_id and user.role != Role.ADMIN:
        return f"only the owner ({agent.owner.email}) or an admin may {action} agent {agent.id}"
    if user.role not in CREATOR_ROLES:
        return f"{user.email} is now an {user.role.value}; analysts do not {action} agents"
    return None


def authorise_owner_action(
    session: Session, *, agent: Agent, actor_email: str, action: str
) -> User:
    user = acting_user(session, email=actor_email, action=f"{action} agents")
    reason = owner_action_refusal(agent, user, action)
    if reason is not None:
        raise PermissionDeniedError(reason)
    return user


def authorise_deploy(session: Session, *, actor_email: str) -> User:
    user = acting_user(session, email=actor_email, action="deploy agents")
    if user.role != Role.ADMIN:
        raise PermissionDeniedError(
            f"{user.email} is a {user.role.value}; only admins deploy agents"
        )
    return user
