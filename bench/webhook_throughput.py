"""Jira webhook receiver throughput vs /healthz, gunicorn with 2 workers on SQLite.

Run: .venv/bin/python bench/webhook_throughput.py [--duration 10] [--connections 2]
Runs /healthz, the webhook, waits until every delivery is processed, runs /healthz again;
prints requests/s and p50/p95/p99 side by side, checks every 2xx delivery was stored, and
writes bench/results/webhook_throughput.json. Load only hits 127.0.0.1 and is bounded.

`--scenario backlog`: /healthz, then an 8-connection burst of deliveries, then at once the
2-connection webhook run while the burst's backlog is still being processed, then /healthz
again; writes bench/results/webhook_throughput_backlog.json.

`--compare-with DIR --rounds 5`: alternates this checkout's bench with DIR's (another
checkout, e.g. a clone of an older commit; it uses DIR/.venv, made a link to this
checkout's virtualenv if missing), one run each per
round, and prints every run's figures and the load average; writes
bench/results/webhook_throughput_compare.json.
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
                wait_for_workers_started(process.pid, workers, deadline)
                return process
        except requests.RequestException:
            pass
        time.sleep(0.1)
    process.terminate()
    raise SystemExit("gunicorn did not become ready")


def wait_for_workers_started(master: int, workers: int, deadline: float) -> None:
    """Until every worker has loaded the app (its CPU time stops growing): /readyz answers
    as soon as one worker has, and with keep-alive wrk's connections would all stay there."""
    previous: dict[int, float] = {}
    while time.monotonic() < deadline:
        time.sleep(0.3)
        now = {pid: cpu_seconds(pid) for pid in children(master)}
        if len(now) >= workers and now == previous:
            return
        previous = now


def children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_wrk(url: str, script: str, duration: int, connections: int, args: list[str]) -> dict:
    return finish_wrk(start_wrk(url, script, duration, connections, args))


def start_wrk(
    url: str, script: str, duration: int, connections: int, args: list[str]
) -> subprocess.Popen:
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
    return subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env)


def finish_wrk(process: subprocess.Popen) -> dict:
    output, _ = process.communicate()
    if process.returncode:
        raise SystemExit(f"wrk failed ({process.returncode}):\n{output}")
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
    parser.add_argument("--scenario", choices=["quiet", "backlog"], default="quiet")
    parser.add_argument("--burst-connections", type=int, default=8, help="backlog scenario")
    parser.add_argument(
        "--compare-with", type=Path, help="another checkout to alternate with (see above)"
    )
    parser.add_argument("--rounds", type=int, default=5, help="with --compare-with")
    parser.add_argument(
        "--database-url",
        help="an EMPTY scratch database to use instead of a temporary SQLite file "
        "(its tables are created and filled)",
    )
    options = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    options.duration = min(options.duration, 60)
    if options.compare_with:
        return compare(options)
    return measure(options)


def measure(options: argparse.Namespace) -> int:
    duration = options.duration
    backlog = options.scenario == "backlog"
    workdir = Path(tempfile.mkdtemp(prefix="ar_jira_bench_"))
    db_url = options.database_url or f"sqlite:///{workdir / 'bench.db'}"
    backend = db_url.split(":", 1)[0].split("+", 1)[0]
    keys = seed(db_url, issues=50)
    deliveries = workdir / "deliveries.tsv"
    write_deliveries(deliveries, options.deliveries, keys, options.mix)
    burst_deliveries = workdir / "burst.tsv"
    if backlog:
        write_deliveries(burst_deliveries, options.deliveries, keys, options.mix)
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
    burst = None
    backlog_at_start = backlog_at_end = None
    try:
        base = f"http://127.0.0.1:{port}"
        healthz = run_wrk(f"{base}/healthz", "healthz.lua", duration, options.connections, [])
        if backlog:
            burst = run_wrk(
                base,
                "webhook.lua",
                duration,
                options.burst_connections,
                [str(burst_deliveries), str(options.burst_connections)],
            )
        running = start_wrk(
            base,
            "webhook.lua",
            duration,
            options.connections,
            [str(deliveries), str(options.connections)],
        )
        if backlog:
            backlog_at_start = stored_count(db_url).get("received", 0)
        webhook = finish_wrk(running)
        at_end_of_load = stored_count(db_url)
        backlog_at_end = at_end_of_load.get("received", 0)
        drain_s = wait_until_processed(db_url, timeout=DRAIN_TIMEOUT_S)
        # The machine may be shared: a second baseline once processing has finished shows
        # how much the load drifted, and the ratio uses the mean of the two.
        healthz_after = run_wrk(f"{base}/healthz", "healthz.lua", duration, options.connections, [])
    finally:
        server.terminate()
        server.wait(timeout=30)
    counts = stored_count(db_url)
    stored = sum(counts.values())
    sent_2xx = webhook["ok_responses"] + (burst["ok_responses"] if burst else 0)
    unique_sent = min(webhook["requests"], options.deliveries)
    if burst:
        unique_sent += min(burst["requests"], options.deliveries)
    lost = max(0, min(sent_2xx, unique_sent) - stored)
    baseline_rps = (healthz["rps"] + healthz_after["rps"]) / 2
    ratio = webhook["rps"] / baseline_rps if baseline_rps else 0.0

    print(
        f"\ngunicorn -w {options.workers}, {backend}, "
        f"wrk -c {options.connections}, {duration} s each, scenario {options.scenario}\n"
    )
    columns = [("/healthz", healthz)]
    if burst:
        columns.append((f"burst -c {options.burst_connections}", burst))
    columns += [("/api/jira/webhook", webhook), ("/healthz again", healthz_after)]
    print(f"{'':22}" + "".join(f"{title:>20}" for title, _ in columns))
    for label, key, fmt in (
        ("requests", "requests", "{:.0f}"),
        ("requests/s", "rps", "{:.0f}"),
        ("p50 ms", "p50_ms", "{:.2f}"),
        ("p95 ms", "p95_ms", "{:.2f}"),
        ("p99 ms", "p99_ms", "{:.2f}"),
        ("max ms", "max_ms", "{:.2f}"),
        ("errors", "errors", "{:.0f}"),
    ):
        print(f"{label:22}" + "".join(f"{fmt.format(run[key]):>20}" for _, run in columns))
    load_after = os.getloadavg()[0]
    print(f"\nmachine load average {load_before:.1f} → {load_after:.1f} on {os.cpu_count()} CPUs")
    print(f"webhook throughput = {ratio:.0%} of /healthz, mean of both (target >= 50%)")
    print(f"webhook p99 = {webhook['p99_ms']:.2f} ms (target <= 50 ms)")
    print(f"2xx deliveries {sent_2xx}, stored {stored} {counts}, lost {lost}")
    if backlog:
        print(
            f"backlog (deliveries waiting) when the {options.connections}-connection run "
            f"started: {backlog_at_start}, when it ended: {backlog_at_end}"
        )
    print(f"at the end of the load {backlog_at_end} of {sum(at_end_of_load.values())} were waiting")
    drained = "not within the timeout" if drain_s is None else f"{drain_s:.1f} s"
    processing_rps = None
    if drain_s is not None:
        processing_rps = stored / (duration * (2 if backlog else 1) + drain_s)
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
            "scenario": options.scenario,
            "burst_connections": options.burst_connections if backlog else None,
            "cpus": os.cpu_count(),
            "load_average_before": load_before,
            "load_average_after": load_after,
        },
        "healthz": healthz,
        "burst": burst,
        "webhook": webhook,
        "healthz_after": healthz_after,
        "webhook_vs_healthz": ratio,
        "stored_by_status": counts,
        "backlog_when_run_started": backlog_at_start,
        "waiting_at_end_of_load": backlog_at_end,
        "processing_drain_s": drain_s,
        "processing_rps": processing_rps,
        "lost": lost,
        "targets_met": {
            "throughput_ratio": ratio >= 0.5,
            "p99": webhook["p99_ms"] <= 50,
            "zero_lost": lost == 0,
        },
    }
    if backlog:
        results["rates"] = drain_rates(results, duration)
        print(
            f"processed {results['rates']['processed_per_s_during_load']:.0f} deliveries/s "
            "while the 2-connection run was answered"
        )
    name = "webhook_throughput" + ("" if backend == "sqlite" else f"_{backend}")
    name += "" if options.mix == "realistic" else "_store_only"
    name += "_backlog" if backlog else ""
    out = ROOT / f"bench/results/{name}.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"saved {out.relative_to(ROOT)}")
    shutil.rmtree(workdir, ignore_errors=True)
    return 0 if lost == 0 else 1


def save(name: str, document: dict) -> None:
    """`bench/results/<name>.json`, stamped with the time."""
    out = ROOT / f"bench/results/{name}.json"
    when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    document = {"benchmark": document["benchmark"], "when": when} | document
    out.write_text(json.dumps(document, indent=2) + "\n")
    print(f"saved {out.relative_to(ROOT)}")


def drain_rates(result: dict, duration: int) -> dict:
    """Deliveries processed per second while the 2-connection run was answered, and after it
    (from any checkout's result file: every 2xx delivery is stored, the ids are unique)."""
    stored_at_start = result["burst"]["ok_responses"]
    stored_at_end = stored_at_start + result["webhook"]["ok_responses"]
    done_at_start = stored_at_start - result["backlog_when_run_started"]
    done_at_end = stored_at_end - result["waiting_at_end_of_load"]
    drain_s = result["processing_drain_s"]
    return {
        "processed_per_s_during_load": round((done_at_end - done_at_start) / duration, 1),
        "waiting_at_end_of_load": result["waiting_at_end_of_load"],
        "drain_s": drain_s,
        "drain_per_s_after_load": (
            round(result["waiting_at_end_of_load"] / drain_s, 1) if drain_s else None
        ),
    }


def compare(options: argparse.Namespace) -> int:
    """Alternate runs of DIR's bench and this one (same scenario), DIR first in each round."""
    other = options.compare_with.resolve()
    if not (other / "bench/webhook_throughput.py").exists():
        raise SystemExit(f"{other} has no bench/webhook_throughput.py; give a checkout")
    if not (other / ".venv").exists():  # its bench starts DIR/.venv/bin/gunicorn
        (other / ".venv").symlink_to((ROOT / ".venv").resolve())
        print(f"{other}/.venv -> this checkout's virtualenv")
    trees = {"before": other, "after": ROOT}
    runs = []
    for round_number in range(1, options.rounds + 1):
        for label, tree in trees.items():
            python = tree / ".venv/bin/python"
            load = os.getloadavg()[0]
            command = [
                str(python),
                "bench/webhook_throughput.py",
                "--duration",
                str(options.duration),
                "--deliveries",
                str(options.deliveries),
                "--scenario",
                options.scenario,
            ]
            done = subprocess.run(command, cwd=tree, capture_output=True, text=True)
            backlog = options.scenario == "backlog"
            result_file = tree / f"bench/results/webhook_throughput{'_backlog' * backlog}.json"
            if done.returncode not in (0, 1) or not result_file.exists():
                raise SystemExit(f"{label} run failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
            result = json.loads(result_file.read_text())
            run = {
                "round": round_number,
                "code": label,
                "load_1min": round(load, 2),
                "deliveries_2xx": result["webhook"]["ok_responses"],
                "webhook_rps": round(result["webhook"]["rps"], 1),
                "healthz_rps": round(result["healthz"]["rps"], 1),
                "webhook_vs_healthz": round(result["webhook_vs_healthz"], 3),
                "p99_ms": result["webhook"]["p99_ms"],
                "lost": result["lost"],
                "load_after": round(result["setup"]["load_average_after"], 2),
            }
            if backlog:
                run |= drain_rates(result, options.duration)
            runs.append(run)
            print(
                f"round {round_number} {label:6} load {run['load_1min']:5.2f}  "
                f"2xx {run['deliveries_2xx']:6d} in {options.duration} s  "
                f"{run['webhook_vs_healthz']:.0%} of /healthz  p99 {run['p99_ms']:.2f} ms  "
                f"lost {run['lost']}"
                + (
                    f"  processed {run['processed_per_s_during_load']:.0f}/s during the load, "
                    f"{run['drain_per_s_after_load'] or 0:.0f}/s after"
                    if backlog
                    else ""
                ),
                flush=True,
            )
    summary = {}
    for label in trees:
        figures = sorted(run["deliveries_2xx"] for run in runs if run["code"] == label)
        summary[label] = {
            "deliveries_2xx_mean": sum(figures) / len(figures),
            "deliveries_2xx_min": figures[0],
            "deliveries_2xx_median": figures[len(figures) // 2],
            "deliveries_2xx_max": figures[-1],
            "webhook_vs_healthz": sorted(
                run["webhook_vs_healthz"] for run in runs if run["code"] == label
            ),
        }
    change = summary["after"]["deliveries_2xx_mean"] / summary["before"]["deliveries_2xx_mean"]
    print(
        f"\nmean 2xx deliveries per {options.duration} s: before "
        f"{summary['before']['deliveries_2xx_mean']:.0f}, after "
        f"{summary['after']['deliveries_2xx_mean']:.0f} ({change:.2f}x); "
        f"load average now {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs"
    )
    name = "webhook_throughput_compare" + ("_backlog" if options.scenario == "backlog" else "")
    save(
        name,
        {
            "benchmark": "webhook_throughput --compare-with",
            "before": str(other),
            "after": str(ROOT),
            "duration_s": options.duration,
            "runs_in_order": runs,
            "summary": summary,
            "after_vs_before": change,
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
