"""The ORM models; importing this package registers every table on `Base.metadata`."""

from core.models.agents import (
    Agent,
    AgentStatus,
    AgentVersion,
    AuditChainHead,
    Comment,
    Source,
    StatusChange,
    VersionStatus,
)
from core.models.analytics import (
    EVENT_TYPES,
    DailyAgentUserSet,
    DailyMetric,
    DailyModelMetric,
    DailyTotal,
    DayLatency,
    ModelPrice,
    RecentAgentUser,
    RollupQueue,
    UsageLog,
    WindowFigures,
    WindowUser,
)
from core.models.authority import AuthorAction, VersionAuthor
from core.models.base import Base
from core.models.events import DomainEvent
from core.models.jira import JiraIssueState, JiraOutbox, OutboxKind, OutboxStatus
from core.models.jobs import JobLease
from core.models.login import LoginThrottle
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
    "AuditChainHead",
    "AuthorAction",
    "Base",
    "Comment",
    "DashboardSession",
    "DailyMetric",
    "DailyAgentUserSet",
    "DailyModelMetric",
    "DailyTotal",
    "DayLatency",
    "RecentAgentUser",
    "WindowFigures",
    "WindowUser",
    "DomainEvent",
    "InboxMark",
    "JiraIssueState",
    "JiraOutbox",
    "JobLease",
    "LoginThrottle",
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
    "VersionAuthor",
    "VersionStatus",
    "WebhookEvent",
    "WebhookStatus",
    "utcnow",
]

# Every session chains the history rows it writes (registered on import, after the models).
import core.audit.chain  # noqa: E402, F401, I001
