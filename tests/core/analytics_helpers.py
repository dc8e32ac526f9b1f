"""Independent reference computations for the analytics tests (plain Python, no SQL)."""

from __future__ import annotations

import math
import random
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

MICRO = Decimal("0.000001")


def p95(values: list[int]) -> float | None:
    """Nearest-rank: the ⌈0.95·n⌉-th smallest value."""
    if not values:
        return None
    ordered = sorted(values)
    return float(ordered[math.ceil(0.95 * len(ordered)) - 1])


def at(day: date, hour: int = 12, minute: int = 0) -> str:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC).isoformat()


def random_events(
    agent_ids: list[int], days: list[date], *, n: int, seed: int = 7, models=None
) -> list[dict]:
    rng = random.Random(seed)
    models = models or ["gpt-4o", "gpt-4o-mini-2024", "mystery-model"]
    users = [f"user{i}@corp.example" for i in range(25)] + [""]
    events = []
    for _ in range(n):
        day = rng.choice(days)
        kind = rng.choices(["executed", "viewed", "created", "deleted"], [70, 20, 5, 5])[0]
        event = {
            "agent_id": rng.choice(agent_ids),
            "event_type": kind,
            "user": rng.choice(users),
            "created_at": datetime(
                day.year,
                day.month,
                day.day,
                rng.randrange(24),
                rng.randrange(60),
                rng.randrange(60),
                tzinfo=UTC,
            ).isoformat(),
        }
        if kind == "executed":
            event |= {
                "model_name": rng.choice(models),
                "tokens_used": rng.randrange(0, 5000),
                # Few distinct values: plenty of ties around the 95th percentile.
                "execution_time_ms": rng.choice([5, 10, 10, 20, 50, 120, 120, 300, 900, 2500]),
            }
        events.append(event)
    return events


def expected_daily(events: list[dict], prices: dict[str, Decimal]) -> dict[tuple, dict]:
    """{(date, agent_id): figures} computed directly from the events."""
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for e in events:
        ts = datetime.fromisoformat(e["created_at"]).astimezone(UTC)
        groups[(ts.date(), e["agent_id"])].append(e)
    out = {}
    for key, evs in groups.items():
        ex = [e for e in evs if e["event_type"] == "executed"]
        times = [e["execution_time_ms"] for e in ex]
        cost = Decimal(0)
        per_model: dict[str, int] = defaultdict(int)
        for e in ex:
            per_model[e["model_name"]] += e["tokens_used"]
        for model, tokens in per_model.items():
            if model in prices:
                cost += (Decimal(tokens) * prices[model] / 1000).quantize(MICRO, ROUND_HALF_UP)
        out[key] = {
            "executions": len(ex),
            "views": sum(e["event_type"] == "viewed" for e in evs),
            "creations": sum(e["event_type"] == "created" for e in evs),
            "deletions": sum(e["event_type"] == "deleted" for e in evs),
            "total_tokens": sum(e["tokens_used"] for e in ex),
            "unique_users": len({e["user"] for e in evs if e["user"]}),
            "avg_execution_ms": sum(times) / len(times) if times else None,
            "p95_execution_ms": p95(times),
            "cost_usd": cost,
        }
    return out


def past_days(count: int, *, ago: int = 10) -> list[date]:
    start = datetime.now(UTC).date() - timedelta(days=ago)
    return [start + timedelta(days=i) for i in range(count)]
