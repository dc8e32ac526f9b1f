"""Point in time: which version of which agent was in production at a past instant.

A version is in production from its deploy until the agent's next deploy (editing an agent in
production starts a new draft while the deployed version keeps serving). Everything comes from
the hash-chained history: the last deploy row per agent at or before the instant, and the last
approval row of that version; the version row adds its Jira key and the approval time it
recorded (Jira's event time for decisions made in Jira). One grouped query, served by
`ix_agent_status_history_to_status_created`, so PostgreSQL and MariaDB answer it on large
histories without reading every row.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session, aliased

from core.models import Agent, AgentStatus, AgentVersion, StatusChange
from core.registry.views import iso


def production_at(session: Session, *, at: datetime) -> list[dict[str, Any]]:
    """`audit production --at`: one entry per agent in production at `at` (aware UTC)."""
    deploy = aliased(StatusChange, name="deploy")
    decision = aliased(StatusChange, name="decision")
    last_deploy = (
        select(StatusChange.agent_id, func.max(StatusChange.id).label("id"))
        .where(
            StatusChange.to_status == AgentStatus.PRODUCTION.value,
            StatusChange.created_at <= at,
        )
        .group_by(StatusChange.agent_id)
        .subquery("last_deploy")
    )
    last_approval = (
        select(
            StatusChange.agent_id,
            StatusChange.version,
            func.max(StatusChange.id).label("id"),
        )
        .where(
            StatusChange.to_status == AgentStatus.APPROVED.value,
            StatusChange.created_at <= at,
        )
        .group_by(StatusChange.agent_id, StatusChange.version)
        .subquery("last_approval")
    )
    query = (
        select(
            deploy.agent_id,
            func.coalesce(AgentVersion.name, Agent.name).label("name"),
            deploy.version,
            func.coalesce(deploy.content_hash, AgentVersion.content_hash).label("content_hash"),
            func.coalesce(decision.actor, AgentVersion.approved_by).label("approved_by"),
            func.coalesce(AgentVersion.approved_at, decision.created_at).label("approved_at"),
            AgentVersion.jira_issue_key,
            deploy.actor.label("deployed_by"),
            deploy.created_at.label("deployed_at"),
        )
        .join(last_deploy, last_deploy.c.id == deploy.id)
        .join(Agent, Agent.id == deploy.agent_id)
        .outerjoin(
            AgentVersion,
            and_(AgentVersion.agent_id == deploy.agent_id, AgentVersion.version == deploy.version),
        )
        .outerjoin(
            last_approval,
            and_(
                last_approval.c.agent_id == deploy.agent_id,
                last_approval.c.version == deploy.version,
            ),
        )
        .outerjoin(decision, decision.id == last_approval.c.id)
        .order_by(deploy.agent_id)
    )
    return [
        {
            "agent_id": row.agent_id,
            "name": row.name,
            "version": row.version,
            "content_hash": row.content_hash,
            "approved_by": row.approved_by,
            "approved_at": iso(row.approved_at),
            "jira_issue_key": row.jira_issue_key,
            "deployed_by": row.deployed_by,
            "deployed_at": iso(row.deployed_at),
        }
        for row in session.execute(query)
    ]
