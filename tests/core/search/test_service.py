"""search_agents / similar_agents on every configured database backend."""

from __future__ import annotations

import pytest
from sqlalchemy import delete

from core import registry
from core.db import session_scope
from core.errors import NotFoundError, ValidationError
from core.models import AgentEmbedding, SearchIndexState, Source
from core.search import (
    Relevance,
    SearchIndexMissingError,
    rebuild_index,
    search_agents,
    similar_agents,
)

AGENTS = [
    (
        "Weather Oracle",
        "Forecasts the weather, rain and temperature for any city",
        ["forecast_api"],
    ),
    ("Invoice Clerk", "Reads supplier invoices and books them into the accounting ledger", []),
    ("Recipe Chef", "Suggests cooking recipes from the ingredients in your fridge", ["pantry"]),
    ("Flight Finder", "Searches cheap flights and compares airline ticket prices", []),
    ("Contract Reviewer", "Reviews legal contracts and flags risky clauses", ["pdf_reader"]),
]


@pytest.fixture
def catalogue(people, make_agent) -> dict[str, int]:  # noqa: ANN001
    ids = {}
    for name, description, tools in AGENTS:
        agent = make_agent(people["developer"], name=name, description=description, tools=tools)
        ids[name] = agent.id
    return ids


def search(**kwargs):  # noqa: ANN003, ANN201
    with session_scope() as session:
        return search_agents(session, **kwargs)


def test_finds_the_agent_that_does_the_job(catalogue) -> None:  # noqa: ANN001
    hits = search(query="will it rain in Paris tomorrow? temperature forecast")
    assert hits[0].id == catalogue["Weather Oracle"]
    assert hits[0].name == "Weather Oracle" and hits[0].status == "draft"
    similarities = [hit.similarity for hit in hits]
    assert similarities == sorted(similarities, reverse=True)
    assert all(0.0 < s <= 1.0 for s in similarities)
    assert hits[0].to_dict().keys() == {"id", "name", "similarity", "status", "relevance"}


def test_stemming_and_partial_words_match(catalogue) -> None:  # noqa: ANN001
    assert search(query="booking invoiced bills")[0].id == catalogue["Invoice Clerk"]
    assert search(query="airlines")[0].id == catalogue["Flight Finder"]


def test_limit_threshold_and_status_filter(catalogue, people) -> None:  # noqa: ANN001
    assert len(search(query="searches recipes flights contracts weather", limit=2)) == 2
    hits = search(query="legal contract clauses", min_similarity=0.2)
    assert [hit.id for hit in hits] == [catalogue["Contract Reviewer"]]
    assert search(query="legal contract clauses", min_similarity=1.0) == []

    with session_scope(write=True) as session:
        registry.submit_agent(
            session,
            agent_id=catalogue["Recipe Chef"],
            actor_email=people["developer"],
            source=Source.CLI,
        )
    assert search(query="cooking recipes", statuses=["draft"])[0].id != catalogue["Recipe Chef"]
    pending = search(query="cooking recipes", statuses=["pending"])
    assert [(h.id, h.status) for h in pending] == [(catalogue["Recipe Chef"], "pending")]


def test_an_edit_is_searchable_at_once(catalogue, people) -> None:  # noqa: ANN001
    before = search(query="translate japanese poetry")
    assert all(hit.relevance in {Relevance.WEAK, Relevance.NONE} for hit in before)
    assert search(query="fridge ingredients")[0].id == catalogue["Recipe Chef"]
    with session_scope(write=True) as session:
        registry.update_agent(
            session,
            agent_id=catalogue["Recipe Chef"],
            actor_email=people["developer"],
            description="Translates Japanese poetry into English verse",
            source=Source.CLI,
        )
    hits = search(query="translate japanese poetry")
    assert hits[0].id == catalogue["Recipe Chef"]
    after = search(query="fridge ingredients", min_similarity=0.05)
    assert catalogue["Recipe Chef"] not in [hit.id for hit in after]


def test_a_new_agent_with_unseen_words_is_found(catalogue, people, make_agent) -> None:  # noqa: ANN001
    agent = make_agent(
        people["developer"], name="Zorblax Tuner", description="Calibrates zorblax quantizers"
    )
    assert search(query="zorblax")[0].id == agent.id


def test_similar_agents_excludes_itself(catalogue, people, make_agent) -> None:  # noqa: ANN001
    twin = make_agent(
        people["developer"],
        name="Storm Watch",
        description="Weather forecasts with rain and storm warnings for your city",
    )
    with session_scope() as session:
        hits = similar_agents(session, agent_id=catalogue["Weather Oracle"], limit=3)
    assert hits[0].id == twin.id
    assert catalogue["Weather Oracle"] not in [hit.id for hit in hits]
    assert len(hits) == 3


def test_empty_registry_finds_nothing(db_url) -> None:  # noqa: ANN001
    assert search(query="anything at all") == []


def test_reindex_rebuilds_a_lost_index(catalogue, db_url) -> None:  # noqa: ANN001
    with session_scope(write=True) as session:
        session.execute(delete(AgentEmbedding))
        session.execute(delete(SearchIndexState))
    with pytest.raises(SearchIndexMissingError, match="search reindex"):
        search(query="weather")
    with session_scope(write=True) as session:
        assert rebuild_index(session) == len(AGENTS)
    assert search(query="weather forecast")[0].id == catalogue["Weather Oracle"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"query": ""}, "empty"),
        ({"query": "   \n\t"}, "empty"),
        ({"query": "x" * 2001}, "at most 2000"),
        ({"query": "ok", "limit": 0}, "limit"),
        ({"query": "ok", "limit": 101}, "limit"),
        ({"query": "ok", "min_similarity": -0.1}, "between 0 and 1"),
        ({"query": "ok", "min_similarity": 1.5}, "between 0 and 1"),
        ({"query": "ok", "statuses": ["shipped"]}, "unknown status"),
    ],
)
def test_bad_input_is_refused(db_url, kwargs, message) -> None:  # noqa: ANN001
    with pytest.raises(ValidationError, match=message):
        search(**kwargs)


def test_query_of_exactly_2000_characters_is_accepted(catalogue) -> None:  # noqa: ANN001
    assert search(query=("weather " * 250)[:2000])[0].id == catalogue["Weather Oracle"]


def test_similar_to_unknown_agent_or_bad_limit(db_url) -> None:  # noqa: ANN001
    with session_scope() as session:
        with pytest.raises(NotFoundError, match="agent 424242 does not exist"):
            similar_agents(session, agent_id=424242)
        with pytest.raises(ValidationError, match="limit"):
            similar_agents(session, agent_id=1, limit=0)
