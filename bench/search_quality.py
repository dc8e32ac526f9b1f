"""Search quality on labelled queries: our search_agents beside plain TF-IDF, in one run.

    python bench/search_quality.py --agents ../shared/eval/agents.csv \
        --queries ../shared/eval/queries_dev.csv --out rankings.jsonl [--backend tfidf]

Agents go into a fresh temporary registry through core's normal create path (so they are
indexed exactly as in production); every query goes through `search_agents`. Writes one JSON
line per query, {"query": ..., "ranked": [slug, ...]} (top 10), prints top-1, recall@5 and
MRR@10, and saves the figures to bench/results/search_quality_<backend>.json.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TOP = 10
OWNER = "eval@example.com"
MODEL = "gpt-4o"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--agents", required=True, type=Path)
    parser.add_argument("--queries", required=True, type=Path)
    parser.add_argument("--out", required=True, type=Path, help="rankings, JSON lines")
    parser.add_argument("--backend", choices=["tfidf", "sentence-transformers"], default=None)
    parser.add_argument("--limit-queries", type=int, help="only the first N queries")
    parser.add_argument(
        "--no-rerank", action="store_true", help="SEARCH_RERANK=0: the first stage alone (before)"
    )
    parser.add_argument(
        "--status-boosts",
        default="0,0.05,0.1,0.2",
        help="SEARCH_STATUS_BOOST values to compare on randomly assigned statuses",
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="ar_search_quality_") as folder:
        # Configuration is read from the environment; point it at a throwaway registry.
        os.environ["DATABASE_URL"] = f"sqlite:///{folder}/registry.db"
        if args.backend:
            os.environ["EMBEDDING_BACKEND"] = args.backend
        os.environ["SEARCH_RERANK"] = "0" if args.no_rerank else "1"
        return run(args)


def run(args: argparse.Namespace) -> int:
    from core.config import get_settings, reset_settings
    from core.db import dispose_engines, session_scope
    from core.errors import DomainError
    from core.search import search_agents
    from core.search.semantic import get_semantic_embedder

    reset_settings()
    settings = get_settings()
    backend = settings.embedding_backend
    agents = list(csv.DictReader(args.agents.open(encoding="utf-8")))
    queries = list(csv.DictReader(args.queries.open(encoding="utf-8")))
    if args.limit_queries:
        queries = queries[: args.limit_queries]

    started = time.perf_counter()
    slug_of = load_registry(agents)
    load_seconds = time.perf_counter() - started

    started = time.perf_counter()
    if backend == "sentence-transformers":
        # Batch-encode the queries once (search_agents then finds them in its query cache).
        get_semantic_embedder().prime_queries([row["query"].strip() for row in queries])
    runs = run_queries(session_scope, search_agents, DomainError, queries)
    rankings = [[slug_of[hit.id] for hit in hits] for hits in runs]
    query_seconds = time.perf_counter() - started
    gold = [row["slug"] for row in queries]
    found = calibrate(runs, gold, slug_of)
    by_status = status_aware(
        session_scope, search_agents, DomainError, queries, gold, slug_of, args
    )
    dispose_engines()

    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", encoding="utf-8") as out:
        for row, ranked in zip(queries, rankings, strict=True):
            out.write(json.dumps({"query": row["query"], "ranked": ranked}) + "\n")

    results = {f"search_agents ({backend})": metrics(rankings, gold)}
    for name, ranked in plain_tfidf_baselines(agents, queries).items():
        results[name] = metrics(ranked, gold)
    print_table(results)
    print(
        f"\n{len(agents)} agents created in {load_seconds:.1f} s; {len(queries)} queries in "
        f"{query_seconds:.1f} s ({1000 * query_seconds / max(len(queries), 1):.1f} ms/query)"
    )
    print_calibration(found)
    print_status_table(by_status)
    extra = {"calibration": found, "status_aware": by_status}
    save(backend, args, results, load_seconds, query_seconds, len(agents), len(queries), extra)
    return 0


def load_registry(agents: list[dict]) -> dict[int, str]:
    """Migrate the (empty) DATABASE_URL and create the agents through core; id -> slug."""
    from core import auth, registry
    from core.db import session_scope
    from core.migrate import upgrade_to_head
    from core.models import Role, Source

    upgrade_to_head()
    with session_scope(write=True) as session:
        auth.create_user(session, email=OWNER, name="Evaluation", role=Role.DEVELOPER)
    slug_of: dict[int, str] = {}
    for row in agents:
        with session_scope(write=True) as session:
            agent = registry.create_agent(
                session,
                owner_email=OWNER,
                name=row["name"],
                description=row["description"],
                system_prompt=row["details"],
                model=MODEL,
                source=Source.CLI,
            )
            slug_of[agent.id] = row["slug"]
    return slug_of


def run_queries(session_scope, search_agents, domain_error, queries):  # noqa: ANN001, ANN201
    """Every query through search_agents; a refused query counts as no hits."""
    runs = []
    with session_scope() as session:
        for row in queries:
            try:
                runs.append(search_agents(session, query=row["query"], limit=TOP))
            except domain_error as error:
                print(f"query refused ({error}): {row['query'][:60]!r}", file=sys.stderr)
                runs.append([])
    return runs


def calibrate(runs, gold, slug_of) -> dict:  # noqa: ANN001
    """The relevance bands from the best hit of each dev query (see core/search/relevance.py).

    P(best hit is the right agent | its similarity) is fitted by isotonic regression (monotone,
    no shape assumed). strong / good: the lowest similarity where that probability reaches
    0.7 / 0.4. no_match: the 1st percentile of the best hit's similarity over the queries whose
    best hit was right (99 % of right answers stay at or above it).
    """
    import numpy as np
    from sklearn.isotonic import IsotonicRegression

    pairs = zip(runs, gold, strict=True)
    best = [(hits[0].similarity, slug_of[hits[0].id] == right) for hits, right in pairs if hits]
    similarity = np.array([s for s, _ in best])
    right = np.array([r for _, r in best], dtype=float)
    probability = IsotonicRegression(out_of_bounds="clip").fit(similarity, right)
    grid = np.linspace(0.0, 1.0, 1001)
    fitted = probability.predict(grid)

    def lowest_with(target: float) -> float:
        ok = np.flatnonzero(fitted >= target)
        return round(float(grid[ok[0]]), 3) if len(ok) else 1.0

    correct = similarity[right.astype(bool)]
    no_match = round(float(np.percentile(correct, 1)), 3) if len(correct) else 0.0
    return {
        "strong": lowest_with(0.7),
        "good": lowest_with(0.4),
        "no_match": no_match,
        "queries_below_no_match": round(float((similarity < no_match).mean()), 4),
        "best_hit_right": round(float(right.mean()), 4),
        "p_right_at": {
            f"{s:.2f}": round(float(probability.predict([s])[0]), 3)
            for s in (0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8)
        },
    }


def status_aware(session_scope, search_agents, domain_error, queries, gold, slug_of, args) -> dict:  # noqa: ANN001, E501
    """Assign statuses at random (seeded), then compare SEARCH_STATUS_BOOST values.

    Plain relevance (MRR@10 of the labelled agent whatever its status) beside what the boost
    is for: how often the best hit is usable (approved or production), and MRR@10 over the
    queries whose labelled agent is usable.
    """
    import random

    from sqlalchemy import update

    from core.config import reset_settings
    from core.models import Agent, AgentStatus
    from core.search.relevance import USABLE

    rng = random.Random(13)
    status_of = {agent_id: rng.choice(list(AgentStatus)) for agent_id in slug_of}
    with session_scope(write=True) as session:
        for agent_id, status in status_of.items():
            session.execute(update(Agent).where(Agent.id == agent_id).values(status=status))
    usable_slugs = {slug_of[i] for i, status in status_of.items() if status in USABLE}
    figures = {}
    for boost in [float(b) for b in args.status_boosts.split(",")]:
        os.environ["SEARCH_STATUS_BOOST"] = str(boost)
        reset_settings()
        runs = run_queries(session_scope, search_agents, domain_error, queries)
        ranked = [[slug_of[hit.id] for hit in hits] for hits in runs]
        usable_gold = [i for i, right in enumerate(gold) if right in usable_slugs]
        figures[str(boost)] = metrics(ranked, gold) | {
            "usable_top1": round(
                sum(bool(r) and r[0] in usable_slugs for r in ranked) / max(len(ranked), 1), 4
            ),
            "mrr@10_usable_gold": metrics(
                [ranked[i] for i in usable_gold], [gold[i] for i in usable_gold]
            )["mrr@10"],
        }
    os.environ.pop("SEARCH_STATUS_BOOST", None)
    reset_settings()
    return figures


def print_calibration(found: dict) -> None:
    print(
        f"\ncalibration (best hit per dev query): strong >= {found['strong']}, "
        f"good >= {found['good']}, no good match < {found['no_match']} "
        f"({found['queries_below_no_match']:.1%} of dev queries; best hit right for "
        f"{found['best_hit_right']:.1%}; P(right | similarity) {found['p_right_at']})"
    )


def print_status_table(figures: dict) -> None:
    print("\nstatus-aware ranking, statuses assigned at random (seed 13):")
    print("boost  top-1  recall@5  MRR@10  usable top-1  MRR@10 (usable right agent)")
    for boost, f in figures.items():
        print(
            f"{float(boost):<5.2f}  {f['top1']:.3f}  {f['recall@5']:.3f}     {f['mrr@10']:.3f}   "
            f"{f['usable_top1']:.3f}         {f['mrr@10_usable_gold']:.3f}"
        )


def plain_tfidf_baselines(agents: list[dict], queries: list[dict]) -> dict[str, list[list[str]]]:
    """The textbook methods: scikit-learn TF-IDF over name + description + details, cosine."""
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer

    docs = [f"{a['name']} {a['description']} {a['details']}" for a in agents]
    texts = [q["query"] for q in queries]
    slugs = np.array([a["slug"] for a in agents])
    baselines = {}
    for name, vectorizers in {
        "plain TF-IDF, words": [TfidfVectorizer(sublinear_tf=True)],
        "plain TF-IDF, words + char 3-5": [
            TfidfVectorizer(sublinear_tf=True),
            TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True),
        ],
    }.items():
        scores = 0
        for vectorizer in vectorizers:
            matrix = vectorizer.fit_transform(docs)
            scores = scores + (vectorizer.transform(texts) @ matrix.T).toarray()
        order = np.argsort(-scores, axis=1, kind="stable")[:, :TOP]
        baselines[name] = [list(slugs[row]) for row in order]
    return baselines


def metrics(rankings: list[list[str]], gold: list[str]) -> dict[str, float]:
    top1 = recall5 = mrr = 0.0
    for ranked, right in zip(rankings, gold, strict=True):
        if right in ranked[:TOP]:
            rank = ranked.index(right) + 1
            top1 += rank == 1
            recall5 += rank <= 5
            mrr += 1.0 / rank
    n = max(len(gold), 1)
    return {
        "top1": round(top1 / n, 4),
        "recall@5": round(recall5 / n, 4),
        "mrr@10": round(mrr / n, 4),
    }


def print_table(results: dict[str, dict[str, float]]) -> None:
    width = max(len(name) for name in results)
    print(f"{'method'.ljust(width)}  top-1   recall@5  MRR@10")
    for name, figures in results.items():
        print(
            f"{name.ljust(width)}  {figures['top1']:.3f}   {figures['recall@5']:.3f}     "
            f"{figures['mrr@10']:.3f}"
        )


def save(backend, args, results, load_seconds, query_seconds, n_agents, n_queries, extra) -> None:  # noqa: ANN001, E501
    from core.config import get_settings

    suffix = "" if get_settings().search_rerank else "_first_stage"
    path = ROOT / "bench" / "results" / f"search_quality_{backend}{suffix}.json"
    path.write_text(
        json.dumps(
            {
                "backend": backend,
                "rerank": get_settings().search_rerank,
                "agents_csv": str(args.agents),
                "queries_csv": str(args.queries),
                "agents": n_agents,
                "queries": n_queries,
                "load_seconds": round(load_seconds, 2),
                "query_seconds": round(query_seconds, 2),
                "load_average": list(os.getloadavg()),
                "results": results,
            }
            | extra,
            indent=2,
        )
        + "\n"
    )


if __name__ == "__main__":
    sys.exit(main())
