"""Reads of core.search for the Search page, with each hit's owner and description."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from core import registry
from dashboard.db import reading

try:  # core.search lands with issue 4; until then the page says it is not configured.
    from core import search as core_search
except ImportError:  # pragma: no cover - depends on what main holds
    core_search = None


def available() -> bool:
    return core_search is not None and hasattr(core_search, "search_agents")


def _rows(session, hits: Iterable[Any]) -> list[dict[str, Any]]:  # noqa: ANN001
    rows = []
    for hit in hits:
        row = hit.to_dict() if hasattr(hit, "to_dict") else dict(hit)
        agent = registry.get_agent(session, agent_id=row["id"])
        rows.append(row | {"owner": agent.owner.email, "description": agent.description})
    return rows


# What people can use now: the page shows these unless the Status filter asks for others.
DEFAULT_STATUSES = ["approved", "production"]


def no_match_threshold() -> float:
    """The calibrated similarity below which a hit is "no good match" (docs/search.md)."""
    return round(float(core_search.no_match_threshold()), 2)


def search(
    *, query: str, min_similarity: float, limit: int, statuses: list[str]
) -> list[dict[str, Any]]:
    with reading() as session:
        hits = core_search.search_agents(
            session,
            query=query,
            limit=limit,
            min_similarity=min_similarity,
            statuses=statuses or None,
        )
        return _rows(session, hits)


def similar(*, agent_id: int, limit: int) -> list[dict[str, Any]]:
    with reading() as session:
        return _rows(session, core_search.similar_agents(session, agent_id=agent_id, limit=limit))
