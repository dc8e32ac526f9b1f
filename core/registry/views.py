"""Plain-dict views of agents: the JSON shapes of DESIGN.md, shared by CLI, HTTP and dashboard."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.config import get_settings
from core.models import Agent, StatusChange
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
            }
            for row in history(session, agent_id=agent_id)
        ],
        "comments": [
            {
                "author": c.author,
                "body": c.body,
                "source": c.source.value,
                "at": iso(c.created_at),
            }
            for c in list_comments(session, agent_id=agent_id)
        ],
    }
