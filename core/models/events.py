"""Domain events: what happened in the registry, written in the same transaction as the change.

Subscribers (Jira, the deploy webhook) turn them into outbox rows; the registry itself never
calls or imports them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from core.models.base import Base
from core.models.types import PortableJSON, UTCDateTime, utcnow


class DomainEvent(Base):
    __tablename__ = "domain_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # "agent.submitted", "agent.approved", "agent.rejected", "agent.cancelled",
    # "agent.deployed", "comment.added"
    kind: Mapped[str] = mapped_column(String(40))
    agent_id: Mapped[int] = mapped_column(ForeignKey("agent_configs.id", ondelete="CASCADE"))
    version: Mapped[int | None] = mapped_column(Integer)
    actor: Mapped[str] = mapped_column(String(255), default="")
    source: Mapped[str] = mapped_column(String(20), default="")
    data: Mapped[dict] = mapped_column(PortableJSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index("ix_domain_events_agent_id", "agent_id", "id"),)
