"""Analytics at scale: ingest, rollup and query figures beside floors measured in the same run.

    .venv/bin/python bench/analytics_scale.py [--sizes 10000,100000,1000000]
        [--postgres-url URL] [--mysql-url URL] [--http-events 50000]
        [--reuse --sqlite-dir /tmp/bench]   # re-measure loaded data without re-ingesting
        [--profile]   # also time every statement of the cold rollup (the breakdown vs the floor)

SQLite always runs (a fresh file per size). PostgreSQL/MariaDB run when their URLs are given:
their analytics, agent and user tables are EMPTIED — give scratch databases.
Events: 50 agents, 5,000 users, one year of days up to today, ~70 % executions.

Measured per backend and size:
- ingest through `log_events` (batches of 10,000, one transaction each) in events/s;
- ingest over HTTP: gunicorn (2 workers) on 127.0.0.1, batches of 5,000, 2 client threads;
- full rollup (`rollup_all`, cold then re-run) beside two floors: a hand-written single
  GROUP BY of the same counts/sums/uniques (no p95, no cost, no writes), and a hand-written
  single statement that adds the exact p95 (percentile_disc on PostgreSQL, CUME_DIST window
  elsewhere). On PostgreSQL the rollup's p95 values are checked against percentile_disc;
- `daily_metrics` latency for a closed day (all agents, one agent), median of 30, beside the
  same figures read from that day's events alone (baseline);
- 30-day `summary` latency (with the previous 30 days), median of 10, beside the headline
  figures of both periods read from the events alone (baseline); and again with yesterday
  queued (computed live from its events, as today is on a loaded day).
Planner statistics are refreshed after the load (untimed), as auto-analyze would.
Results: a table on stdout and JSON in bench/results/.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402
from sqlalchemy import delete, event, text  # noqa: E402

from core import analytics, auth  # noqa: E402
from core.analytics.sql import bump_versions  # noqa: E402
from core.config import reset_settings  # noqa: E402
from core.db import dispose_engines, get_engine, session_scope  # noqa: E402
from core.migrate import upgrade_to_head  # noqa: E402
from core.models import Agent, Base, Role, RollupQueue, User  # noqa: E402

AGENTS = 50
USERS = 5_000
DAYS = 365
BATCH = 10_000
HTTP_BATCH = 5_000
MODELS = ["gpt-4o", "gpt-4o-mini", "claude-3-5-sonnet-20241022", "llama-3-70b", "in-house-v2"]

DAY_SQL = {
    "sqlite": "substr(created_at, 1, 10)",
    "postgresql": "CAST(created_at AS DATE)",
    "mysql": "DATE(created_at)",
}


def floor_group_by(dialect: str) -> str:
    day = DAY_SQL[dialect]
    return f"""
        SELECT {day} AS day, agent_id,
          SUM(CASE WHEN event_type = 'executed' THEN 1 ELSE 0 END),
          SUM(CASE WHEN event_type = 'viewed' THEN 1 ELSE 0 END),
          SUM(CASE WHEN event_type = 'created' THEN 1 ELSE 0 END),
          SUM(CASE WHEN event_type = 'deleted' THEN 1 ELSE 0 END),
          SUM(CASE WHEN event_type = 'executed' THEN tokens_used ELSE 0 END),
          SUM(CASE WHEN event_type = 'executed' THEN execution_time_ms ELSE 0 END),
          COUNT(DISTINCT NULLIF(user_id, ''))
        FROM usage_logs GROUP BY {day}, agent_id"""


def floor_with_p95(dialect: str) -> str:
    day = DAY_SQL[dialect]
    if dialect == "postgresql":
        return f"""
            SELECT {day} AS day, agent_id,
              SUM(CASE WHEN event_type = 'executed' THEN 1 ELSE 0 END),
              SUM(CASE WHEN event_type = 'viewed' THEN 1 ELSE 0 END),
              SUM(CASE WHEN event_type = 'created' THEN 1 ELSE 0 END),
              SUM(CASE WHEN event_type = 'deleted' THEN 1 ELSE 0 END),
              SUM(CASE WHEN event_type = 'executed' THEN tokens_used ELSE 0 END),
              SUM(CASE WHEN event_type = 'executed' THEN execution_time_ms ELSE 0 END),
              COUNT(DISTINCT NULLIF(user_id, '')),
              percentile_disc(0.95) WITHIN GROUP (ORDER BY execution_time_ms)
                FILTER (WHERE event_type = 'executed')
            FROM usage_logs GROUP BY {day}, agent_id"""
    return f"""
        SELECT day, agent_id,
          SUM(CASE WHEN event_type = 'executed' THEN 1 ELSE 0 END),
          SUM(CASE WHEN event_type = 'viewed' THEN 1 ELSE 0 END),
          SUM(CASE WHEN event_type = 'created' THEN 1 ELSE 0 END),
          SUM(CASE WHEN event_type = 'deleted' THEN 1 ELSE 0 END),
          SUM(CASE WHEN event_type = 'executed' THEN tokens_used ELSE 0 END),
          SUM(CASE WHEN event_type = 'executed' THEN execution_time_ms ELSE 0 END),
          COUNT(DISTINCT NULLIF(user_id, '')),
          MIN(CASE WHEN event_type = 'executed' AND cd >= 0.95 THEN execution_time_ms END)
        FROM (SELECT {day} AS day, agent_id, event_type, user_id, tokens_used,
                     execution_time_ms,
                     CUME_DIST() OVER (PARTITION BY {day}, agent_id, event_type
                                       ORDER BY execution_time_ms) AS cd
              FROM usage_logs) ranked
        GROUP BY day, agent_id"""


def events_only_summary(dialect: str, start: date, end: date) -> list[str]:
    """Baseline: the 30-day headline figures read from the events alone (what a registry
    without rollups or per-user rollup tables does): counts and sums, distinct users, the p95 row."""
    lo, hi = f"'{start} 00:00:00'", f"'{end + timedelta(days=1)} 00:00:00'"
    if dialect == "postgresql":
        lo, hi = f"TIMESTAMP {lo}", f"TIMESTAMP {hi}"
    where = f"created_at >= {lo} AND created_at < {hi}"
    return [
        f"""SELECT SUM(CASE WHEN event_type = 'executed' THEN 1 ELSE 0 END),
              SUM(CASE WHEN event_type = 'viewed' THEN 1 ELSE 0 END),
              SUM(tokens_used), SUM(execution_time_ms), COUNT(DISTINCT NULLIF(user_id, ''))
            FROM usage_logs WHERE {where}""",
        f"""SELECT execution_time_ms FROM usage_logs WHERE {where} AND event_type = 'executed'
            ORDER BY execution_time_ms DESC LIMIT 1 OFFSET 100""",
    ]


def events_only_day(dialect: str, day: date) -> list[str]:
    """Baseline for one closed day's figures: the same statements over that day's events."""
    return events_only_summary(dialect, day, day)


def event_batches(n: int, agent_ids: list[int], *, seed: int, size: int):
    """Batches of realistic events, one year of days up to now, deterministic."""
    rng = random.Random(seed)
    now = datetime.now(UTC)
    start = now - timedelta(days=DAYS)
    span = int((now - start).total_seconds()) - 60
    kinds = ["executed"] * 70 + ["viewed"] * 24 + ["created"] * 3 + ["deleted"] * 3
    batch = []
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
        batch.append(event)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def prepare(url: str) -> list[int]:
    """Migrated, emptied database with 50 agents and the default prices."""
    upgrade_to_head(url)
    with get_engine(url).begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(delete(table))
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
        analytics.seed_default_prices(session)
        return [a.id for a in agents]


CPU: dict[str, float] = {}


def timed(fn, label: str | None = None) -> float:  # noqa: ANN001
    """Wall seconds; with a label also records this process's CPU seconds (all of SQLite's
    work happens in-process, so on a busy machine CPU time is the steadier figure)."""
    cpu = time.process_time()
    start = time.perf_counter()
    fn()
    elapsed = time.perf_counter() - start
    if label:
        CPU[label] = time.process_time() - cpu
    return elapsed


def median_ms(fn, runs: int) -> float:  # noqa: ANN001
    fn()  # warm caches the same way for every measurement
    return statistics.median(timed(fn) for _ in range(runs)) * 1000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_ingest(url: str, agent_ids: list[int], n: int) -> float:
    """Events/s through POST /api/analytics/events on gunicorn (2 workers)."""
    with session_scope(url, write=True) as session:
        token = auth.create_api_token(session, name="bench").token
    port = free_port()
    env = {**os.environ, "DATABASE_URL": url, "GUNICORN_ACCESS_LOG": ""}  # gunicorn.conf.py
    server = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "-w", "2", "-b", f"127.0.0.1:{port}", "--log-level", "warning",
            "webhook_server:create_app({'START_WORKER': False})",
        ],
        cwd=ROOT, env=env,
    )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(200):
            try:
                if requests.get(f"{base}/healthz", timeout=5).ok:
                    break
            except requests.RequestException:
                time.sleep(0.1)
        bodies = [
            json.dumps({"events": b}).encode()
            for b in event_batches(n, agent_ids, seed=99, size=HTTP_BATCH)
        ]
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        failures: list[str] = []

        def client(part: list[bytes]) -> None:
            with requests.Session() as http:
                for body in part:
                    r = http.post(f"{base}/api/analytics/events", data=body, headers=headers)
                    if r.status_code != 201:
                        failures.append(f"{r.status_code} {r.text[:200]}")

        threads = [threading.Thread(target=client, args=(bodies[i::2],)) for i in range(2)]
        start = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - start
        if failures:
            raise RuntimeError(f"HTTP ingest failed: {failures[0]}")
        return n / elapsed
    finally:
        server.terminate()
        server.wait(timeout=30)


def refresh_statistics(url: str, dialect: str) -> None:
    """Planner statistics after the bulk load, as auto-vacuum/auto-analyze would (untimed)."""
    statement = {
        "postgresql": "VACUUM ANALYZE usage_logs",
        "mysql": "ANALYZE TABLE usage_logs",
        "sqlite": "ANALYZE",
    }[dialect]
    with get_engine(url).connect().execution_options(isolation_level="AUTOCOMMIT") as c:
        c.exec_driver_sql(statement)


def check_p95_against_postgres(url: str) -> int:
    """Rollup p95 vs percentile_disc for every (day, agent); returns the rows compared."""
    sql = text(
        """SELECT m.date, m.agent_id, m.p95_execution_ms, x.p
           FROM daily_metrics m JOIN (
             SELECT CAST(created_at AS DATE) d, agent_id,
                    percentile_disc(0.95) WITHIN GROUP (ORDER BY execution_time_ms) p
             FROM usage_logs WHERE event_type = 'executed' GROUP BY 1, 2) x
           ON x.d = m.date AND x.agent_id = m.agent_id"""
    )
    with session_scope(url) as session:
        rows = session.execute(sql).all()
    bad = [r for r in rows if float(r[2]) != float(r[3])]
    if bad:
        raise AssertionError(f"p95 differs from percentile_disc: {bad[:3]}")
    return len(rows)


class StatementTimes:
    """Wall seconds of each statement an engine runs while attached (`--profile`). On SQLite a
    SELECT's work happens while its rows are fetched, outside this timing: it shows in `other`
    (the rollup's time not spent inside a statement's execute call)."""

    def __init__(self, engine) -> None:  # noqa: ANN001
        self.engine, self.times, self.started = engine, [], 0.0

    def _before(self, conn, *_) -> None:  # noqa: ANN001
        self.started = time.perf_counter()

    def _after(self, conn, cursor, statement, *_) -> None:  # noqa: ANN001
        self.times.append((time.perf_counter() - self.started, " ".join(statement.split())))

    def __enter__(self):  # noqa: ANN204
        event.listen(self.engine, "before_cursor_execute", self._before)
        event.listen(self.engine, "after_cursor_execute", self._after)
        return self

    def __exit__(self, *_) -> None:  # noqa: ANN002
        event.remove(self.engine, "before_cursor_execute", self._before)
        event.remove(self.engine, "after_cursor_execute", self._after)

    def top(self, total: float, n: int = 12) -> dict:
        ranked = sorted(self.times, reverse=True)
        spent = sum(t for t, _ in self.times)
        return {
            "statements": [[round(t, 3), s[:100]] for t, s in ranked[:n]],
            "other_statements_s": round(spent - sum(t for t, _ in ranked[:n]), 3),
            "statement_count": len(self.times),
            "outside_statements_s": round(total - spent, 3),
        }


ROLLUP_TABLES = ("daily_metrics", "daily_model_metrics", "daily_agent_user_sets", "daily_totals")


def clear_rollups(url: str) -> None:
    """Empty the rollup tables of a reused database (untimed): its first rollup is cold again.
    TRUNCATE on the servers: a DELETE would leave dead rows (a million in the former per-user table)
    that the next insert wades through (PostgreSQL: 2x slower), unlike a fresh load."""
    engine = get_engine(url)
    with engine.begin() as connection:
        for table in ROLLUP_TABLES:
            verb = "DELETE FROM" if engine.dialect.name == "sqlite" else "TRUNCATE TABLE"
            connection.execute(text(f"{verb} {table}"))


def loaded_events(url: str) -> int:
    """Events already in a database this bench loaded (0 if none or not migrated)."""
    try:
        with session_scope(url) as session:
            return int(session.scalar(text("SELECT COUNT(*) FROM usage_logs")) or 0)
    except Exception:  # noqa: BLE001 (a fresh database has no tables yet)
        return 0


def summary_with_live_day(url: str, start: date, today: date) -> float:
    """The 30-day summary with yesterday queued for the rollup, so computed live from its
    events as today is on a loaded day (a reused database's today may have none)."""
    yesterday = today - timedelta(days=1)
    with session_scope(url, write=True) as session:
        bump_versions(session, RollupQueue.__table__, key="date", values=[yesterday])
    try:
        with session_scope(url) as session:
            return median_ms(lambda: analytics.summary(session, start=start, end=today), 10)
    finally:
        with session_scope(url, write=True) as session:
            session.execute(delete(RollupQueue).where(RollupQueue.date == yesterday))


def run_one(
    backend: str, url: str, n: int, http_events: int, reuse: bool = False, profile: bool = False
) -> dict:
    os.environ["DATABASE_URL"] = url
    reset_settings()
    dialect = get_engine(url).dialect.name
    h = min(http_events, n // 10)
    stored = 0
    ingest_seconds = ingest_cpu = 0.0
    http_rate = None
    if reuse and loaded_events(url) == n:
        upgrade_to_head(url)  # ingest figures are skipped: the events were loaded before
        clear_rollups(url)  # the first rollup below starts from empty tables, as after a load
        with session_scope(url) as session:
            agent_ids = [a for (a,) in session.execute(text("SELECT id FROM agent_configs"))]
    else:
        agent_ids = prepare(url)
        for batch in event_batches(n - h, agent_ids, seed=n, size=BATCH):
            cpu, start = time.process_time(), time.perf_counter()
            with session_scope(url, write=True) as session:
                stored += analytics.log_events(session, events=batch)
            ingest_seconds += time.perf_counter() - start
            ingest_cpu += time.process_time() - cpu
        http_rate = http_ingest(url, agent_ids, h) if h else None
    refresh_statistics(url, dialect)

    with session_scope(url) as session:
        floor = timed(lambda: session.execute(text(floor_group_by(dialect))).all(), "floor")
        floor_p95 = timed(lambda: session.execute(text(floor_with_p95(dialect))).all(), "floor_p95")

    def rollup() -> None:
        with session_scope(url, write=True) as session:
            analytics.rollup_all(session)

    breakdown = None
    if profile:
        with StatementTimes(get_engine(url)) as times:
            rollup_cold = timed(rollup, "rollup")
        breakdown = times.top(rollup_cold)
    else:
        rollup_cold = timed(rollup, "rollup")
    rollup_rerun = timed(rollup, "rerun")
    sqlite = dialect == "sqlite"
    p95_checked = check_p95_against_postgres(url) if dialect == "postgresql" else None

    today = datetime.now(UTC).date()
    closed: date = today - timedelta(days=3)
    month_start = today - timedelta(days=29)

    def run_all(statements: list[str]) -> None:
        for statement in statements:
            session.execute(text(statement)).all()

    with session_scope(url) as session:
        day_base = median_ms(lambda: run_all(events_only_day(dialect, closed)), 30)
        daily_all = median_ms(lambda: analytics.daily_metrics(session, day=closed), 30)
        daily_one = median_ms(
            lambda: analytics.daily_metrics(session, day=closed, agent_id=agent_ids[0]), 30
        )
        summary_base = median_ms(
            lambda: run_all(
                events_only_summary(dialect, month_start - timedelta(days=30), month_start)
                + events_only_summary(dialect, month_start, today)
            ),
            10,
        )
        cpu = time.process_time()
        summary_30 = median_ms(lambda: analytics.summary(session, start=month_start, end=today), 10)
        summary_cpu = (time.process_time() - cpu) / 11 * 1000
    summary_live = summary_with_live_day(url, month_start, today)
    dispose_engines()
    return {
        "backend": backend,
        "events": n,
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "log_events_per_s": round(stored / ingest_seconds) if stored else None,
        "http_events": h if stored else None,
        "http_events_per_s": round(http_rate) if http_rate else None,
        "floor_group_by_s": round(floor, 3),
        "floor_with_p95_s": round(floor_p95, 3),
        "rollup_all_s": round(rollup_cold, 3),
        "rollup_rerun_s": round(rollup_rerun, 3),
        "rollup_vs_floor": round(rollup_cold / floor, 2),
        "rollup_vs_floor_with_p95": round(rollup_cold / floor_p95, 2),
        "daily_metrics_ms": round(daily_all, 2),
        "daily_metrics_one_agent_ms": round(daily_one, 2),
        "daily_events_baseline_ms": round(day_base, 2),
        "summary_30d_ms": round(summary_30, 1),
        "summary_events_baseline_ms": round(summary_base, 1),
        "summary_30d_live_day_ms": round(summary_live, 1),
        "cpu_summary_30d_ms": round(summary_cpu, 1) if sqlite else None,
        "p95_rows_checked_against_percentile_disc": p95_checked,
        "rollup_breakdown": breakdown,
        # SQLite runs in this process: CPU seconds are comparable on a loaded machine.
        "cpu_log_events_per_s": round(stored / ingest_cpu) if sqlite and stored else None,
        "cpu_floor_group_by_s": round(CPU["floor"], 3) if sqlite else None,
        "cpu_floor_with_p95_s": round(CPU["floor_p95"], 3) if sqlite else None,
        "cpu_rollup_all_s": round(CPU["rollup"], 3) if sqlite else None,
        "cpu_rollup_rerun_s": round(CPU["rerun"], 3) if sqlite else None,
        "cpu_rollup_vs_floor": round(CPU["rollup"] / CPU["floor"], 2) if sqlite else None,
        "cpu_rollup_vs_floor_with_p95": round(CPU["rollup"] / CPU["floor_p95"], 2)
        if sqlite
        else None,
    }


COLUMNS = [
    ("backend", "backend"),
    ("events", "events"),
    ("log_events_per_s", "log_events/s"),
    ("http_events_per_s", "http/s"),
    ("floor_group_by_s", "floor s"),
    ("floor_with_p95_s", "floor+p95 s"),
    ("rollup_all_s", "rollup s"),
    ("rollup_vs_floor", "×floor"),
    ("rollup_vs_floor_with_p95", "×floor+p95"),
    ("rollup_rerun_s", "rerun s"),
    ("cpu_log_events_per_s", "cpu log_events/s"),
    ("cpu_rollup_vs_floor", "cpu ×floor"),
    ("cpu_rollup_vs_floor_with_p95", "cpu ×floor+p95"),
    ("daily_metrics_ms", "daily ms"),
    ("daily_metrics_one_agent_ms", "daily/agent ms"),
    ("daily_events_baseline_ms", "daily base ms"),
    ("summary_30d_ms", "30d summary ms"),
    ("summary_events_baseline_ms", "30d base ms"),
    ("summary_30d_live_day_ms", "30d +live day ms"),
    ("cpu_summary_30d_ms", "cpu 30d ms"),
]


def print_table(rows: list[dict]) -> None:
    cells = [["" if r.get(k) is None else str(r[k]) for k, _ in COLUMNS] for r in rows]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, (_, h) in enumerate(COLUMNS)]
    print("  ".join(h.rjust(w) for (_, h), w in zip(COLUMNS, widths, strict=True)))
    for c in cells:
        print("  ".join(v.rjust(w) for v, w in zip(c, widths, strict=True)))
    print("cpu columns: SQLite only, this process's CPU time (steadier on a busy machine)")
    print(
        "base columns: the same figures read from the events alone (hand-written statements: "
        "counts, sums, COUNT(DISTINCT) users, the p95 row), same run"
    )
    print(
        "targets (issue 13): rollup ≤ 1.5 × floor; closed-day metrics ≤ 5 ms; "
        "30-day summary on 1M ≤ 150 ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--postgres-url")
    parser.add_argument("--mysql-url")
    parser.add_argument("--http-events", type=int, default=50_000)
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="keep the loaded events between runs (SQLite files under --sqlite-dir; server "
        "databases already holding exactly N events) and skip the ingest figures",
    )
    parser.add_argument("--sqlite-dir", type=Path, help="where SQLite files go (default: temp)")
    parser.add_argument(
        "--profile", action="store_true", help="time each statement of the cold rollup"
    )
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    results = []
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="analytics-bench-") as temp:
        folder = args.sqlite_dir or temp
        backends = [] if args.skip_sqlite else [("sqlite", None)]
        backends += [(b, u) for b, u in (("postgresql", args.postgres_url),
                                          ("mariadb", args.mysql_url)) if u]  # fmt: skip
        for backend, url in backends:
            for n in sizes:
                target = url or f"sqlite:///{folder}/bench-{n}.db"
                print(f"… {backend} {n:,} events", file=sys.stderr, flush=True)
                results.append(
                    run_one(backend, target, n, args.http_events, args.reuse, args.profile)
                )
                print(json.dumps(results[-1]), file=sys.stderr, flush=True)
    print_table(results)
    for r in results:
        if r["rollup_breakdown"]:
            b = r["rollup_breakdown"]
            print(f"{r['backend']} cold rollup {r['rollup_all_s']} s (floor {r['floor_group_by_s']}"
                  f" s), by statement:")  # fmt: skip
            for seconds, statement in b["statements"]:
                print(f"  {seconds:8.3f} s  {statement}")
            print(f"  {b['other_statements_s']:8.3f} s  the other {b['statement_count'] - 12} "
                  f"statements; {b['outside_statements_s']:.3f} s outside statements")  # fmt: skip
    out = ROOT / "bench" / "results" / f"analytics_scale-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "benchmark": "analytics_scale",
                "at": datetime.now(UTC).isoformat(),
                "cpus": os.cpu_count(),
                "load_average_before": load_before,
                "load_average_after": os.getloadavg(),
                "results": results,
            },
            indent=2,
        )
    )
    print(f"saved {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
