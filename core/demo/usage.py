"""Synthetic usage events with a believable daily and weekly rhythm."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta

import numpy as np

# Typical tokens per execution and latency (ms) per model: (median tokens, median ms).
MODEL_PROFILE = {
    "gpt-4o": (1800, 2400),
    "gpt-4o-mini": (1200, 900),
    "claude-sonnet-4": (2200, 2800),
    "llama-3.1-70b": (1500, 1600),
}
# Share of a weekday's events in each UTC hour: office hours peak, quiet nights.
HOURLY = np.array(
    [1, 1, 1, 1, 1, 2, 4, 7, 10, 11, 11, 10, 8, 10, 11, 11, 10, 8, 6, 4, 3, 2, 1, 1], float
)
HOURLY /= HOURLY.sum()


def generate_events(
    *,
    agents: Sequence[tuple[int, str]],
    total: int,
    days: int = 30,
    end: datetime | None = None,
    seed: int = 7,
) -> Iterator[dict]:
    """About `total` events over the `days` before `end`, for (agent_id, model) pairs."""
    rng = np.random.default_rng(seed)
    end = end or datetime.now(UTC)
    start_day = (end - timedelta(days=days)).replace(hour=0, minute=0, second=0, microsecond=0)
    popularity = rng.zipf(1.6, len(agents)).astype(float)
    popularity /= popularity.sum()
    day_weights = np.array(
        [0.3 if (start_day + timedelta(days=d)).weekday() >= 5 else 1.0 for d in range(days + 1)]
    )
    growth = np.linspace(0.8, 1.2, days + 1)  # adoption grows over the month
    day_weights *= growth
    day_counts = rng.multinomial(total, day_weights / day_weights.sum())
    users = [f"user{n:03d}@corp.example" for n in range(320)]
    user_weights = rng.pareto(1.2, len(users)) + 1
    user_weights /= user_weights.sum()
    for day, count in enumerate(day_counts):
        day_start = start_day + timedelta(days=day)
        hours = rng.choice(24, size=count, p=HOURLY)
        seconds = rng.integers(0, 3600, size=count)
        picks = rng.choice(len(agents), size=count, p=popularity)
        kinds = rng.choice(
            ["executed", "viewed", "created", "deleted"], size=count, p=[0.8, 0.185, 0.01, 0.005]
        )
        who = rng.choice(len(users), size=count, p=user_weights)
        noise = rng.lognormal(0.0, 0.45, size=count)
        for i in range(count):
            at = day_start + timedelta(hours=int(hours[i]), seconds=int(seconds[i]))
            if at > end:
                continue
            agent_id, model = agents[picks[i]]
            event = {
                "agent_id": agent_id,
                "event_type": str(kinds[i]),
                "user": users[who[i]],
                "created_at": at,
                "model_name": None,
                "tokens_used": 0,
                "execution_time_ms": 0,
            }
            if kinds[i] == "executed":
                tokens, ms = MODEL_PROFILE.get(model, (1500, 1500))
                event["model_name"] = model
                event["tokens_used"] = int(tokens * noise[i])
                event["execution_time_ms"] = int(ms * noise[i] ** 1.3)
            yield event
