"""Raw Jira webhook deliveries, stored before they are processed."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, Enum, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.models.base import Base
from core.models.types import LongText, UTCDateTime, utcnow


class WebhookStatus(enum.StrEnum):
    RECEIVED = "received"  # stored, not yet processed
    PROCESSED = "processed"
    IGNORED = "ignored"  # event type we do not act on
    UNMATCHED = "unmatched"  # issue key matches no agent
    REFUSED = "refused"  # a decision by someone not allowed to make it: recorded, not applied
    STALE = "stale"  # older than the last applied status event: recorded, not applied
    INVALID = "invalid"  # signed but not JSON
    RETRYING = "retrying"  # processing failed; will be retried
    FAILED = "failed"  # dead letter after the retries


class WebhookEvent(Base):
    __tablename__ = "webhook_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    delivery_id: Mapped[str] = mapped_column(String(128), unique=True)
    event_type: Mapped[str | None] = mapped_column(String(64))
    issue_key: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[WebhookStatus] = mapped_column(
        Enum(
            WebhookStatus,
            native_enum=False,
            length=20,
            values_callable=lambda e: [m.value for m in e],
        ),
        default=WebhookStatus.RECEIVED,
    )
    payload: Mapped[str] = mapped_column(LongText)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    event_timestamp_ms: Mapped[int | None] = mapped_column(BigInteger)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Lease so that only one worker process retries a given event at a time.
    locked_by: Mapped[str | None] = mapped_column(String(64))
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        Index("ix_webhook_events_status_next", "status", "next_attempt_at"),
        Index("ix_webhook_events_issue_key", "issue_key"),
        Index("ix_webhook_events_received_at", "received_at"),
    )
