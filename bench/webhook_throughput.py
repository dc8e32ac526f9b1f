"""Jira webhook receiver throughput vs /healthz, gunicorn with 2 workers on SQLite.

Run: .venv/bin/python bench/webhook_throughput.py [--duration 10] [--connections 2]
Runs /healthz, the webhook, waits until every delivery is processed, runs /healthz again;
prints requests/s and p50/p95/p99 side by side, checks every 2xx delivery was stored, and
writes bench/results/webhook_throughput.json. Load only hits 127.0.0.1 and is bounded.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.jira.signature import sign  # noqa: E402

SECRET = "bench-secret"
DRAIN_TIMEOUT_S = 300
RESULT_LINE = re.compile(r"^RESULT (.*)$", re.MULTILINE)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def seed(db_url: str, issues: int) -> list[str]:
    """Migrate, then one agent per Jira issue (via core models; the bench is a harness)."""
    from core.db import session_scope
    from core.migrate import upgrade_to_head
    from core.models import Agent, AgentStatus, AgentVersion, Role, User

    upgrade_to_head(db_url)
    keys = []
    with session_scope(db_url, write=True) as session:
        owner = User(email="bench@example.com", name="Bench", role=Role.DEVELOPER)
        session.add(owner)
        session.flush()
        for number in range(1, issues + 1):
            key = f"AGENT-{number}"
            agent = Agent(
                owner_id=owner.id,
                name=f"bench-{number}",
                description="bench agent",
                model="gpt-4o-mini",
                status=AgentStatus.PENDING,
                version=1,
                jira_issue_key=key,
            )
            session.add(agent)
            session.flush()
            session.add(
                AgentVersion(
                    agent_id=agent.id,
                    version=1,
                    name=agent.name,
                    description=agent.description,
                    model=agent.model,
                    submitted_by="bench@example.com",
                    jira_issue_key=key,
                )
            )
            keys.append(key)
    return keys


def write_deliveries(path: Path, count: int, keys: list[str], mix: str) -> None:
    """`realistic`: Jira comments, 'In Progress' status notes and unknown issues.
    `store-only`: `jira:issue_created`, which is stored and needs no processing (the floor)."""
    from tests.jira_double import payloads

    with path.open("w") as out:
        for n in range(count):
            key = keys[n % len(keys)]
            kind = n % 4
            if mix == "store-only":
                body = payloads.issue_created(key)
            elif kind in (0, 1):
                body = payloads.comment_event(
                    key, comment_id=str(500000 + n), body=f"Looks fine {n}"
                )
            elif kind == 2:
                body = payloads.status_changed(
                    key,
                    from_status="To Do",
                    to_status="In Progress",
                    timestamp=1_700_000_000_000 + n,
                )
            else:
                body = payloads.status_changed(f"OTHER-{n}", from_status="To Do", to_status="Done")
            raw = json.dumps(body, separators=(",", ":")).encode()
            out.write(f"{uuid.uuid4()}\t{sign(SECRET, raw)}\t{raw.decode()}\n")


def start_gunicorn(env: dict[str, str], port: int, workers: int) -> subprocess.Popen:
    command = [
        str(ROOT / ".venv/bin/gunicorn"),
        "-w",
        str(workers),
        "-b",
        f"127.0.0.1:{port}",
        "--log-level",
        "warning",
        "webhook_server:create_app()",
    ]
    process = subprocess.Popen(command, cwd=ROOT, env=env)
    import requests

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return process
        except requests.RequestException:
            pass
        time.sleep(0.1)
    process.terminate()
    raise SystemExit("gunicorn did not become ready")


def run_wrk(url: str, script: str, duration: int, connections: int, args: list[str]) -> dict:
    env = {**os.environ, "WRK_REPORT_LUA": str(ROOT / "bench/wrk/report.lua")}
    command = [
        "wrk",
        "-t",
        str(connections),
        "-c",
        str(connections),
        "-d",
        f"{duration}s",
        "-s",
        str(ROOT / "bench/wrk" / script),
        url,
        "--",
        *args,
    ]
    output = subprocess.run(command, capture_output=True, text=True, env=env, check=True).stdout
    match = RESULT_LINE.search(output)
    if not match:
        raise SystemExit(f"wrk printed no RESULT line:\n{output}")
    values = dict(item.split("=") for item in match.group(1).split())
    result = {key: int(value) for key, value in values.items()}
    seconds = result["duration_us"] / 1e6
    errors = sum(
        result[k]
        for k in ("status_errors", "connect_errors", "read_errors", "write_errors", "timeouts")
    )
    return {
        "requests": result["requests"],
        "ok_responses": result["requests"] - result["status_errors"],
        "errors": errors,
        "rps": result["requests"] / seconds,
        "p50_ms": result["p50_us"] / 1000,
        "p95_ms": result["p95_us"] / 1000,
        "p99_ms": result["p99_us"] / 1000,
        "max_ms": result["max_us"] / 1000,
    }


def wait_until_processed(db_url: str, timeout: float) -> float | None:
    """Seconds after the load until no delivery is left `received` (None: not within timeout)."""
    start = time.monotonic()
    while stored_count(db_url).get("received", 0):
        if time.monotonic() - start > timeout:
            return None
        time.sleep(0.2)
    return time.monotonic() - start


def stored_count(db_url: str) -> dict[str, int]:
    from sqlalchemy import func, select

    from core.db import session_scope
    from core.models import WebhookEvent

    with session_scope(db_url) as session:
        rows = session.execute(
            select(WebhookEvent.status, func.count()).group_by(WebhookEvent.status)
        )
        return {status.value: count for status, count in rows}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per run (max 60)")
    parser.add_argument("--connections", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--deliveries", type=int, default=60000, help="unique ids prepared")
    parser.add_argument("--mix", choices=["realistic", "store-only"], default="realistic")
    parser.add_argument(
        "--database-url",
        help="an EMPTY scratch database to use instead of a temporary SQLite file "
        "(its tables are created and filled)",
    )
    options = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    duration = min(options.duration, 60)

    workdir = Path(tempfile.mkdtemp(prefix="ar_jira_bench_"))
    db_url = options.database_url or f"sqlite:///{workdir / 'bench.db'}"
    backend = db_url.split(":", 1)[0].split("+", 1)[0]
    keys = seed(db_url, issues=50)
    deliveries = workdir / "deliveries.tsv"
    write_deliveries(deliveries, options.deliveries, keys, options.mix)
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "JIRA_WEBHOOK_SECRET": SECRET,
        "JIRA_BASE_URL": "",
        "WEBHOOK_ALLOW_UNSIGNED": "false",
        "PYTHONPATH": str(ROOT),
        "GUNICORN_ACCESS_LOG": "",  # gunicorn.conf.py is used; its access log is not measured
    }
    load_before = os.getloadavg()[0]
    server = start_gunicorn(env, port, options.workers)
    try:
        base = f"http://127.0.0.1:{port}"
        healthz = run_wrk(f"{base}/healthz", "healthz.lua", duration, options.connections, [])
        webhook = run_wrk(
            base,
            "webhook.lua",
            duration,
            options.connections,
            [str(deliveries), str(options.connections)],
        )
        at_end_of_load = stored_count(db_url)
        drain_s = wait_until_processed(db_url, timeout=DRAIN_TIMEOUT_S)
        # The machine may be shared: a second baseline once processing has finished shows
        # how much the load drifted, and the ratio uses the mean of the two.
        healthz_after = run_wrk(f"{base}/healthz", "healthz.lua", duration, options.connections, [])
    finally:
        server.terminate()
        server.wait(timeout=30)
    counts = stored_count(db_url)
    stored = sum(counts.values())
    unique_sent = min(webhook["requests"], options.deliveries)
    lost = max(0, min(webhook["ok_responses"], unique_sent) - stored)
    baseline_rps = (healthz["rps"] + healthz_after["rps"]) / 2
    ratio = webhook["rps"] / baseline_rps if baseline_rps else 0.0

    print(
        f"\ngunicorn -w {options.workers}, {backend}, "
        f"wrk -c {options.connections}, {duration} s each\n"
    )
    print(f"{'':22}{'/healthz':>14}{'/api/jira/webhook':>20}{'/healthz again':>16}")
    for label, key, fmt in (
        ("requests", "requests", "{:.0f}"),
        ("requests/s", "rps", "{:.0f}"),
        ("p50 ms", "p50_ms", "{:.2f}"),
        ("p95 ms", "p95_ms", "{:.2f}"),
        ("p99 ms", "p99_ms", "{:.2f}"),
        ("max ms", "max_ms", "{:.2f}"),
        ("errors", "errors", "{:.0f}"),
    ):
        print(
            f"{label:22}{fmt.format(healthz[key]):>14}{fmt.format(webhook[key]):>20}"
            f"{fmt.format(healthz_after[key]):>16}"
        )
    load_after = os.getloadavg()[0]
    print(f"\nmachine load average {load_before:.1f} → {load_after:.1f} on {os.cpu_count()} CPUs")
    print(f"webhook throughput = {ratio:.0%} of /healthz, mean of both (target >= 50%)")
    print(f"webhook p99 = {webhook['p99_ms']:.2f} ms (target <= 50 ms)")
    print(f"2xx deliveries {webhook['ok_responses']}, stored {stored} {counts}, lost {lost}")
    waiting = at_end_of_load.get("received", 0)
    print(f"at the end of the load {waiting} of {sum(at_end_of_load.values())} were waiting")
    drained = "not within the timeout" if drain_s is None else f"{drain_s:.1f} s"
    processing_rps = stored / (duration + drain_s) if drain_s is not None else None
    print(
        f"processing finished {drained} after the load"
        + (f" ({processing_rps:.0f} deliveries/s processed overall)" if processing_rps else "")
    )
    results = {
        "benchmark": "webhook_throughput",
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "setup": {
            "workers": options.workers,
            "connections": options.connections,
            "duration_s": duration,
            "database": backend,
            "mix": options.mix,
            "cpus": os.cpu_count(),
            "load_average_before": load_before,
            "load_average_after": load_after,
        },
        "healthz": healthz,
        "healthz_after": healthz_after,
        "webhook": webhook,
        "webhook_vs_healthz": ratio,
        "stored_by_status": counts,
        "waiting_at_end_of_load": at_end_of_load.get("received", 0),
        "processing_drain_s": drain_s,
        "processing_rps": processing_rps,
        "lost": lost,
        "targets_met": {
            "throughput_ratio": ratio >= 0.5,
            "p99": webhook["p99_ms"] <= 50,
            "zero_lost": lost == 0,
        },
    }
    name = "webhook_throughput" + ("" if backend == "sqlite" else f"_{backend}")
    name += "" if options.mix == "realistic" else "_store_only"
    out = ROOT / f"bench/results/{name}.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"saved {out.relative_to(ROOT)}")
    shutil.rmtree(workdir, ignore_errors=True)
    return 0 if lost == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
