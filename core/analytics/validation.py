"""Field checks for usage events, shared by HTTP ingest and `analytics import`.

Entry points (both raise nothing but `InvalidEvent`, which names the field):

- `validate_event(raw, *, known_agents, now=None, limits=None) -> EventRow` — one raw event
  (a dict from JSON or a CSV row) to the row that will be stored;
- `core.analytics.events.validate_events(...)` — a batch, one `EventError` per refusal.

Sane ranges: counts are 0 … 2**31-1 (the columns are 32-bit), digit strings longer than
`MAX_DIGITS` are refused before conversion, and `created_at` must lie between
`ANALYTICS_EARLIEST_EVENT` (default 2000-01-01) and `ANALYTICS_MAX_FUTURE_SECONDS` (default one
day) after now. Offsets that push a timestamp outside what Python can represent (year 1 at
+01:00, year 9999 at -01:00) are refusals too, never an OverflowError.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from core.config import get_settings
from core.errors import ValidationError

if TYPE_CHECKING:
    from core.analytics.events import EventRow

MAX_INT = 2**31 - 1  # the columns are 32-bit integers
MAX_DIGITS = 12  # longer digit strings are refused before int() (which caps at 4,300 digits)
MAX_SHOWN = 40  # characters of a refused value repeated in a message


class InvalidEvent(Exception):
    """One field of one event was refused; `field` names it, `message` says why."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class EventLimits:
    """The accepted `created_at` range, relative to now."""

    earliest: datetime  # naive UTC
    max_future: timedelta

    @classmethod
    def from_settings(cls) -> EventLimits:
        settings = get_settings()
        return cls(
            earliest=datetime.combine(settings.analytics_earliest_event, datetime.min.time()),
            max_future=timedelta(seconds=settings.analytics_max_future_seconds),
        )


def shown(value: Any) -> str:
    """A refused value for a message: short, and never the repr of a deep structure."""
    if isinstance(value, dict | list | tuple | set):
        return f"a {type(value).__name__}"
    text = repr(value)
    return text if len(text) <= MAX_SHOWN else f"{text[:MAX_SHOWN]}… ({len(text)} characters)"


def non_negative_int(value: Any, field: str) -> int:
    """0 … MAX_INT from an int, an integral float or a short digit string (None/"" → 0)."""
    if type(value) is int and 0 <= value <= MAX_INT:  # the common case, fast
        return value
    if value is None or value == "":
        return 0
    if isinstance(value, bool):
        raise InvalidEvent(field, f"{field} must be a non-negative integer, not a boolean")
    if isinstance(value, str):
        digits = value.strip()
        if digits.isascii() and digits.isdigit():
            if len(digits.lstrip("0")) > MAX_DIGITS:
                raise InvalidEvent(field, f"{field} must be at most {MAX_INT}, got {shown(value)}")
            value = int(digits)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or value < 0:
        raise InvalidEvent(field, f"{field} must be a non-negative integer, got {shown(value)}")
    if value > MAX_INT:
        raise InvalidEvent(field, f"{field} must be at most {MAX_INT}, got {shown(value)}")
    return value


def parse_timestamp(value: Any, *, now: datetime, limits: EventLimits | None = None) -> datetime:
    """Naive UTC from ISO 8601 text or a datetime (naive input means UTC); `now` is naive UTC.

    Refuses unparseable values and times outside `limits` (default: from settings).
    """
    if value is None or value == "":
        return now
    limits = limits or EventLimits.from_settings()
    if isinstance(value, str):
        if len(value) > 64:
            raise InvalidEvent("created_at", f"created_at {shown(value)} is not ISO 8601")
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            raise InvalidEvent(
                "created_at", f"created_at {shown(value)} is not an ISO 8601 timestamp"
            ) from None
    elif not isinstance(value, datetime):
        raise InvalidEvent(
            "created_at", f"created_at must be an ISO 8601 string, got {shown(value)}"
        )
    if value.tzinfo is not None:
        try:
            value = value.astimezone(UTC).replace(tzinfo=None)
        except (OverflowError, ValueError):  # year 1 at +01:00, year 9999 at -01:00
            raise InvalidEvent(
                "created_at", f"created_at {value.isoformat()} is outside the supported range"
            ) from None
    if value < limits.earliest:
        raise InvalidEvent(
            "created_at",
            f"created_at {value.isoformat()}Z is before {limits.earliest.date().isoformat()}, "
            "the earliest accepted date",
        )
    if value - now > limits.max_future:
        raise InvalidEvent(
            "created_at",
            f"created_at {value.isoformat()}Z is more than {_duration(limits.max_future)} "
            "in the future",
        )
    return value


def _duration(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}" if count == 1 else f"{count} {unit}s"
    return f"{seconds} seconds"


def text_field(value: Any, field: str, max_length: int) -> str:
    if type(value) is not str:
        if value is None:
            return ""
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise InvalidEvent(field, f"{field} must be a string, got {type(value).__name__}")
        value = str(value)
    value = value.strip()
    if len(value) > max_length:
        raise InvalidEvent(field, f"{field} must be at most {max_length} characters")
    return value


def rollup_day(value: Any, *, field: str = "date") -> date:
    """A day to roll up, from YYYY-MM-DD text or a date, within the accepted event range.

    Raises core.errors.ValidationError naming `field` (the CLI and HTTP answer 422 / exit 1).
    """
    if isinstance(value, datetime):
        value = value.date()
    if not isinstance(value, date):
        try:
            value = date.fromisoformat(value.strip() if isinstance(value, str) else "")
        except ValueError:
            raise ValidationError(
                f"{field} {shown(value)} is not YYYY-MM-DD", field=field
            ) from None
    limits = EventLimits.from_settings()
    latest = (datetime.now(UTC).replace(tzinfo=None) + limits.max_future).date()
    if not limits.earliest.date() <= value <= latest:
        raise ValidationError(
            f"{field} {value.isoformat()} is outside {limits.earliest.date().isoformat()} … "
            f"{latest.isoformat()}, the range events may have",
            field=field,
        )
    return value


def validate_event(
    raw: Any,
    *,
    known_agents: Mapping[int, str],
    now: datetime | None = None,
    limits: EventLimits | None = None,
) -> EventRow:
    """The usage_logs row for one raw event, or `InvalidEvent` naming the field.

    `known_agents` maps existing agent ids to their configured model (see
    `core.analytics.ingest.known_agents`); `now` is an aware or naive-UTC datetime.
    """
    from core.analytics.events import naive_utcnow, normalise_event

    if now is None:
        now = naive_utcnow()
    elif now.tzinfo is not None:
        now = now.astimezone(UTC).replace(tzinfo=None)
    return normalise_event(raw, known_agents=known_agents, now=now, limits=limits)


__all__ = [
    "MAX_INT",
    "EventLimits",
    "InvalidEvent",
    "non_negative_int",
    "parse_timestamp",
    "rollup_day",
    "shown",
    "text_field",
    "validate_event",
]
