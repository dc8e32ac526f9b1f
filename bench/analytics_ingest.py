"""Ingest on SQLite: `log_events` beside a raw executemany of the same rows, and what each
usage_logs index costs.

    .venv/bin/python bench/analytics_ingest.py [--events 1000000] [--http-events 50000]
        [--skip-index-costs]

Every measurement starts from a fresh, migrated SQLite file (the schema `log_events` writes
to, with its indexes and core.db's PRAGMAs) and loads the same events in transactions of
10,000 (the batch size of `POST /api/analytics/events` clients and `analytics import`):

- `log_events`: validation (agent lookup, types, timestamps) + insert + rollup-queue bump;
- raw: the same rows, already validated and converted before the clock starts, straight into
  `usage_logs` with the driver's `executemany` on one of the engine's connections — what the
  table and its indexes allow, the floor `log_events` is compared with;
- per-index cost: the raw load again with no secondary index, then with each index alone
  (the current ones and the ones the issue asked about), so each index's price is its time
  over the no-index load;
- HTTP: `POST /api/analytics/events` on gunicorn (2 workers), batches of 5,000, 2 clients
  (bench/analytics_scale.py's `http_ingest`), into the table the `log_events` load filled.

Events are bench/analytics_scale.py's mix: 50 agents, 5,000 users, timestamps spread at
random over one year up to now (random order is the worst case for created_at indexes;
live traffic arrives in time order). Results: a table on stdout and JSON in bench/results/.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core import analytics  # noqa: E402
from core.analytics.events import validate_events  # noqa: E402
from core.analytics.ingest import known_agents  # noqa: E402
from core.config import reset_settings  # noqa: E402
from core.db import dispose_engines, get_engine, session_scope  # noqa: E402
from core.migrate import upgrade_to_head  # noqa: E402
from core.models import Agent, Role, User  # noqa: E402

AGENTS = 50
USERS = 5_000
DAYS = 365
BATCH = 10_000
MODELS = ["gpt-4o", "gpt-4o-mini", "claude-3-5-sonnet-20241022", "llama-3-70b", "in-house-v2"]
COLUMNS = "agent_id, event_type, user_id, model_name, tokens_used, execution_time_ms, created_at"

# Index variants measured one at a time (name: columns). The first two are the schema before
# this change; the others are candidates for the queries that read usage_logs.
INDEXES = {
    "created_covering (created_at, event_type, execution_time_ms, user_id)": (
        "created_at, event_type, execution_time_ms, user_id"
    ),
    "agent_created (agent_id, created_at)": "agent_id, created_at",
    "created_at (created_at)": "created_at",
    "created_agent (created_at, agent_id)": "created_at, agent_id",
}


def event_batches(n: int, agent_ids: list[int], *, seed: int) -> list[list[dict]]:
    rng = random.Random(seed)
    now = datetime.now(UTC)
    start = now - timedelta(days=DAYS)
    span = int((now - start).total_seconds()) - 60
    kinds = ["executed"] * 70 + ["viewed"] * 24 + ["created"] * 3 + ["deleted"] * 3
    events = []
    for _ in range(n):
        kind = rng.choice(kinds)
        event = {
            "agent_id": rng.choice(agent_ids),
            "event_type": kind,
            "user": f"user{rng.randrange(USERS)}@corp.example",
            "created_at": (start + timedelta(seconds=rng.randrange(span))).isoformat(),
        }
        if kind == "executed":
            event["model_name"] = rng.choice(MODELS)
            event["tokens_used"] = rng.randrange(50, 8000)
            event["execution_time_ms"] = int(rng.lognormvariate(6, 0.8))
        events.append(event)
    return [events[i : i + BATCH] for i in range(0, n, BATCH)]


def fresh_database(directory: str, label: str) -> tuple[str, list[int]]:
    """A migrated SQLite file with 50 agents; returns its URL and the agent ids."""
    url = f"sqlite:///{directory}/{label}.db"
    os.environ["DATABASE_URL"] = url
    reset_settings()
    upgrade_to_head(url)
    with session_scope(url, write=True) as session:
        owner = User(email="bench@example.com", name="Bench", role=Role.DEVELOPER)
        session.add(owner)
        session.flush()
        agents = [
            Agent(owner_id=owner.id, name=f"Bench agent {i}", description="bench", model="gpt-4o")
            for i in range(AGENTS)
        ]
        session.add_all(agents)
        session.flush()
        return url, [a.id for a in agents]


def secondary_indexes(url: str) -> list[str]:
    with get_engine(url).connect() as connection:
        return [
            name
            for (name,) in connection.exec_driver_sql(
                "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'usage_logs' "
                "AND sql IS NOT NULL"
            )
        ]


def driver_rows(batches: list[list[dict]], url: str) -> list[list[tuple]]:
    """The rows log_events would store, as the driver tuples it passes (untimed)."""
    with session_scope(url) as session:
        ids = {e["agent_id"] for batch in batches for e in batch}
        agents = known_agents(session, agent_ids=ids)
    converted = []
    for batch in batches:
        rows, errors = validate_events(batch, known_agents=agents)
        assert not errors, errors[:3]
        converted.append([(*r[:6], r[6].isoformat(" ", "microseconds")) for r in rows])
    return converted


def load_log_events(url: str, batches: list[list[dict]]) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of log_events, one transaction per batch."""
    wall = cpu = 0.0
    for batch in batches:
        c, w = time.process_time(), time.perf_counter()
        with session_scope(url, write=True) as session:
            analytics.log_events(session, events=batch)
        wall += time.perf_counter() - w
        cpu += time.process_time() - c
    return wall, cpu


def load_raw(url: str, rows: list[list[tuple]]) -> tuple[float, float]:
    """(wall, CPU) seconds of the driver's executemany of ready rows, one transaction each."""
    sql = f"INSERT INTO usage_logs ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)"
    raw = get_engine(url).raw_connection()  # core.db's PRAGMAs, autocommit off by BEGIN
    try:
        cursor = raw.cursor()
        wall = cpu = 0.0
        for batch in rows:
            c, w = time.process_time(), time.perf_counter()
            cursor.execute("BEGIN IMMEDIATE")
            cursor.executemany(sql, batch)
            cursor.execute("COMMIT")
            wall += time.perf_counter() - w
            cpu += time.process_time() - c
        return wall, cpu
    finally:
        raw.close()


def with_only(url: str, columns: str | None) -> None:
    """usage_logs with no secondary index but `columns` (none when None)."""
    with get_engine(url).begin() as connection:
        for name in secondary_indexes(url):
            connection.exec_driver_sql(f"DROP INDEX {name}")
        if columns:
            connection.exec_driver_sql(f"CREATE INDEX ix_bench ON usage_logs ({columns})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--http-events", type=int, default=50_000)
    parser.add_argument("--skip-index-costs", action="store_true")
    args = parser.parse_args()
    n = args.events
    load_before = os.getloadavg()
    results: dict = {"events": n, "batch": BATCH}
    with tempfile.TemporaryDirectory() as directory:
        url, agent_ids = fresh_database(directory, "log_events")
        batches = event_batches(n, agent_ids, seed=n)
        schema_indexes = secondary_indexes(url)
        results["schema_indexes"] = schema_indexes
        rows = driver_rows(batches, url)

        # Raw first, then log_events, then raw again: a drifting machine shows as a gap.
        raw_url, _ = fresh_database(directory, "raw")
        raw_wall, raw_cpu = load_raw(raw_url, rows)
        wall, cpu = load_log_events(url, batches)
        raw2_url, _ = fresh_database(directory, "raw2")
        raw2_wall, raw2_cpu = load_raw(raw2_url, rows)
        raw_wall, raw_cpu = min(raw_wall, raw2_wall), min(raw_cpu, raw2_cpu)
        results.update(
            log_events_per_s=round(n / wall),
            raw_executemany_per_s=round(n / raw_wall),
            log_events_vs_raw=round(raw_wall / wall, 2),
            cpu_log_events_per_s=round(n / cpu),
            cpu_raw_executemany_per_s=round(n / raw_cpu),
            cpu_log_events_vs_raw=round(raw_cpu / cpu, 2),
        )
        if args.http_events:
            sys.path.insert(0, str(ROOT / "bench"))
            from analytics_scale import http_ingest

            http_url, http_agents = fresh_database(directory, "http")
            results["http_events"] = args.http_events
            results["http_events_per_s"] = round(
                http_ingest(http_url, http_agents, args.http_events)
            )
        dispose_engines()

        if not args.skip_index_costs:
            costs = []
            for label, columns in [("no secondary index", None), *INDEXES.items()]:
                index_url, _ = fresh_database(directory, f"index{len(costs)}")
                with_only(index_url, columns)
                index_wall, index_cpu = load_raw(index_url, rows)
                costs.append(
                    {"indexes": label, "raw_per_s": round(n / index_wall), "wall_s": index_wall,
                     "cpu_s": index_cpu}
                )  # fmt: skip
                dispose_engines()
            bare = costs[0]
            for cost in costs:
                cost["extra_s"] = round(cost["wall_s"] - bare["wall_s"], 2)
                cost["extra_cpu_s"] = round(cost["cpu_s"] - bare["cpu_s"], 2)
                cost["wall_s"], cost["cpu_s"] = round(cost["wall_s"], 2), round(cost["cpu_s"], 2)
            results["index_costs"] = costs

    results["load_average_before"] = load_before
    results["load_average_after"] = os.getloadavg()
    results["cpus"] = os.cpu_count()
    results["at"] = datetime.now(UTC).isoformat()
    report(results)
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = out / f"analytics_ingest-{stamp}.json"
    path.write_text(json.dumps({"benchmark": "analytics_ingest", **results}, indent=2) + "\n")
    print(f"saved {path.relative_to(ROOT)}")


def report(r: dict) -> None:
    print(f"SQLite, {r['events']:,} events, batches of {r['batch']:,}")
    print(f"schema indexes on usage_logs: {', '.join(r['schema_indexes']) or 'none'}")
    print(f"{'':28} {'events/s':>10} {'CPU events/s':>13}")
    print(f"{'raw executemany (floor)':28} {r['raw_executemany_per_s']:>10,} "
          f"{r['cpu_raw_executemany_per_s']:>13,}")  # fmt: skip
    print(f"{'log_events':28} {r['log_events_per_s']:>10,} {r['cpu_log_events_per_s']:>13,}")
    print(f"{'log_events / raw':28} {r['log_events_vs_raw']:>10} {r['cpu_log_events_vs_raw']:>13}")
    if r.get("http_events_per_s"):
        print(f"{'HTTP (gunicorn, 2 workers)':28} {r['http_events_per_s']:>10,}")
    if r.get("index_costs"):
        print("\nraw executemany with only this secondary index (cost = time over no index)")
        print(f"{'index':70} {'events/s':>9} {'+wall s':>8} {'+CPU s':>7}")
        for c in r["index_costs"]:
            print(f"{c['indexes']:70} {c['raw_per_s']:>9,} {c['extra_s']:>8} {c['extra_cpu_s']:>7}")
    print(f"load average before {r['load_average_before']}, after {r['load_average_after']}")


if __name__ == "__main__":
    main()
