"""Agents, versions, the status machine, the audit trail and comments."""

from core.registry.activity import recent_activity
from core.registry.agents import (
    count_by_status,
    create_agent,
    get_agent,
    list_agents,
    list_versions,
    update_agent,
)
from core.registry.comments import add_comment, list_comments
from core.registry.views import agent_status, agent_summary, history
from core.registry.workflow import (
    allowed_actions,
    approve_agent,
    cancel_agent,
    decide_agent,
    deploy_agent,
    reject_agent,
    submit_agent,
)

__all__ = [
    "add_comment",
    "agent_status",
    "agent_summary",
    "allowed_actions",
    "approve_agent",
    "cancel_agent",
    "count_by_status",
    "create_agent",
    "decide_agent",
    "deploy_agent",
    "get_agent",
    "history",
    "list_agents",
    "list_comments",
    "list_versions",
    "recent_activity",
    "reject_agent",
    "submit_agent",
    "update_agent",
]
