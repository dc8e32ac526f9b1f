"""The ORM models; importing this package registers every table on `Base.metadata`."""

from core.models.agents import (
    Agent,
    AgentStatus,
    AgentVersion,
    Comment,
    Source,
    StatusChange,
    VersionStatus,
)
from core.models.analytics import (
    EVENT_TYPES,
    DailyMetric,
    DailyModelMetric,
    ModelPrice,
    RollupQueue,
    UsageLog,
)
from core.models.base import Base
from core.models.jira import JiraIssueState, JiraOutbox, OutboxKind, OutboxStatus
from core.models.jobs import JobLease
from core.models.search import AgentEmbedding, SearchFit, SearchIndexState
from core.models.sessions import DashboardSession, InboxMark
from core.models.types import utcnow
from core.models.users import ApiToken, Role, User
from core.models.webhooks import WebhookEvent, WebhookStatus

__all__ = [
    "EVENT_TYPES",
    "Agent",
    "AgentEmbedding",
    "AgentStatus",
    "AgentVersion",
    "ApiToken",
    "Base",
    "Comment",
    "DashboardSession",
    "DailyMetric",
    "DailyModelMetric",
    "InboxMark",
    "JiraIssueState",
    "JiraOutbox",
    "JobLease",
    "ModelPrice",
    "OutboxKind",
    "OutboxStatus",
    "Role",
    "RollupQueue",
    "SearchFit",
    "SearchIndexState",
    "Source",
    "StatusChange",
    "UsageLog",
    "User",
    "VersionStatus",
    "WebhookEvent",
    "WebhookStatus",
    "utcnow",
]
