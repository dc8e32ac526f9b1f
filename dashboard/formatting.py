"""Number formats for metric cards."""

from __future__ import annotations

from datetime import date

from core.user_timezone import DEFAULT_TIMEZONE, utc_midnights_local


def compact(value: int | float | None) -> str:
    """1234 → '1,234'; 23_892_000 → '23.9M' (cards are narrow)."""
    if value is None:
        return "—"
    for size, suffix in ((1_000_000_000, "B"), (1_000_000, "M")):
        if abs(value) >= size:
            return f"{value / size:.1f}{suffix}"
    return f"{value:,.0f}"


def day_boundary(timezone: str, start: date, end: date) -> str:
    """What a chart's day is, for someone reading in `timezone`."""
    if timezone == DEFAULT_TIMEZONE:
        return "Days are UTC days."
    starts = " or ".join(utc_midnights_local(timezone, start, end))
    return f"Days are UTC days: in {timezone} each begins at {starts}."
