"""An in-app approval's time to return while Jira throttles, beside Jira unconfigured.

    python bench/jira_approval_latency.py [--approvals 40]

What the dashboard does when an approver clicks Approve: `registry.approve_agent` in a write
session, committed, with after-commit delivery on (the process's background thread then
talks to Jira). Two cases, interleaved one approval at a time in the same run on one SQLite
database so machine noise hits both alike:

- baseline: JIRA_BASE_URL unset (no Jira at all);
- throttled: Jira configured (the Jira double over real HTTP), answering every call with
  429 and `Retry-After: 120`.

Before issue 10 the throttled click called Jira synchronously (3 retries, 60 s sleeps each:
minutes). Target: throttled p50 within 1.5x of the baseline p50.
Writes bench/results/jira_approval_latency.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core import background, registry  # noqa: E402
from core.auth import create_user  # noqa: E402
from core.config import get_settings, reset_settings  # noqa: E402
from core.db import session_scope  # noqa: E402
from core.jira.outbox import deliver, deliver_after_commit  # noqa: E402
from core.migrate import upgrade_to_head  # noqa: E402
from core.models import JiraOutbox, OutboxStatus, Source  # noqa: E402
from tests.jira_double.server import JiraDouble  # noqa: E402

DEV, BOSS = "dev@example.com", "boss@example.com"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--approvals", type=int, default=40, help="per case")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, JiraDouble() as jira:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        os.environ["DATABASE_URL"] = url
        upgrade_to_head(url)
        with session_scope(write=True) as session:
            create_user(session, email=DEV, name="Dev", role="developer", password=None)
            create_user(session, email=BOSS, name="Boss", role="approver", password=None)
        deliver_after_commit(True)  # as in the dashboard's process
        plain = [_pending_agent(i, jira=None) for i in range(args.approvals)]
        throttled = [_pending_agent(i, jira=jira) for i in range(args.approvals)]
        jira.throttle("120", times=1_000_000)  # every call from now on: 429, Retry-After 120
        timings: dict[str, list[float]] = {"baseline": [], "throttled": []}
        for plain_id, throttled_id in zip(plain, throttled, strict=True):
            timings["baseline"].append(_approve(plain_id, jira=None))
            timings["throttled"].append(_approve(throttled_id, jira=jira))
        background.wait_idle(60)
        with session_scope() as session:
            transitions = session.query(JiraOutbox).filter(JiraOutbox.kind == "transition")
            waits = [
                (row.next_attempt_at - row.created_at).total_seconds()
                for row in transitions
                if row.status == OutboxStatus.PENDING
            ]
        throttled_calls = sum(1 for r in jira.requests if r.status == 429)
    summary = {name: _stats(values) for name, values in timings.items()}
    ratio = summary["throttled"]["p50_ms"] / summary["baseline"]["p50_ms"]
    result = {
        "approvals_per_case": args.approvals,
        "jira": "double answering 429 with Retry-After: 120 to every call",
        "load_average": os.getloadavg(),
        "cases": summary,
        "throttled_over_baseline_p50": round(ratio, 3),
        "target": "throttled p50 within 1.5x of baseline p50",
        "met": ratio <= 1.5,
        "jira_calls_answered_429": throttled_calls,
        "transitions_rescheduled_s": {
            "count": len(waits),
            "min": round(min(waits), 1) if waits else None,
            "max": round(max(waits), 1) if waits else None,
        },
    }
    print(json.dumps(result, indent=2))
    out = ROOT / "bench" / "results" / "jira_approval_latency.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"saved {out.relative_to(ROOT)}")
    return 0


def _configure(jira: JiraDouble | None) -> None:
    values = {
        "JIRA_BASE_URL": jira.url if jira else "",
        "JIRA_EMAIL": jira.email if jira else "",
        "JIRA_API_TOKEN": jira.api_token if jira else "",
        "JIRA_PROJECT_KEY": jira.project_key if jira else "AGENT",
    }
    os.environ.update(values)
    reset_settings()
    get_settings()  # a running dashboard has its settings loaded: not part of a click


def _pending_agent(number: int, *, jira: JiraDouble | None) -> int:
    """A submitted agent (with its Jira issue created when Jira is configured)."""
    background.wait_idle(60)
    _configure(jira)
    with session_scope(write=True) as session:
        agent = registry.create_agent(
            session,
            owner_email=DEV,
            source=Source.CLI,
            name=f"Bench agent {number} {'jira' if jira else 'local'}",
            description="Summarises support tickets for the bench",
            model="gpt-4o",
        )
        agent_id = agent.id
    with session_scope(write=True) as session:
        registry.submit_agent(session, agent_id=agent_id, actor_email=DEV, source=Source.CLI)
    background.wait_idle(60)
    if jira:
        deliver(agent_id=agent_id)
    return agent_id


def _approve(agent_id: int, *, jira: JiraDouble | None) -> float:
    background.wait_idle(60)  # start each click from a quiet process (earlier Jira work done)
    _configure(jira)
    started = time.perf_counter()
    with session_scope(write=True) as session:
        registry.approve_agent(
            session, agent_id=agent_id, actor_email=BOSS, source=Source.DASHBOARD
        )
    return time.perf_counter() - started


def _stats(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 2),
        "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))] * 1000, 2),
        "max_ms": round(ordered[-1] * 1000, 2),
    }


if __name__ == "__main__":
    sys.exit(main())
