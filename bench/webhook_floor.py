"""What bounds the webhook's ratio to /healthz here: the same gunicorn config serving the
product (its /healthz and webhook) and a bare WSGI app doing only the HMAC, the JSON parse
and one INSERT + commit (bench/webhook_floor_app.py), wrk -c 2 each, alternated in one run.

Run: .venv/bin/python bench/webhook_floor.py [--duration 5] [--rounds 2]
Prints requests/s, p50/p99 and the server CPU per request of each, and writes
bench/results/webhook_floor.json. Quiet scenario (no backlog): it bounds the answer path.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import webhook_throughput as bench  # noqa: E402

APPS = {"product": "webhook_server:create_app()", "bare": "webhook_floor_app:app"}


def serve(app: str, env: dict[str, str]) -> tuple[subprocess.Popen, str]:
    port = bench.free_port()
    command = [str(ROOT / ".venv/bin/gunicorn"), "-w", "2", "-b", f"127.0.0.1:{port}"]
    process = subprocess.Popen([*command, "--log-level", "warning", app], cwd=ROOT, env=env)
    import requests

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).ok:
                bench.wait_for_workers_started(process.pid, 2, deadline)
                return process, f"http://127.0.0.1:{port}"
        except requests.RequestException:
            time.sleep(0.1)
    process.terminate()
    raise SystemExit(f"{app} did not start")


def measure(process: subprocess.Popen, url: str, deliveries: Path | None, seconds: int) -> dict:
    before = {pid: bench.cpu_seconds(pid) for pid in bench.children(process.pid)}
    if deliveries is None:
        run = bench.run_wrk(f"{url}/healthz", "healthz.lua", seconds, 2, [])
    else:
        run = bench.run_wrk(url, "webhook.lua", seconds, 2, [str(deliveries), "2"])
    cpu = sum(bench.cpu_seconds(pid) - before.get(pid, 0.0) for pid in before)
    return run | {"cpu_ms_per_request": 1000 * cpu / max(run["requests"], 1)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=2)
    options = parser.parse_args()
    rows = []
    for round_number in range(1, options.rounds + 1):
        for label, app in APPS.items():
            workdir = Path(tempfile.mkdtemp(prefix="ar_webhook_floor_"))
            db_url = f"sqlite:///{workdir / 'floor.db'}"
            keys = bench.seed(db_url, issues=50)
            deliveries = workdir / "deliveries.tsv"
            bench.write_deliveries(deliveries, 60000, keys, "realistic")
            env = {
                **os.environ,
                "DATABASE_URL": db_url,
                "JIRA_WEBHOOK_SECRET": bench.SECRET,
                "JIRA_BASE_URL": "",
                "PYTHONPATH": f"{ROOT}:{ROOT / 'bench'}",
                "GUNICORN_ACCESS_LOG": "",
            }
            process, url = serve(app, env)
            try:
                for target, path in (("/healthz", None), ("webhook", deliveries)):
                    load = os.getloadavg()[0]
                    run = measure(process, url, path, options.duration)
                    rows.append(
                        {
                            "round": round_number,
                            "app": label,
                            "target": target,
                            "load_1min": round(load, 2),
                        }
                        | run
                    )
                    print(
                        f"round {round_number} {label:8} {target:9} {run['rps']:7.0f} req/s  "
                        f"p50 {run['p50_ms']:.2f} p99 {run['p99_ms']:.2f} ms  "
                        f"cpu {run['cpu_ms_per_request']:.3f} ms/request  load {load:.2f}",
                        flush=True,
                    )
            finally:
                process.terminate()
                process.wait(timeout=30)
                shutil.rmtree(workdir, ignore_errors=True)

    def mean(app: str, target: str) -> float:
        figures = [r["rps"] for r in rows if r["app"] == app and r["target"] == target]
        return sum(figures) / len(figures)

    summary = {
        "product_webhook_vs_product_healthz": mean("product", "webhook")
        / mean("product", "/healthz"),
        "bare_insert_vs_product_healthz": mean("bare", "webhook") / mean("product", "/healthz"),
        "bare_insert_vs_bare_healthz": mean("bare", "webhook") / mean("bare", "/healthz"),
        "product_webhook_vs_bare_insert": mean("product", "webhook") / mean("bare", "webhook"),
    }
    for name, value in summary.items():
        print(f"{name:36} {value:.2f}")
    print(f"load average now {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    bench.save(
        "webhook_floor",
        {
            "benchmark": "webhook_floor",
            "duration_s": options.duration,
            "runs": rows,
            "summary": summary,
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
