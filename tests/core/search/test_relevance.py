"""Relevance labels, the no-good-match threshold and the status-aware order of results."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core import auth
from core.config import reset_settings
from core.db import session_scope
from core.models import Agent, AgentStatus, Role, User
from core.search import (
    Relevance,
    no_match_threshold,
    rebuild_index,
    search_agents,
    similar_agents,
)
from core.search.relevance import CALIBRATIONS, Calibration, calibration, ranking_scores

TEXT = "Reads supplier invoices and books them into the accounting ledger"


def test_labels_follow_the_calibrated_bands() -> None:
    bands = Calibration(no_match=0.1, good=0.2, strong=0.3)
    assert [bands.label(s) for s in (0.0, 0.099, 0.1, 0.19, 0.2, 0.29, 0.3, 1.0)] == [
        Relevance.NONE,
        Relevance.NONE,
        Relevance.WEAK,
        Relevance.WEAK,
        Relevance.GOOD,
        Relevance.GOOD,
        Relevance.STRONG,
        Relevance.STRONG,
    ]


@pytest.mark.parametrize("backend", sorted(CALIBRATIONS))
@pytest.mark.parametrize("reranked", [False, True])
def test_each_backend_has_ordered_bands(backend: str, reranked: bool) -> None:
    bands = calibration(backend, reranked=reranked)
    assert 0 < bands.no_match < bands.good < bands.strong < 1
    assert calibration(f" {backend.upper()} ", reranked=reranked) == bands


def test_usable_agents_get_the_boost_and_only_they() -> None:
    statuses = list(AgentStatus)
    keys = ranking_scores([0.5] * len(statuses), statuses, boost=0.1)
    boosted = {s for s, k in zip(statuses, keys, strict=True) if k > 0.5}
    assert boosted == {AgentStatus.APPROVED, AgentStatus.PRODUCTION}
    assert ranking_scores([0.5, 0.5], [AgentStatus.PRODUCTION, AgentStatus.DRAFT], boost=0) == [
        0.5,
        0.5,
    ]


def _registry(url: str, statuses: list[AgentStatus], texts: list[str] | None = None) -> list[int]:
    """Agents with the given statuses (same text unless `texts`), indexed in one rebuild."""
    texts = texts or [TEXT] * len(statuses)
    with session_scope(url, write=True) as session:
        owner = session.scalar(select(User).where(User.email == "owner@example.com"))
        if owner is None:
            owner = auth.create_user(
                session, email="owner@example.com", name="Owner", role=Role.DEVELOPER
            )
        agents = [
            Agent(
                owner_id=owner.id,
                name="Ledger clerk",
                description=text,
                model="gpt-4o",
                tools=[],
                code="",
                status=status,
            )
            for status, text in zip(statuses, texts, strict=True)
        ]
        session.add_all(agents)
        session.flush()
        rebuild_index(session)
        return [agent.id for agent in agents]


def _search(url: str, **kwargs) -> list:  # noqa: ANN003
    with session_scope(url) as session:
        return search_agents(session, **kwargs)


def test_at_equal_relevance_approved_and_production_come_first(db_url) -> None:  # noqa: ANN001
    order = [AgentStatus.DRAFT, AgentStatus.REJECTED, AgentStatus.PRODUCTION, AgentStatus.PENDING]
    order += [AgentStatus.APPROVED]
    ids = _registry(db_url, order)
    hits = _search(db_url, query="book supplier invoices into the ledger", limit=5)
    assert {hit.id for hit in hits[:2]} == {ids[2], ids[4]}
    assert {hit.status for hit in hits[:2]} == {"production", "approved"}
    # The similarity shown stays the plain relevance: the boost only orders.
    assert len({round(hit.similarity, 4) for hit in hits}) <= 2


def test_a_usable_agent_beyond_the_first_chunk_still_comes_first(db_url) -> None:  # noqa: ANN001
    """60 drafts and one production agent with the same text, asking for one result."""
    ids = _registry(db_url, [AgentStatus.DRAFT] * 60 + [AgentStatus.PRODUCTION])
    hits = _search(db_url, query="supplier invoices ledger", limit=1)
    assert [hit.id for hit in hits] == [ids[-1]]


def test_a_clearly_better_draft_still_wins(db_url) -> None:  # noqa: ANN001
    ids = _registry(
        db_url,
        [AgentStatus.PRODUCTION, AgentStatus.DRAFT],
        ["Forecasts rain and temperature for any city, plus a note on invoices", TEXT],
    )
    hits = _search(db_url, query="book supplier invoices into the accounting ledger")
    assert hits[0].id == ids[1] and hits[0].status == "draft"


def test_no_boost_keeps_the_plain_order(db_url, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setenv("SEARCH_STATUS_BOOST", "0")
    reset_settings()
    ids = _registry(db_url, [AgentStatus.DRAFT, AgentStatus.PRODUCTION])
    hits = _search(db_url, query="supplier invoices", limit=2)
    assert sorted(hit.id for hit in hits) == sorted(ids)
    assert hits[0].similarity == pytest.approx(hits[1].similarity)


def test_hits_carry_a_relevance_label(db_url) -> None:  # noqa: ANN001
    _registry(db_url, [AgentStatus.APPROVED])
    hit = _search(db_url, query="books supplier invoices into the accounting ledger")[0]
    # Search similarities are the re-rank's probabilities (issue 13): their own calibration.
    assert hit.relevance == calibration("tfidf", reranked=True).label(hit.similarity)
    assert hit.relevance in {Relevance.STRONG, Relevance.GOOD}
    assert hit.to_dict() == {
        "id": hit.id,
        "name": hit.name,
        "similarity": round(hit.similarity, 4),
        "status": "approved",
        "relevance": hit.relevance.value,
    }


def test_nonsense_is_no_good_match(db_url) -> None:  # noqa: ANN001
    _registry(
        db_url,
        [AgentStatus.APPROVED] * 3,
        [
            TEXT,
            "Forecasts the weather, rain and temperature for any city",
            "Searches cheap flights and compares airline ticket prices",
        ],
    )
    threshold = no_match_threshold()
    assert threshold == calibration("tfidf", reranked=True).no_match
    everything = _search(db_url, query="qwzx blorp")
    assert all(hit.relevance == Relevance.NONE for hit in everything)
    assert _search(db_url, query="qwzx blorp", min_similarity=threshold) == []
    found = _search(db_url, query="cheap airline tickets", min_similarity=threshold)
    assert found and found[0].relevance != Relevance.NONE


def test_similar_agents_are_status_aware_too(db_url) -> None:  # noqa: ANN001
    ids = _registry(db_url, [AgentStatus.DRAFT, AgentStatus.DRAFT, AgentStatus.APPROVED])
    with session_scope(db_url) as session:
        hits = similar_agents(session, agent_id=ids[0], limit=2)
    assert [hit.id for hit in hits] == [ids[2], ids[1]]
