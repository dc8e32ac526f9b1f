"""Failed log-ins per email (known account or not), for throttling password guessing."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from core.models.base import Base
from core.models.types import UTCDateTime


class LoginThrottle(Base):
    """Consecutive failed log-ins for one email; removed by a successful log-in."""

    __tablename__ = "login_throttles"

    email: Mapped[str] = mapped_column(String(255), primary_key=True)  # lower-cased
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
