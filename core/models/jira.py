"""Jira side effects waiting to be delivered, and what we last applied per Jira issue."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, Enum, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.models.base import Base
from core.models.types import PortableJSON, UTCDateTime, utcnow


class OutboxKind(enum.StrEnum):
    CREATE_ISSUE = "create_issue"
    ATTACH_CODE = "attach_code"
    POST_COMMENT = "post_comment"
    TRANSITION = "transition"
    ATTACH_SPEC = "attach_spec"  # the full specification, when the issue text was shortened
    DEPLOY_NOTICE = "deploy_notice"  # POST to DEPLOY_WEBHOOK_URL (not a Jira call)


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"  # refused (4xx); `jira outbox retry` / `jira sync --retry-failed` again


def _enum(enum_cls: type[enum.Enum]) -> Enum:
    return Enum(
        enum_cls, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e]
    )


class JiraOutbox(Base):
    """One Jira call owed for an agent; retried until Jira takes it, never duplicated."""

    __tablename__ = "jira_outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agent_configs.id", ondelete="CASCADE"))
    version: Mapped[int | None] = mapped_column(Integer)
    kind: Mapped[OutboxKind] = mapped_column(_enum(OutboxKind))
    payload: Mapped[dict] = mapped_column(PortableJSON, default=dict)
    # Makes enqueueing idempotent: the same submission never queues two issue creations.
    dedupe_key: Mapped[str] = mapped_column(String(128), unique=True)
    status: Mapped[OutboxStatus] = mapped_column(_enum(OutboxStatus), default=OutboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    locked_by: Mapped[str | None] = mapped_column(String(64))
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        Index("ix_jira_outbox_status_next", "status", "next_attempt_at"),
        Index("ix_jira_outbox_agent_id", "agent_id"),
    )


class JiraIssueState(Base):
    """What we know of one Jira issue: its newest applied status event (older deliveries are
    not applied), its numeric id (Jira Server/DC comment events name only the id) and whether
    it was deleted in Jira."""

    __tablename__ = "jira_issue_states"

    issue_key: Mapped[str] = mapped_column(String(32), primary_key=True)
    issue_id: Mapped[str | None] = mapped_column(String(32), index=True)
    last_status: Mapped[str | None] = mapped_column(String(120))
    last_status_event_ms: Mapped[int | None] = mapped_column(BigInteger)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deleted_by: Mapped[str | None] = mapped_column(String(255))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
