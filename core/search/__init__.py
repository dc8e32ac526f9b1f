"""Semantic agent discovery: embedders, the stored index and the search functions."""

from core.search.indexing import index_agent, rebuild_index
from core.search.service import SearchHit, SearchIndexMissingError, search_agents, similar_agents

__all__ = [
    "SearchHit",
    "SearchIndexMissingError",
    "index_agent",
    "rebuild_index",
    "search_agents",
    "similar_agents",
]
