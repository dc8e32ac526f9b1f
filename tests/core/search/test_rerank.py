"""The learned re-rank: its numpy evaluator, its features, and what it may never change."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select, update

from core.config import reset_settings
from core.db import session_scope
from core.models import AgentStatus, SearchFit, SearchIndexState
from core.search import Relevance, indexing, lexical, rerank, search_agents
from core.search.relevance import calibration
from tests.core.search.test_relevance import TEXT, _registry, _search

DATA = Path(__file__).with_name("data")


@pytest.mark.parametrize("name", ["tfidf", "hybrid"])
def test_evaluator_reproduces_scikit_learn(name: str) -> None:
    """Fixture: features of 10 dev queries' candidates and scikit-learn's predict_proba."""
    model = rerank.model_for(name)
    fixture = DATA / f"rerank_{name}_fixture.npz"
    if model is None or not fixture.exists():
        pytest.fail(f"no shipped {name} model or fixture; run bench/search_rerank_fit.py")
    with np.load(fixture) as data:
        x, expected = data["x"], data["probability"]
    assert x.shape == (len(expected), model.n_features) and len(expected) >= 100
    np.testing.assert_allclose(model.probability(x), expected, rtol=0, atol=1e-9)


def test_model_files_are_plain_arrays_and_small() -> None:
    for path in rerank.MODELS.glob("*.npz"):
        assert path.stat().st_size < 1_000_000
        with np.load(path, allow_pickle=False) as data:  # refuses pickled objects
            assert all(data[key].dtype != object for key in data.files)


def test_rank_counts_agents_strictly_above_and_is_capped() -> None:
    values = np.array([0.9, 0.5, 0.5, 0.1, 0.0, 0.0])
    assert list(rerank.rank_among_best(values, values)) == [0, 1, 1, 3, 4, 4]
    many = np.linspace(1.0, 0.0, 2000)
    ranks = rerank.rank_among_best(many, many[[0, 10, 299, 300, 1999]])
    assert list(ranks) == [0, 10, 299, rerank.RANK_CAP, rerank.RANK_CAP]


def test_others_stay_below_the_candidates_and_zero_stays_zero() -> None:
    rng = np.random.default_rng(0)
    first = np.concatenate([rng.random(80), np.zeros(20)])
    model = rerank.model_for("tfidf")
    candidates = rerank.candidates_of(first)
    x = rng.random((len(candidates), model.n_features)).astype(np.float32)
    similarity = rerank.rerank(first, candidates, x, model)
    others = np.setdiff1d(np.arange(100), candidates)
    assert len(candidates) == rerank.CANDIDATES
    assert similarity[others].max() < similarity[candidates].min()
    assert np.all(similarity[first == 0] == 0) and np.all(similarity[first > 0] > 0)
    kept = others[first[others] > 0]  # outside the candidates the first-stage order holds
    assert np.all(np.diff(similarity[kept][np.argsort(-first[kept])]) <= 0)
    assert similarity.max() <= 1.0


def test_limit_100_returns_every_matching_agent(db_url, monkeypatch) -> None:  # noqa: ANN001
    """80 agents share words with the query: the re-rank reorders, never drops one."""
    texts = [f"{TEXT} number {i} {'weather' if i % 3 else 'travel'}" for i in range(80)]
    ids = _registry(db_url, [AgentStatus.DRAFT] * 40 + [AgentStatus.APPROVED] * 40, texts)
    reranked = _search(db_url, query="supplier invoices weather", limit=100)
    monkeypatch.setenv("SEARCH_RERANK", "0")
    reset_settings()
    plain = _search(db_url, query="supplier invoices weather", limit=100)
    assert sorted(hit.id for hit in reranked) == sorted(hit.id for hit in plain) == sorted(ids)
    approved = _search(db_url, query="supplier invoices weather", limit=100, statuses=["approved"])
    assert len(approved) == 40


def test_a_v1_index_is_served_without_rerank_then_rebuilt(db_url, people, make_agent) -> None:  # noqa: ANN001
    make_agent(people["developer"], name="Invoice Clerk", description=TEXT)
    with session_scope(db_url, write=True) as session:
        fit_id = session.scalar(select(SearchIndexState.fit_id))
        session.execute(update(SearchFit).values(kind="tfidf-hash-v1"))
    indexing._fits.clear()  # as a process started after the upgrade would see it
    hits = _search(db_url, query="supplier invoices ledger")
    assert hits and hits[0].relevance == calibration("tfidf").label(hits[0].similarity)
    make_agent(people["developer"], name="Flight Finder", description="Cheap airline tickets")
    with session_scope(db_url) as session:
        state = session.scalar(select(SearchIndexState))
        kind = session.scalar(select(SearchFit.kind).where(SearchFit.id == state.fit_id))
        assert state.fit_id != fit_id and kind == lexical.KIND
    hits = _search(db_url, query="supplier invoices ledger")
    reranked = calibration("tfidf", reranked=True)
    assert hits[0].name == "Invoice Clerk" and hits[0].relevance == reranked.label(
        hits[0].similarity
    )


def test_nonsense_gives_no_good_match_after_rerank(db_url) -> None:  # noqa: ANN001
    _registry(
        db_url,
        [AgentStatus.APPROVED] * 3,
        [TEXT, "Forecasts the weather for any city", "Searches cheap airline tickets"],
    )
    with session_scope(db_url) as session:
        hits = search_agents(session, query="qwzx blorp")
        found = search_agents(session, query="cheap airline tickets")
    assert all(hit.relevance == Relevance.NONE for hit in hits)
    assert found[0].relevance in {Relevance.GOOD, Relevance.STRONG}
