"""Creating, editing and reading agents."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.actors import acting_user
from core.errors import InvalidTransitionError, NotFoundError, PermissionDeniedError
from core.models import Agent, AgentStatus, AgentVersion, AuthorAction, Source, StatusChange, User
from core.registry import authority, validation

CREATOR_ROLES = authority.CREATOR_ROLES
# States whose working copy may be edited; editing a rejected or production agent starts the
# next version as a draft (production keeps serving its frozen version meanwhile).
EDITABLE = frozenset({AgentStatus.DRAFT, AgentStatus.REJECTED, AgentStatus.PRODUCTION})


def get_agent(session: Session, *, agent_id: int) -> Agent:
    agent = session.get(Agent, agent_id)
    if agent is None:
        raise NotFoundError(f"agent {agent_id} does not exist; see `agents list` for ids")
    return agent


def list_agents(
    session: Session,
    *,
    statuses: Iterable[AgentStatus | str] | None = None,
    owner_email: str | None = None,
    text: str | None = None,
) -> list[Agent]:
    query = select(Agent).order_by(Agent.updated_at.desc(), Agent.id.desc())
    if statuses:
        query = query.where(Agent.status.in_([AgentStatus(s) for s in statuses]))
    if owner_email:
        query = query.join(User, Agent.owner_id == User.id).where(
            func.lower(User.email) == owner_email.strip().lower()
        )
    agents = list(session.scalars(query))
    if text and text.strip():
        # In Python, not SQL: SQLite's lower() is ASCII-only, MariaDB's collation ignores
        # accents ("uber" finds "Über") and PostgreSQL's lower() follows the server's locale,
        # so the three databases would answer differently. The list is read whole anyway.
        needle = caseless(text.strip())
        agents = [a for a in agents if needle in caseless(a.name)]
    return agents


def caseless(text: str) -> str:
    """`text` for case-insensitive comparison: Unicode case folding ("Straße" → "strasse")
    of the NFC form, so composed and decomposed accents compare equal."""
    return unicodedata.normalize("NFC", unicodedata.normalize("NFC", text).casefold())


def count_by_status(session: Session) -> dict[str, int]:
    counts = {status.value: 0 for status in AgentStatus}
    for status, count in session.execute(select(Agent.status, func.count()).group_by(Agent.status)):
        counts[AgentStatus(status).value] = count
    return counts


def list_versions(session: Session, *, agent_id: int) -> list[AgentVersion]:
    return list(
        session.scalars(
            select(AgentVersion)
            .where(AgentVersion.agent_id == agent_id)
            .order_by(AgentVersion.version.desc())
        )
    )


def create_agent(
    session: Session,
    *,
    owner_email: str,
    name: str,
    description: str,
    model: str,
    system_prompt: str = "",
    tools: Iterable[str] | str | None = None,
    code: str | bytes | None = None,
    code_filename: str | None = None,
    source: Source = Source.CLI,
) -> Agent:
    owner = acting_user(session, email=owner_email, action="create agents")
    if owner.role not in CREATOR_ROLES:
        raise PermissionDeniedError(
            f"{owner.email} is an {owner.role.value}; only developers, approvers and admins create agents"
        )
    agent = Agent(
        owner_id=owner.id,
        name=validation.clean_name(name),
        description=validation.clean_description(description),
        model=validation.clean_model(model),
        system_prompt=validation.clean_prompt(system_prompt),
        tools=validation.clean_tools(tools),
        code=validation.clean_code(code),
        code_filename=(code_filename or None),
        status=AgentStatus.DRAFT,
        version=1,
    )
    agent.owner = owner
    session.add(agent)
    session.flush()
    session.add(
        StatusChange(
            agent_id=agent.id,
            version=agent.version,
            from_status=None,
            to_status=AgentStatus.DRAFT.value,
            actor=owner.email,
            source=source,
            comment="created",
        )
    )
    authority.record_author(
        session, agent=agent, version=agent.version, user=owner, action=AuthorAction.CREATED
    )
    if agent.code:
        authority.record_author(
            session, agent=agent, version=agent.version, user=owner, action=AuthorAction.CODE
        )
    _after_change(session, agent)
    return agent


_UNSET = object()


def update_agent(
    session: Session,
    *,
    agent_id: int,
    actor_email: str,
    name: str | object = _UNSET,
    description: str | object = _UNSET,
    model: str | object = _UNSET,
    system_prompt: str | object = _UNSET,
    tools: Iterable[str] | str | None | object = _UNSET,
    code: str | bytes | None | object = _UNSET,
    code_filename: str | None | object = _UNSET,
    source: Source = Source.CLI,
) -> Agent:
    """Edit the working copy. Only the owner or an admin may; not while pending or approved."""
    agent = get_agent(session, agent_id=agent_id)
    actor = authority.authorise_owner_action(
        session, agent=agent, actor_email=actor_email, action="edit"
    )
    if agent.status not in EDITABLE:
        hint = (
            "cancel the submission first"
            if agent.status == AgentStatus.PENDING
            else "deploy it first"
        )
        raise InvalidTransitionError(f"agent {agent.id} is {agent.status.value}; {hint}")
    changes = {
        "name": validation.clean_name(name) if name is not _UNSET else agent.name,
        "description": validation.clean_description(description)
        if description is not _UNSET
        else agent.description,
        "model": validation.clean_model(model) if model is not _UNSET else agent.model,
        "system_prompt": validation.clean_prompt(system_prompt)
        if system_prompt is not _UNSET
        else agent.system_prompt,
        "tools": validation.clean_tools(tools) if tools is not _UNSET else agent.tools,
        "code": validation.clean_code(code) if code is not _UNSET else agent.code,
        "code_filename": code_filename if code_filename is not _UNSET else agent.code_filename,
    }
    if agent.status != AgentStatus.DRAFT:
        previous = agent.status
        _start_next_version(
            session, agent=agent, actor=actor.email, source=source, previous=previous
        )
    code_changed = changes["code"] != agent.code or changes["code_filename"] != agent.code_filename
    for field, value in changes.items():
        setattr(agent, field, value)
    session.flush()
    authority.record_author(
        session, agent=agent, version=agent.version, user=actor, action=AuthorAction.EDITED
    )
    if code_changed:
        authority.record_author(
            session, agent=agent, version=agent.version, user=actor, action=AuthorAction.CODE
        )
    _after_change(session, agent)
    return agent


def _start_next_version(
    session: Session, *, agent: Agent, actor: str, source: Source, previous: AgentStatus
) -> None:
    from core.registry.workflow import move  # workflow imports this module

    kept = (
        f"; version {agent.production_version} stays in production"
        if agent.production_version
        else ""
    )
    move(
        session,
        agent=agent,
        expected=previous,
        to=AgentStatus.DRAFT,
        actor=actor,
        source=source,
        comment=f"editing started version {agent.version + 1}{kept}",
        values={"version": agent.version + 1},
    )


def _after_change(session: Session, agent: Agent) -> None:
    """Keep data derived from the agent's text (the search index) in step with it."""
    from core.search import index_agent  # imported late: it loads scikit-learn

    index_agent(session, agent=agent)
