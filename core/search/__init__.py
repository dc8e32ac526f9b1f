"""Semantic agent discovery: embedders, the stored index and the search functions."""

from core.search.indexing import index_agent, rebuild_index
from core.search.relevance import Relevance
from core.search.service import (
    SearchHit,
    SearchIndexMissingError,
    no_match_threshold,
    search_agents,
    similar_agents,
)

__all__ = [
    "Relevance",
    "SearchHit",
    "SearchIndexMissingError",
    "index_agent",
    "no_match_threshold",
    "rebuild_index",
    "search_agents",
    "similar_agents",
]
