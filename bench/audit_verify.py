"""`audit verify` over a large history beside a plain SELECT of the same rows, in the same run.

    .venv/bin/python bench/audit_verify.py [--rows 100000] [--runs 5]
        [--postgres-url URL] [--mysql-url URL]

SQLite always runs (a fresh file). PostgreSQL/MariaDB run when their URLs are given: their
history, agent and user tables are EMPTIED — give scratch databases.
History: 200 agents, rows cycling draft → pending → approved → production with emails, sources,
comments (some non-ASCII) and content hashes on decisions and deploys; chained by `rechain`.

Measured (median of --runs, after one warm-up):
- baseline: `SELECT` of the same columns in id order, every row fetched (no hashing);
- verify: `verify_database` (stream, recompute each row's SHA-256 link, check the head);
- production: `audit production --at` (one grouped query) at the middle of the history.
Results: a table on stdout and JSON in bench/results/audit_verify.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import delete, insert  # noqa: E402

from core.audit.chain import CHAIN_SELECT, rechain  # noqa: E402
from core.audit.production import production_at  # noqa: E402
from core.audit.verify import verify_database  # noqa: E402
from core.db import dispose_engines, get_engine, session_scope  # noqa: E402
from core.migrate import upgrade_to_head  # noqa: E402
from core.models import Agent, AuditChainHead, Base, StatusChange, User  # noqa: E402

AGENTS = 200
MOVES = [("", "draft"), ("draft", "pending"), ("pending", "approved"), ("approved", "production")]
START = datetime(2025, 1, 1, tzinfo=UTC)


def load(url: str, rows: int) -> float:
    """Empty the tables, insert `rows` history rows, chain them; returns the chaining seconds."""
    engine = get_engine(url)
    with engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(delete(table))
        connection.execute(
            insert(User.__table__),
            [
                {
                    "id": 1,
                    "email": "dev@example.com",
                    "name": "Dev",
                    "role": "developer",
                    "is_active": True,
                    "created_at": START,
                }
            ],
        )
        connection.execute(
            insert(Agent.__table__),
            [
                {
                    "id": a,
                    "owner_id": 1,
                    "name": f"Agent {a}",
                    "description": "d",
                    "model": "m",
                    "system_prompt": "",
                    "tools": [],
                    "code": "",
                    "status": "production",
                    "version": 1,
                    "created_at": START,
                    "updated_at": START,
                }
                for a in range(1, AGENTS + 1)
            ],
        )
        batch = []
        for i in range(rows):
            from_status, to_status = MOVES[i % 4]
            batch.append(
                {
                    "id": i + 1,
                    "agent_id": i % AGENTS + 1,
                    "version": i // (AGENTS * 4) + 1,
                    "from_status": from_status or None,
                    "to_status": to_status,
                    "actor": f"person{i % 37}@example.com",
                    "source": ("cli", "dashboard", "jira")[i % 3],
                    "comment": "revue approuvée — ok" if i % 5 == 0 else f"step {i}",
                    "created_at": START + timedelta(seconds=i * 30),
                    "content_hash": f"{i:064x}"
                    if to_status in ("approved", "production")
                    else None,
                }
            )
            if len(batch) == 10_000:
                connection.execute(insert(StatusChange.__table__), batch)
                batch = []
        if batch:
            connection.execute(insert(StatusChange.__table__), batch)
        connection.execute(delete(AuditChainHead.__table__))
    started = time.perf_counter()
    with engine.begin() as connection:
        assert rechain(connection) == rows
    return time.perf_counter() - started


def plain_select(url: str) -> int:
    with get_engine(url).connect() as connection:
        result = connection.exec_driver_sql(
            CHAIN_SELECT.text + " ORDER BY id",
            execution_options={"stream_results": True, "yield_per": 5000},
        )
        return sum(1 for _ in result)


def median_seconds(fn, runs: int) -> float:  # noqa: ANN001
    fn()  # warm-up: page cache, pool
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def bench(name: str, url: str, rows: int, runs: int) -> dict:
    upgrade_to_head(url)
    chain_s = load(url, rows)
    report = verify_database(url)
    assert report.ok and report.entries == rows, report
    assert plain_select(url) == rows
    middle = START + timedelta(seconds=rows * 15)

    def production() -> None:
        with session_scope(url) as session:
            production_at(session, at=middle)

    with session_scope(url) as session:
        in_production = len(production_at(session, at=middle))
    result = {
        "backend": name,
        "rows": rows,
        "select_s": median_seconds(lambda: plain_select(url), runs),
        "verify_s": median_seconds(lambda: verify_database(url), runs),
        "production_at_s": median_seconds(production, runs),
        "agents_in_production": in_production,
        "rechain_s": chain_s,
    }
    result["verify_over_select"] = result["verify_s"] / result["select_s"]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--postgres-url")
    parser.add_argument("--mysql-url")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        targets = [("sqlite", f"sqlite:///{tmp}/audit.db")]
        targets += [("postgresql", args.postgres_url)] if args.postgres_url else []
        targets += [("mariadb", args.mysql_url)] if args.mysql_url else []
        for name, url in targets:
            results.append(bench(name, url, args.rows, args.runs))
            dispose_engines()
    print(
        f"{'backend':<11}{'rows':>9}{'SELECT s':>10}{'verify s':>10}{'ratio':>7}"
        f"{'prod@ s':>9}{'rechain s':>11}"
    )
    for r in results:
        print(
            f"{r['backend']:<11}{r['rows']:>9,}{r['select_s']:>10.3f}{r['verify_s']:>10.3f}"
            f"{r['verify_over_select']:>7.1f}{r['production_at_s']:>9.4f}{r['rechain_s']:>11.2f}"
        )
    load_avg = os.getloadavg()
    print(f"load average: {load_avg[0]:.2f} {load_avg[1]:.2f} {load_avg[2]:.2f}")
    out = ROOT / "bench" / "results" / "audit_verify.json"
    out.write_text(
        json.dumps(
            {
                "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "load_average": load_avg,
                "cpus": os.cpu_count(),
                "results": results,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"written {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
