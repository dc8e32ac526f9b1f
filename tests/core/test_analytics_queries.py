"""Dashboard queries: exact figures over ranges, previous periods, live today, filters."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from core import analytics
from core.db import session_scope
from core.errors import ValidationError
from tests.core.analytics_helpers import at, expected_daily, p95, past_days, random_events

PRICES = {"gpt-4o": Decimal("0.005"), "gpt-4o-mini-2024": Decimal("0.0003")}


@pytest.fixture
def agents(people, make_agent) -> list[int]:  # noqa: ANN001
    ids = [make_agent(people["developer"]).id for _ in range(3)]
    with session_scope(write=True) as session:
        analytics.set_price(session, model_pattern="gpt-4o", usd_per_1k_tokens="0.005")
        analytics.set_price(session, model_pattern="gpt-4o-mini*", usd_per_1k_tokens="0.0003")
    return ids


def _log(events: list[dict]) -> None:
    with session_scope(write=True) as session:
        analytics.log_events(session, events=events)


def _day(event: dict):  # noqa: ANN202
    return datetime.fromisoformat(event["created_at"]).astimezone(UTC).date()


def _reference(events: list[dict], *, model: str | None = None) -> dict:
    picked = [e for e in events if model is None or e.get("model_name") == model]
    ex = [e for e in picked if e["event_type"] == "executed"]
    cost = sum((v["cost_usd"] for v in expected_daily(picked, PRICES).values()), Decimal("0"))
    times = [e["execution_time_ms"] for e in ex]
    return {
        "executions": len(ex),
        "total_tokens": sum(e["tokens_used"] for e in ex),
        "unique_users": len({e["user"] for e in picked if e["user"]}),
        "avg_execution_ms": sum(times) / len(times) if times else None,
        "p95_execution_ms": p95(times),
        "cost_usd": cost,
    }


def _check(figures: dict, reference: dict) -> None:
    for key, value in reference.items():
        if key == "avg_execution_ms" and value is not None:
            assert figures[key] == pytest.approx(value, rel=1e-12)
        else:
            assert figures[key] == value, key


@pytest.mark.parametrize("rolled_up", [True, False], ids=["rollups", "live"])
def test_summary_is_exact_with_true_uniques_and_previous_period(agents, rolled_up):
    days = past_days(8, ago=12)  # previous period: days[0:4], current: days[4:8]
    events = random_events(agents, days, n=800, seed=3)
    _log(events)
    if rolled_up:
        with session_scope(write=True) as session:
            analytics.rollup_all(session)
    current = [e for e in events if _day(e) >= days[4]]
    previous = [e for e in events if _day(e) < days[4]]
    with session_scope() as session:
        data = analytics.summary(session, start=days[4], end=days[7])
        by_model = analytics.summary(
            session, start=days[4], end=days[7], model_name="gpt-4o-mini-2024"
        )
        one_agent = analytics.summary(session, start=days[4], end=days[7], agent_id=agents[1])
    _check(data, _reference(current))
    _check(data["previous"], _reference(previous))
    # Not a sum of daily uniques: users come back on several days.
    daily_sum = sum(v["unique_users"] for v in expected_daily(current, PRICES).values())
    assert data["unique_users"] < daily_sum
    assert data["views"] == sum(e["event_type"] == "viewed" for e in current)
    assert data["unpriced_models"] == ["mystery-model"]
    expected_change = (
        (data["executions"] - data["previous"]["executions"]) * 100 / data["previous"]["executions"]
    )
    assert data["change_pct"]["executions"] == pytest.approx(expected_change)
    _check(by_model, _reference(current, model="gpt-4o-mini-2024"))
    _check(one_agent, _reference([e for e in current if e["agent_id"] == agents[1]]))


def test_today_is_live_and_closed_days_come_from_rollups(agents):
    now = datetime.now(UTC)
    yesterday = now.date() - timedelta(days=1)
    _log([{"agent_id": agents[0], "event_type": "viewed", "created_at": at(yesterday)}])
    with session_scope(write=True) as session:
        analytics.rollup_all(session)
    _log(
        [
            {
                "agent_id": agents[0],
                "event_type": "viewed",
                "user": "live",
                "created_at": now.isoformat(),
            }
        ]
    )
    with session_scope() as session:
        today = analytics.daily_metrics(session, day=now.date())
        closed = analytics.daily_metrics(session, day=yesterday)
    assert (today["views"], today["unique_users"], today["source"]) == (1, 1, "live")
    assert (closed["views"], closed["source"]) == (1, "rollup")
    # A late event for a closed day is shown at once (the day is queued, so computed live).
    _log([{"agent_id": agents[0], "event_type": "viewed", "created_at": at(yesterday, 14)}])
    with session_scope() as session:
        closed = analytics.daily_metrics(session, day=yesterday)
    assert (closed["views"], closed["source"]) == (2, "live")


def test_daily_metrics_json_shape_and_cross_agent_uniques(agents):
    day = past_days(1)[0]
    base = {"event_type": "executed", "model_name": "gpt-4o", "created_at": at(day)}
    _log(
        [
            {
                **base,
                "agent_id": agents[0],
                "user": "same",
                "tokens_used": 1000,
                "execution_time_ms": 100,
            },
            {
                **base,
                "agent_id": agents[1],
                "user": "same",
                "tokens_used": 3000,
                "execution_time_ms": 300,
            },
        ]
    )
    with session_scope(write=True) as session:
        analytics.rollup_all(session)
        data = analytics.daily_metrics(session, day=day)
        one = analytics.daily_metrics(session, day=day, agent_id=agents[1])
    assert data == {
        "date": day.isoformat(),
        "agent_id": None,
        "executions": 2,
        "views": 0,
        "creations": 0,
        "deletions": 0,
        "total_tokens": 4000,
        "unique_users": 1,
        "avg_execution_ms": 200.0,
        "p95_execution_ms": 300.0,
        "cost_usd": "0.020000",
        "unpriced_models": [],
        "source": "rollup",
    }
    assert (one["executions"], one["cost_usd"], one["p95_execution_ms"]) == (1, "0.015000", 300.0)


def test_series_tables_and_top_users(agents):
    days = past_days(3)
    events = random_events(agents, days, n=400, seed=5)
    _log(events)
    with session_scope(write=True) as session:
        analytics.rollup_all(session)
    expected = expected_daily(events, PRICES)
    with session_scope() as session:
        series = analytics.daily_series(session, start=days[0], end=days[2])
        models = analytics.model_series(session, start=days[0], end=days[2])
        table = analytics.agent_table(session, start=days[0], end=days[2])
        top = analytics.top_users(session, start=days[0], end=days[2], limit=3)
        mini = analytics.daily_series(
            session, start=days[0], end=days[2], model_name="gpt-4o-mini-2024"
        )
    assert {(r["date"], r["agent_id"]): r["executions"] for r in series} == {
        k: v["executions"] for k, v in expected.items()
    }
    assert all(r["agent_name"].startswith("Agent ") for r in series)
    per_model = Counter()
    for e in events:
        if e["event_type"] == "executed":
            per_model[(_day(e), e["model_name"])] += 1
    assert {(r["date"], r["model_name"]): r["executions"] for r in models} == dict(per_model)
    assert sum(r["executions"] for r in mini) == sum(
        n for (_, m), n in per_model.items() if m == "gpt-4o-mini-2024"
    )
    for row in table:
        mine = [e for e in events if e["agent_id"] == row["agent_id"]]
        _check(row, _reference(mine))
    assert [r["executions"] for r in table] == sorted(
        (r["executions"] for r in table), reverse=True
    )
    counts = Counter(e["user"] for e in events if e["user"])
    assert [(r["user"], r["events"]) for r in top] == sorted(
        counts.items(), key=lambda kv: (-kv[1], kv[0])
    )[:3]
    frame = analytics.to_frame(series)
    assert frame["cost_usd"].dtype == float


def test_range_validation(agents):
    day = past_days(1)[0]
    with session_scope() as session, pytest.raises(ValidationError):
        analytics.summary(session, start=day, end=day - timedelta(days=1))
