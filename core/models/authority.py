"""Who authored each submitted version (four eyes: no author may decide it)."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.models.base import Base
from core.models.types import UTCDateTime, utcnow


class AuthorAction(enum.StrEnum):
    CREATED = "created"  # created the agent (the working copy's first version)
    EDITED = "edited"  # changed the working copy of this version
    CODE = "code"  # uploaded or replaced its code
    SUBMITTED = "submitted"  # froze it and put it up for approval


class VersionAuthor(Base):
    """One person's part in one version of an agent; one row per (person, kind of part)."""

    __tablename__ = "agent_version_authors"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agent_configs.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint(
            "agent_id", "version", "user_id", "action", name="uq_agent_version_authors_part"
        ),
    )
