"""Dashboard page render times beside the core queries each page makes, in the same run.

    .venv/bin/python bench/dashboard_render.py [--events 1000000] [--runs 5]

A fresh SQLite file gets the demo agents and accounts plus N usage events (default 1M, over
the last 90 days, through `core.analytics.log_events`), rolled up. Then, per page, logged in
as the admin through AppTest (the same script runner `streamlit run` uses, without browser):
- cold: a fresh AppTest session with every st.cache_data entry cleared (first visit);
- warm: the same session re-running the page (cached analytics, as on any interaction);
- queries: the page's core calls made directly, without Streamlit (the floor).
Target (issue 6): analytics warm ≤ 1.5 s and ≤ 2 × its queries.
Results: a table on stdout and JSON in bench/results/dashboard_render.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402

from core import analytics, auth, registry  # noqa: E402
from core.config import reset_settings  # noqa: E402
from core.db import session_scope  # noqa: E402
from core.migrate import upgrade_to_head  # noqa: E402
from core.models import AgentStatus, utcnow  # noqa: E402

APP = ROOT / "dashboard" / "app.py"
ADMIN = "admin@example.com"
DAYS = 90
BATCH = 10_000
TARGET_WARM_S = 1.5
TARGET_RATIO = 2.0


def seed(url: str, events: int) -> float:
    from core.seed import seed_demo

    seed_demo(events=0)
    with session_scope(url) as session:
        agents = [(a.id, a.model) for a in registry.list_agents(session)]
    rng = random.Random(7)
    now = utcnow()
    started = time.perf_counter()
    kinds = ["executed"] * 7 + ["viewed"] * 3
    for offset in range(0, events, BATCH):
        batch = []
        for _ in range(min(BATCH, events - offset)):
            agent_id, model = rng.choice(agents)
            kind = rng.choice(kinds)
            executed = kind == "executed"
            batch.append(
                {
                    "agent_id": agent_id,
                    "event_type": kind,
                    "user": f"user{rng.randrange(3000)}@corp.example",
                    "model_name": model if executed else None,
                    "tokens_used": rng.randrange(50, 4000) if executed else 0,
                    "execution_time_ms": int(rng.lognormvariate(7, 0.5)) if executed else 0,
                    "created_at": (
                        now - timedelta(seconds=rng.randrange(DAYS * 86400))
                    ).isoformat(),
                }
            )
        with session_scope(url, write=True) as session:
            analytics.log_events(session, events=batch)
    with session_scope(url, write=True) as session:
        analytics.rollup_all(session)
    return time.perf_counter() - started


def page_queries(url: str) -> dict[str, Callable[[], object]]:
    """Each page's core calls with the page's default filters (what a first visit shows)."""
    today = utcnow().date()
    month = {
        "start": today - timedelta(days=29),
        "end": today,
        "agent_id": None,
        "model_name": None,
    }

    def overview() -> None:
        with session_scope(url) as s:
            registry.count_by_status(s)
            registry.recent_activity(s, limit=15)
            analytics.summary(s, start=today, end=today)

    def analytics_page() -> None:
        with session_scope(url) as s:
            registry.list_agents(s)
            analytics.model_names(s)
            analytics.summary(s, **month)
            analytics.daily_series(s, **month)
            analytics.model_series(s, **month)
            analytics.agent_table(s, **month)
            analytics.top_users(s, **month, limit=10)

    def agents() -> None:
        with session_scope(url) as s:
            [registry.agent_summary(a) for a in registry.list_agents(s)]

    def approvals() -> None:
        with session_scope(url) as s:
            viewer = auth.get_user(s, email=ADMIN)
            for agent in registry.list_agents(s, statuses=[AgentStatus.PENDING]):
                registry.agent_summary(agent)
                registry.allowed_actions(agent, viewer)

    def admin() -> None:
        with session_scope(url) as s:
            auth.list_users(s)
            auth.list_api_tokens(s)
            analytics.list_prices(s)

    return {
        "overview": overview,
        "analytics": analytics_page,
        "agents": agents,
        "approvals": approvals,
        "admin": admin,
    }


def timed(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def logged_in_app() -> AppTest:
    from core.models import Role
    from dashboard.identity import USER_KEY, CurrentUser

    at = AppTest.from_file(str(APP), default_timeout=120)
    at.session_state[USER_KEY] = CurrentUser(email=ADMIN, name="Ada Admin", role=Role.ADMIN)
    return at.run()


def render(page: str, runs: int) -> dict[str, float]:
    """Cold: first visit with empty caches; uncached: a rerun after clearing the caches
    (Streamlit's overhead on top of the queries); warm: a rerun with the caches filled."""
    cold, uncached = [], []
    for _ in range(2):
        at = logged_in_app()  # lands on Overview first, like a real login
        st.cache_data.clear()
        at.switch_page(f"app_pages/{page}.py")
        cold.append(timed(at.run))
        assert not at.exception, (page, at.exception)
    for _ in range(max(1, runs // 2)):
        st.cache_data.clear()
        uncached.append(timed(at.run))
    at.run()
    warm = [timed(at.run) for _ in range(runs)]
    assert not at.exception, (page, at.exception)
    return {
        "cold_s": statistics.median(cold),
        "uncached_s": statistics.median(uncached),
        "warm_s": statistics.median(warm),
    }


def analytics_breakdown(url: str) -> dict[str, float]:
    """Each analytics query of the page's default view (30 days, no filters), timed alone."""
    today = utcnow().date()
    month = {
        "start": today - timedelta(days=29),
        "end": today,
        "agent_id": None,
        "model_name": None,
    }
    calls = {
        "model_names": {},
        "summary": month,
        "daily_series": month,
        "model_series": month,
        "agent_table": month,
        "top_users": month | {"limit": 10},
    }
    out = {}
    with session_scope(url) as session:
        for name, kwargs in calls.items():
            out[name] = timed(lambda n=name, k=kwargs: getattr(analytics, n)(session, **k))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--db", type=Path, help="reuse this SQLite file if it exists (else seed it and keep it)"
    )
    args = parser.parse_args()

    path = args.db or Path(tempfile.mkdtemp(prefix="ar_dash_bench_")) / "bench.db"
    url = f"sqlite:///{path.resolve()}"
    os.environ["DATABASE_URL"] = url
    os.environ["JIRA_BASE_URL"] = ""
    reset_settings()
    seed_s = None
    fresh = not path.exists()
    upgrade_to_head(url)  # idempotent: also brings a reused file up to date
    if fresh:
        print(f"seeding {args.events:,} events into {url} …", flush=True)
        seed_s = seed(url, args.events)
        print(f"seeded and rolled up in {seed_s:.1f} s", flush=True)
    count_file = path.with_suffix(".events")
    if seed_s is not None:
        count_file.write_text(str(args.events))
    events = int(count_file.read_text()) if count_file.exists() else None
    print(f"{events if events is not None else 'unknown number of'} usage events in {url}")

    results = []
    for page, queries in page_queries(url).items():
        query_s = statistics.median(timed(queries) for _ in range(args.runs))
        figures = render(page, args.runs)
        results.append({"page": page, "queries_s": query_s, **figures})
        print(f"  {page}: done", flush=True)

    print()
    header = (
        f"{'page':<11}{'queries (floor)':>16}{'cold':>10}{'uncached':>10}{'warm':>10}"
        f"{'uncached/queries':>18}{'warm/queries':>14}"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        r["uncached_over_queries"] = r["uncached_s"] / r["queries_s"]
        r["warm_over_queries"] = r["warm_s"] / r["queries_s"]
        print(
            f"{r['page']:<11}{r['queries_s'] * 1000:>13.0f} ms{r['cold_s'] * 1000:>7.0f} ms"
            f"{r['uncached_s'] * 1000:>7.0f} ms{r['warm_s'] * 1000:>7.0f} ms"
            f"{r['uncached_over_queries']:>17.2f}x{r['warm_over_queries']:>13.2f}x"
        )
    breakdown = analytics_breakdown(url)
    print("\nanalytics page queries, each alone (30 days, no filters):")
    for name, seconds in breakdown.items():
        print(f"  {name:<14}{seconds * 1000:>9.0f} ms")
    page = next(r for r in results if r["page"] == "analytics")
    meets = page["warm_s"] <= TARGET_WARM_S and page["uncached_over_queries"] <= TARGET_RATIO
    print(
        f"\nanalytics warm {page['warm_s']:.2f} s (target <= {TARGET_WARM_S} s); uncached rerun "
        f"{page['uncached_over_queries']:.2f}x its queries (target <= {TARGET_RATIO}x): "
        + ("MET" if meets else "NOT MET")
        + f"; cold (first visit) {page['cold_s']:.1f} s, bound by the queries"
    )
    out = ROOT / "bench" / "results" / "dashboard_render.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "events": events,
                "runs": args.runs,
                "backend": "sqlite",
                "seed_and_rollup_s": seed_s,
                "pages": results,
                "analytics_queries_s": breakdown,
                "target_met": meets,
            },
            indent=2,
        )
    )
    print(f"results: {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
