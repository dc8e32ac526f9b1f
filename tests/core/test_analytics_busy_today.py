"""A busy today (far more events than a closed day) beside rolled-up days and a queued one: the
summary's live part (core.analytics.today) gives exactly the figures counted from the events,
with and without agent and model filters, through the stored views and through the day sets."""

from __future__ import annotations

import random
from datetime import UTC, datetime, time, timedelta

import pytest

from core import analytics
from core.analytics import figures
from core.db import session_scope
from tests.core.analytics_helpers import at, random_events
from tests.core.test_analytics_queries import _check, _day, _log, _reference
from tests.core.test_analytics_queries import agents as _agents

agents = _agents


def _busy_today(agent_ids: list[int], n: int) -> list[dict]:
    """n events between midnight (UTC) and now: many users, several models, ties."""
    now = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=1)
    midnight = datetime.combine(now.date(), time.min, tzinfo=UTC)
    span = max(1, int((now - midnight).total_seconds()))
    rng = random.Random(5)
    events = random_events(agent_ids, [now.date()], n=n, seed=17)
    for event in events:
        event["created_at"] = (midnight + timedelta(seconds=rng.randrange(span))).isoformat()
        event["user"] = rng.choice([event["user"], f"today{rng.randrange(60)}@corp.example"])
        if event["event_type"] == "executed" and rng.random() < 0.3:
            event["execution_time_ms"] = rng.randrange(1, 9000)
    return events


def _summaries(agent_ids: list[int], start, end) -> dict:  # noqa: ANN001
    filters = {
        "all": {},
        "agent": {"agent_id": agent_ids[1]},
        "model": {"model_name": "gpt-4o"},
        "agent+model": {"agent_id": agent_ids[0], "model_name": "mystery-model"},
    }
    with session_scope() as session:
        return {
            name: analytics.summary(session, start=start, end=end, **kwargs)
            for name, kwargs in filters.items()
        }


def _expect(figures: dict, events: list[dict], agent_ids: list[int], start, end) -> None:  # noqa: ANN001
    length = (end - start).days + 1
    for name, data in figures.items():
        agent = {"agent": agent_ids[1], "agent+model": agent_ids[0]}.get(name)
        picked = [e for e in events if agent is None or e["agent_id"] == agent]
        model = {"model": "gpt-4o", "agent+model": "mystery-model"}.get(name)
        current = [e for e in picked if start <= _day(e) <= end]
        before = start - timedelta(days=length)
        previous = [e for e in picked if before <= _day(e) < start]
        _check(data, _reference(current, model=model))
        _check(data["previous"], _reference(previous, model=model))


@pytest.mark.parametrize("queued", [False, True], ids=["views", "queued-day"])
def test_a_busy_today_is_exact_with_every_filter(agents, queued):  # noqa: ANN001
    today = datetime.now(UTC).date()
    days = [today - timedelta(days=i) for i in range(1, 61)]
    events = random_events(agents, days, n=1200, seed=23)  # ~20 a day
    _log(events)
    analytics.roll_up(all_days=True)  # closed days rolled up, the default views stored
    busy = _busy_today(agents, 400)
    _log(busy)
    events += busy
    if queued:  # a late event: its closed day is computed live beside today
        late = {"agent_id": agents[2], "event_type": "executed", "user": "late@corp.example",
                "model_name": "gpt-4o", "tokens_used": 321, "execution_time_ms": 8800,
                "created_at": at(today - timedelta(days=4), 9)}  # fmt: skip
        _log([late])
        events.append(late)
    start = today - timedelta(days=29)
    _expect(_summaries(agents, start, today), events, agents, start, today)
    # A range ending yesterday (no today), and today alone.
    yesterday = today - timedelta(days=1)
    _expect(_summaries(agents, start, yesterday), events, agents, start, yesterday)
    _expect(_summaries(agents, today, today), events, agents, today, today)


def test_the_page_reads_today_once_and_equals_the_separate_calls(agents, monkeypatch):  # noqa: ANN001
    today = datetime.now(UTC).date()
    days = [today - timedelta(days=i) for i in range(1, 40)]
    _log(random_events(agents, days, n=500, seed=29))
    analytics.roll_up(all_days=True)
    _log(_busy_today(agents, 200))
    start = today - timedelta(days=29)
    computed, real = [], figures.compute_daily

    def counted(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        computed.append(1)
        return real(*args, **kwargs)

    for filters in ({}, {"agent_id": agents[2]}, {"model_name": "gpt-4o"}):
        kwargs = {"start": start, "end": today, **filters}
        with session_scope() as session:
            separate = {
                "summary": analytics.summary(session, **kwargs),
                "daily_series": analytics.daily_series(session, **kwargs),
                "model_series": analytics.model_series(session, **kwargs),
                "agent_table": analytics.agent_table(session, **kwargs),
                "top_users": analytics.top_users(session, **kwargs, limit=10),
                "latency_series": analytics.latency_series(session, **kwargs),
            }
        computed.clear()
        monkeypatch.setattr(figures, "compute_daily", counted)
        with session_scope() as session:
            page = analytics.analytics_page(session, **kwargs, limit=10)
            assert session.info.get("analytics_live_rows") is None  # nothing kept after
        monkeypatch.setattr(figures, "compute_daily", real)
        assert page == separate
        assert len(computed) == 1  # today's rows: once for the whole page


def test_a_short_group_concat_limit_is_raised_for_the_live_arrays(agents, db_url):  # noqa: ANN001
    """MariaDB cuts JSON_ARRAYAGG at group_concat_max_len: the statement runs again with the
    limit raised, and the session's own limit is left as it was."""
    if not db_url.startswith("mysql"):
        pytest.skip("MariaDB's group_concat_max_len")
    today = datetime.now(UTC).date()
    events = random_events(agents, [today - timedelta(days=2)], n=50, seed=31)
    _log(events)
    analytics.roll_up(all_days=True)
    busy = _busy_today(agents, 300)
    _log(busy)
    start = today - timedelta(days=2)
    with session_scope() as session:
        session.connection().exec_driver_sql("SET SESSION group_concat_max_len = 64")
        data = analytics.summary(session, start=start, end=today)
        limit = session.connection().exec_driver_sql("SELECT @@group_concat_max_len").scalar()
        session.connection().exec_driver_sql("SET SESSION group_concat_max_len = DEFAULT")
    _check(data, _reference(events + busy))
    assert int(limit) == 64
