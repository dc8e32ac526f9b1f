"""Plain-dict views of agents: the JSON shapes of DESIGN.md, shared by CLI, HTTP and dashboard."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.audit.content import content_hash_of
from core.config import get_settings
from core.models import Agent, AgentVersion, StatusChange
from core.registry.agents import get_agent
from core.registry.comments import list_comments
from core.sync_status import jira_sync


def iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def jira_issue_url(key: str | None) -> str | None:
    base = get_settings().jira_base_url.rstrip("/")
    return f"{base}/browse/{key}" if key and base else None


def agent_summary(agent: Agent) -> dict[str, Any]:
    return {
        "id": agent.id,
        "name": agent.name,
        "status": agent.status.value,
        "version": agent.version,
        "production_version": agent.production_version,
        "owner": agent.owner.email,
        "model": agent.model,
        "description": agent.description,
        "tools": list(agent.tools or []),
        "jira_issue_key": agent.jira_issue_key,
        "jira_issue_url": jira_issue_url(agent.jira_issue_key),
        "updated_at": iso(agent.updated_at),
    }


def history(session: Session, *, agent_id: int) -> list[StatusChange]:
    return list(
        session.scalars(
            select(StatusChange)
            .where(StatusChange.agent_id == agent_id)
            .order_by(StatusChange.created_at, StatusChange.id)
        )
    )


def agent_status(session: Session, *, agent_id: int) -> dict[str, Any]:
    """`agents status --json`: the agent with its audit trail and comments."""
    agent = get_agent(session, agent_id=agent_id)
    return {
        **agent_summary(agent),
        "approved_by": agent.approved_by,
        "approved_at": iso(agent.approved_at),
        "content_hash": current_content_hash(session, agent=agent),
        "jira_issue_deleted": _deleted_issue(agent),
        "jira_sync": jira_sync(session, agent_id=agent_id),
        "history": [
            {
                "from": row.from_status,
                "to": row.to_status,
                "actor": row.actor,
                "source": row.source.value,
                "comment": row.comment,
                "at": iso(row.created_at),
                "version": row.version,
                "content_hash": row.content_hash,
            }
            for row in history(session, agent_id=agent_id)
        ],
        "comments": [
            {
                "author": c.author,
                "body": c.body,
                "source": c.source.value,
                "at": iso(c.created_at),
                "deleted_at": iso(c.deleted_at),  # deleted in Jira: shown struck out
            }
            for c in list_comments(session, agent_id=agent_id)
        ],
    }


def current_content_hash(session: Session, *, agent: Agent) -> str:
    """The hash frozen with the current version's snapshot, else the working copy's."""
    frozen = session.scalar(
        select(AgentVersion.content_hash).where(
            AgentVersion.agent_id == agent.id, AgentVersion.version == agent.version
        )
    )
    return frozen or content_hash_of(agent)


def _deleted_issue(agent: Agent) -> str | None:
    """The key of the agent's Jira issue if it was deleted in Jira (until a new one exists)."""
    deleted = agent.jira_issue_deleted_key
    return deleted if deleted and agent.jira_issue_key in (None, deleted) else None
