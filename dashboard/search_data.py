"""Reads of core.search for the Search page."""

from __future__ import annotations

from typing import Any

from dashboard.db import reading

try:  # core.search lands with issue 4; until then the page says it is not configured.
    from core import search as core_search
except ImportError:  # pragma: no cover - depends on what main holds
    core_search = None


def available() -> bool:
    return core_search is not None and hasattr(core_search, "search_agents")


def search(
    *, query: str, min_similarity: float, limit: int, statuses: list[str]
) -> list[dict[str, Any]]:
    with reading() as session:
        return list(
            core_search.search_agents(
                session,
                query=query,
                limit=limit,
                min_similarity=min_similarity,
                statuses=statuses or None,
            )
        )


def similar(*, agent_id: int, limit: int) -> list[dict[str, Any]]:
    with reading() as session:
        return list(core_search.similar_agents(session, agent_id=agent_id, limit=limit))
