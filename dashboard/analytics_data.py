"""Cached reads of core.analytics for the pages (cleared after every dashboard write)."""

from __future__ import annotations

from typing import Any

TTL_SECONDS = 300

try:  # core.analytics lands with issue 5; until then the pages say it is not configured.
    from core import analytics as core_analytics
except ImportError:  # pragma: no cover - depends on what main holds
    core_analytics = None


def available() -> bool:
    return core_analytics is not None


def today_summary() -> dict[str, Any] | None:
    if not available():
        return None
    return None
