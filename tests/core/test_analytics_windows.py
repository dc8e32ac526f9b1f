"""The default views' precomputed closed days (core.analytics.windows) plus today's events give
exactly the unique users and p95 computed from the events, on every backend; a late event for a
closed day sends the page back to the events until the rollup job rebuilds the views."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from core import analytics
from core.analytics import day_latency, range_stats, window_read, windows
from core.analytics.compute import RangeRead
from core.analytics.figures import live_days
from core.analytics.runner import refresh_windows
from core.db import session_scope
from core.models import WindowFigures
from tests.core.analytics_helpers import at, p95, random_events


@pytest.fixture
def agents(people, make_agent) -> list[int]:  # noqa: ANN001
    return [make_agent(people["developer"]).id for _ in range(3)]


def _today():  # noqa: ANN202
    return datetime.now(UTC).date()


def _log(events: list[dict]) -> None:
    with session_scope(write=True) as session:
        analytics.log_events(session, events=events)


def _seed(agents: list[int]) -> list[dict]:
    """Events over the last 100 days (today included), rolled up by the job's runner."""
    today = _today()
    days = [today - timedelta(days=i) for i in range(100)]
    events = random_events(agents, days, n=900, seed=11)
    # Today: a few events of its own, some by users unseen on the closed days.
    events += [
        {"agent_id": agents[0], "event_type": "executed", "user": "new@corp.example",
         "model_name": "gpt-4o", "tokens_used": 10, "execution_time_ms": 7000,
         "created_at": at(today, 0, 1)},
        {"agent_id": agents[2], "event_type": "viewed", "user": "user3@corp.example",
         "created_at": at(today, 0, 2)},
    ]  # fmt: skip
    _log(events)
    analytics.roll_up(all_days=True)
    return events


def _from_events(session, start, end, agent_id=None) -> window_read.RangeFigures:  # noqa: ANN001
    live = live_days(session, start, end)
    kwargs = {"start": start, "end": end, "agent_id": agent_id}
    read = RangeRead(start, end, live, _today(), agent_id)
    users = range_stats.unique_users_by_agent(session, read)
    p95s = range_stats.p95_by_agent(session, **kwargs)
    users[windows.ALL_AGENTS] = range_stats.unique_users(session, read)
    total = analytics.summary(session, **kwargs)
    if total["p95_execution_ms"] is not None:
        p95s[windows.ALL_AGENTS] = total["p95_execution_ms"]
    return window_read.RangeFigures(users, p95s)


def _stored(session, start, end, agent_id=None):  # noqa: ANN001, ANN202
    read = RangeRead(start, end, live_days(session, start, end), _today(), agent_id)
    return window_read.range_figures(session, read)


def test_views_equal_the_events(db_url, agents):  # noqa: ANN001
    _seed(agents)
    today = _today()
    with session_scope() as session:
        assert windows.is_fresh(session, today)
        for first in windows.first_days(today):
            for end in (today, today - timedelta(days=1)):
                for agent_id in (None, agents[0], agents[2]):
                    stored = _stored(session, first, end, agent_id)
                    assert stored is not None, (first, end, agent_id)
                    assert stored == _from_events(session, first, end, agent_id)
        # Ranges no view covers are left to the events.
        assert _stored(session, today - timedelta(days=12), today) is None
        assert _stored(session, today - timedelta(days=29), today - timedelta(days=2)) is None


def test_agent_table_is_the_same_either_way(db_url, agents, monkeypatch):  # noqa: ANN001
    _seed(agents)
    today = _today()
    with session_scope() as session:
        for first in windows.first_days(today):
            kwargs = {"start": first, "end": today}
            fast = analytics.agent_table(session, **kwargs)
            with monkeypatch.context() as m:
                m.setattr(window_read, "range_figures", lambda *a, **k: None)
                slow = analytics.agent_table(session, **kwargs)
            assert fast == slow
            assert any(r["p95_execution_ms"] for r in fast)


def test_top_users_of_a_view_rank_as_the_events_do(db_url, agents, monkeypatch):  # noqa: ANN001
    _seed(agents)
    today = _today()
    with session_scope() as session:
        for first in windows.first_days(today):
            kwargs = {"start": first, "end": today, "limit": 8}
            read = RangeRead(first, today, live_days(session, first, today), today)
            assert window_read.user_counts(session, read) is not None
            fast = analytics.top_users(session, **kwargs)
            with monkeypatch.context() as m:
                m.setattr(window_read, "user_counts", lambda *a, **k: None)
                slow = analytics.top_users(session, **kwargs)
            assert fast == slow
            assert len(fast) == 8


def test_a_late_event_falls_back_until_the_views_are_rebuilt(db_url, agents):  # noqa: ANN001
    _seed(agents)
    today = _today()
    start, closed = today - timedelta(days=29), today - timedelta(days=5)
    _log(
        [
            {"agent_id": agents[1], "event_type": "executed", "user": "late@corp.example",
             "model_name": "gpt-4o", "tokens_used": 1, "execution_time_ms": 99999,
             "created_at": at(closed, 9)},
        ]
    )  # fmt: skip
    with session_scope() as session:
        assert _stored(session, start, today) is None  # the day is queued: read the events
    analytics.roll_up()  # the job: rolls the day up, drops and rebuilds the views
    with session_scope() as session:
        stored = _stored(session, start, today)
        assert stored is not None
        assert stored == _from_events(session, start, today)
        assert (
            stored.unique_users[agents[1]]
            == _from_events(session, start, today).unique_users[agents[1]]
        )
    assert refresh_windows() is False  # fresh: nothing to do


def test_a_rollup_without_refresh_leaves_the_rebuild_to_the_job(db_url, agents):  # noqa: ANN001
    _seed(agents)
    today = _today()
    start, closed = today - timedelta(days=29), today - timedelta(days=5)
    _log([{"agent_id": agents[2], "event_type": "viewed", "user": "late@corp.example",
           "created_at": at(closed, 9)}])  # fmt: skip
    analytics.roll_up(refresh_views=False)  # as POST /api/analytics/aggregate does
    with session_scope() as session:
        assert _stored(session, start, today) is None  # dropped, not rebuilt: read the events
    assert refresh_windows() is True  # the job's next run rebuilds them
    with session_scope() as session:
        assert _stored(session, start, today) == _from_events(session, start, today)


def test_a_rollup_that_changes_a_closed_day_drops_the_views(db_url, agents):  # noqa: ANN001
    _seed(agents)
    day = _today() - timedelta(days=3)
    _log([{"agent_id": agents[0], "event_type": "viewed", "user": "x@corp.example",
           "created_at": at(day, 8)}])  # fmt: skip
    from core.analytics.rollup import compute_range
    from core.analytics.runner import _compute_then_store

    stop = day + timedelta(days=1)
    result = _compute_then_store(None, lambda s: compute_range(s, start=day, end=stop), (day, stop))
    assert result.written
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(WindowFigures)) == 0


def test_merged_p95_is_the_nearest_rank_p95():
    rng = random.Random(5)
    for _ in range(300):
        closed = [
            rng.choice([5, 10, 20, 50, 120, 300, 900, 2500]) for _ in range(rng.randrange(60))
        ]
        today = [rng.randrange(1, 3000) for _ in range(rng.randrange(8))]
        tail = windows.parse_tail(windows.tail_of(Counter(closed)))
        got = window_read.merged_p95(len(closed), tail, today)
        assert got == p95(closed + today)
        assert windows.p95_of(Counter(closed)) == p95(closed)


def test_a_busy_today_beyond_the_stored_tail_is_left_to_the_events():
    closed = list(range(1, 101))  # tail: the top 11 values
    tail = windows.parse_tail(windows.tail_of(Counter(closed)))
    assert sum(tail.values()) == 11
    assert window_read.merged_p95(100, tail, [1] * 400) is False
    assert window_read.merged_p95(100, tail, [1] * 20) == p95(closed + [1] * 20)


def test_stored_day_latency_equals_the_events(db_url, agents):  # noqa: ANN001
    _seed(agents)
    today = _today()
    with session_scope() as session:
        assert day_latency.missing_days(session, today) == []
        for first in [*windows.first_days(today), today - timedelta(days=120)]:
            for agent_id in (None, agents[0], agents[1]):
                kwargs = {"start": first, "end": today, "agent_id": agent_id}
                stored = analytics.latency_series(session, **kwargs)
                raw = [  # the events alone, every day
                    {k: v for k, v in r.items() if k != "agent_id"}
                    for r in day_latency.from_events(session, **kwargs)
                ]
                assert stored == raw
                assert len(stored) > 5


def test_a_changed_day_is_read_from_the_events_until_stored_again(db_url, agents):  # noqa: ANN001
    _seed(agents)
    today = _today()
    day = today - timedelta(days=4)
    _log([{"agent_id": agents[0], "event_type": "executed", "user": "late@corp.example",
           "model_name": "gpt-4o", "tokens_used": 1, "execution_time_ms": 88888,
           "created_at": at(day, 9)}] * 30)  # fmt: skip
    kwargs = {"start": day, "end": day, "agent_id": agents[0]}
    with session_scope() as session:
        assert analytics.latency_series(session, **kwargs)[0]["p95_execution_ms"] == 88888
    analytics.roll_up()
    with session_scope() as session:
        assert day_latency.missing_days(session, today) == []
        assert analytics.latency_series(session, **kwargs)[0]["p95_execution_ms"] == 88888
