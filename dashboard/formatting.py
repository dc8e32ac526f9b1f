"""Number formats for metric cards."""

from __future__ import annotations


def compact(value: int | float | None) -> str:
    """1234 → '1,234'; 23_892_000 → '23.9M' (cards are narrow)."""
    if value is None:
        return "—"
    for size, suffix in ((1_000_000_000, "B"), (1_000_000, "M")):
        if abs(value) >= size:
            return f"{value / size:.1f}{suffix}"
    return f"{value:,.0f}"
