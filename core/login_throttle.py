"""Growing delays after failed log-ins, per email, kept in the database (so every process and
every dashboard worker sees the same count).

The first `FREE_FAILURES` wrong passwords cost nothing; each further one locks the email for
`FIRST_DELAY`, doubling up to `MAX_DELAY`. A successful log-in clears the count, and a count
whose last failure is `FORGET_AFTER` old starts again. Unknown emails are counted exactly like
accounts, so the answers never tell whether an account exists.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.errors import AuthenticationError
from core.models import LoginThrottle

FREE_FAILURES = 5
FIRST_DELAY = timedelta(seconds=30)
MAX_DELAY = timedelta(minutes=15)
FORGET_AFTER = timedelta(days=1)
KEY_LENGTH = 255


class LoginThrottled(AuthenticationError):
    """Too many wrong passwords for this email: `retry_after` seconds to wait."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            f"too many failed log-ins for this email: try again in {_wait(retry_after)}"
        )
        self.retry_after = retry_after


def throttle_key(email: str | None) -> str:
    return (email or "").strip().lower()[:KEY_LENGTH]


def delay_after(failures: int) -> timedelta:
    """How long an email is locked after `failures` consecutive failures."""
    if failures < FREE_FAILURES:
        return timedelta(0)
    doublings = min(failures - FREE_FAILURES, 16)
    return min(FIRST_DELAY * 2**doublings, MAX_DELAY)


def check_not_locked(session: Session, *, email: str, now: datetime) -> None:
    """Raise `LoginThrottled` while `email` is locked by earlier failures."""
    row = session.get(LoginThrottle, throttle_key(email))
    if row is not None and row.locked_until is not None and row.locked_until > now:
        raise LoginThrottled(_seconds_until(row.locked_until, now))


def record_failure(session: Session, *, email: str, now: datetime) -> None:
    """Count one more failed log-in for `email` and lock it for the growing delay."""
    key = throttle_key(email)
    session.execute(delete(LoginThrottle).where(LoginThrottle.last_failure_at < now - FORGET_AFTER))
    row = session.scalars(
        select(LoginThrottle).where(LoginThrottle.email == key).with_for_update()
    ).first()
    if row is None:
        try:
            with session.begin_nested():
                row = LoginThrottle(email=key, failures=0, last_failure_at=now)
                session.add(row)
        except IntegrityError:  # another process counted this email's first failure
            row = session.scalars(
                select(LoginThrottle).where(LoginThrottle.email == key).with_for_update()
            ).one()
    row.failures += 1
    row.last_failure_at = now
    delay = delay_after(row.failures)
    row.locked_until = now + delay if delay else None


def record_success(session: Session, *, email: str) -> None:
    session.execute(delete(LoginThrottle).where(LoginThrottle.email == throttle_key(email)))


def _seconds_until(moment: datetime, now: datetime) -> int:
    return max(1, int((moment - now).total_seconds() + 0.999))


def _wait(seconds: int) -> str:
    if seconds < 90:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = (seconds + 59) // 60
    return f"{minutes} minutes"
