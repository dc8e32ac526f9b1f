"""The time zone a person reads analytics in, stored on their account (default UTC).

Only display depends on it: analytics days stay UTC calendar days (the rollups' days), and
the dashboard says so; see docs/analytics.md.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from sqlalchemy.orm import Session

from core.actors import acting_user
from core.auth import find_user
from core.errors import ValidationError

DEFAULT_TIMEZONE = "UTC"


@cache
def timezone_names() -> list[str]:
    """Every IANA zone name this system knows, sorted, UTC first (for pickers)."""
    names = sorted(available_timezones() - {DEFAULT_TIMEZONE})
    return [DEFAULT_TIMEZONE, *names]


def check_timezone(name: str) -> str:
    """`name` if it is an IANA time zone (e.g. `Europe/Berlin`), else a ValidationError."""
    name = (name or "").strip()
    try:
        if name and name in set(timezone_names()):
            ZoneInfo(name)
            return name
    except (ZoneInfoNotFoundError, ValueError):
        pass
    raise ValidationError(
        f"unknown time zone {name!r}; give an IANA name such as UTC or Europe/Berlin",
        field="timezone",
    )


def user_timezone(session: Session, *, email: str) -> str:
    """The account's time zone, UTC when unset (or the account is unknown)."""
    user = find_user(session, email=email)
    return (user.timezone if user is not None else None) or DEFAULT_TIMEZONE


def set_user_timezone(session: Session, *, email: str, timezone: str) -> str:
    """Store the time zone of the active account `email` (each person sets their own)."""
    name = check_timezone(timezone)
    user = acting_user(session, email=email, action="set a time zone")
    user.timezone = None if name == DEFAULT_TIMEZONE else name
    return name


def utc_midnights_local(timezone: str, start: date, end: date) -> list[str]:
    """The local clock times ("01:00") at which the UTC days start..end begin in `timezone`,
    distinct, in order of first appearance (two when daylight saving changes in the range)."""
    zone = ZoneInfo(check_timezone(timezone))
    times: list[str] = []
    for offset in range((end - start).days + 1):
        midnight = datetime.combine(start + timedelta(days=offset), time.min, tzinfo=UTC)
        local = f"{midnight.astimezone(zone):%H:%M}"
        if local not in times:
            times.append(local)
    return times
