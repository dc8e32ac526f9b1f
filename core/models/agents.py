"""Agents, their immutable submitted versions, the audit trail and comments."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.models.base import Base
from core.models.types import LongText, PortableJSON, UTCDateTime, utcnow


class AgentStatus(enum.StrEnum):
    DRAFT = "draft"
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    PRODUCTION = "production"


class VersionStatus(enum.StrEnum):
    """What became of one submitted version."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    PRODUCTION = "production"
    RETIRED = "retired"


def _str_enum(enum_cls: type[enum.Enum], length: int = 20) -> Enum:
    return Enum(
        enum_cls, native_enum=False, length=length, values_callable=lambda e: [m.value for m in e]
    )


class Agent(Base):
    """The agent and its working (editable) configuration. Table name from the spec."""

    __tablename__ = "agent_configs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(LongText)
    model: Mapped[str] = mapped_column(String(120))
    system_prompt: Mapped[str] = mapped_column(LongText, default="")
    tools: Mapped[list] = mapped_column(PortableJSON, default=list)
    code: Mapped[str] = mapped_column(LongText, default="")
    code_filename: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[AgentStatus] = mapped_column(_str_enum(AgentStatus), default=AgentStatus.DRAFT)
    # The working copy's version number: frozen as a snapshot at submission; the first
    # change after a snapshot left review (cancel, rejection, deployment) starts the next one.
    version: Mapped[int] = mapped_column(Integer, default=1)
    production_version: Mapped[int | None] = mapped_column(Integer)
    jira_issue_key: Mapped[str | None] = mapped_column(String(32), index=True)
    # Set when that issue was deleted in Jira (a pending submission is then decided in the
    # registry, or cancelled and submitted again for a new issue).
    jira_issue_deleted_key: Mapped[str | None] = mapped_column(String(32))
    approved_by: Mapped[str | None] = mapped_column(String(255))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    owner = relationship("User", lazy="joined")

    __table_args__ = (Index("ix_agent_configs_status", "status"),)


class AgentVersion(Base):
    """An immutable snapshot frozen at submission. Table name from the spec."""

    __tablename__ = "agent_registry"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agent_configs.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(LongText)
    model: Mapped[str] = mapped_column(String(120))
    system_prompt: Mapped[str] = mapped_column(LongText, default="")
    tools: Mapped[list] = mapped_column(PortableJSON, default=list)
    code: Mapped[str] = mapped_column(LongText, default="")
    code_filename: Mapped[str | None] = mapped_column(String(255))
    notes: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[VersionStatus] = mapped_column(
        _str_enum(VersionStatus), default=VersionStatus.PENDING
    )
    submitted_by: Mapped[str] = mapped_column(String(255))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    jira_issue_key: Mapped[str | None] = mapped_column(String(32), index=True)
    approved_by: Mapped[str | None] = mapped_column(String(255))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deployed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # SHA-256 of the canonical content (core.audit.content), frozen at submission.
    content_hash: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (
        UniqueConstraint("agent_id", "version", name="uq_agent_registry_agent_version"),
    )


class Source(enum.StrEnum):
    DASHBOARD = "dashboard"
    CLI = "cli"
    JIRA = "jira"
    API = "api"
    SYSTEM = "system"


class StatusChange(Base):
    """Append-only audit trail: one row per status move (and per Jira note).

    Hash-chained (core.audit.chain): `row_hash` covers the row and `prev_hash`, the previous
    row's `row_hash`. `content_hash` is the version's content on decisions and deploys.
    """

    __tablename__ = "agent_status_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agent_configs.id", ondelete="CASCADE"))
    version: Mapped[int | None] = mapped_column(Integer)
    from_status: Mapped[str | None] = mapped_column(String(40))
    to_status: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(255))
    source: Mapped[Source] = mapped_column(_str_enum(Source))
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    content_hash: Mapped[str | None] = mapped_column(String(64))
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    row_hash: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (
        Index("ix_agent_status_history_agent_created", "agent_id", "created_at"),
        # Point-in-time queries: deploys (to_status = 'production') up to an instant.
        Index("ix_agent_status_history_to_status_created", "to_status", "created_at"),
    )


class AuditChainHead(Base):
    """The end of the history hash chain: one row (id 1), locked by every append."""

    __tablename__ = "audit_chain_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    entries: Mapped[int] = mapped_column(Integer, default=0)
    last_id: Mapped[int | None] = mapped_column(Integer)
    last_hash: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Comment(Base):
    __tablename__ = "agent_comments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agent_configs.id", ondelete="CASCADE"))
    author: Mapped[str] = mapped_column(String(255))
    body: Mapped[str] = mapped_column(Text)
    source: Mapped[Source] = mapped_column(_str_enum(Source))
    # Set when the comment came from, or was posted to, Jira (dedupes the webhook echo).
    jira_comment_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # deleted in Jira
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    __table_args__ = (Index("ix_agent_comments_agent_created", "agent_id", "created_at"),)
