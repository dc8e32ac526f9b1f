"""daily_totals' compact per-day sets (day_sets): range uniques and p95 across agents read
from them equal a count over the events, on every backend — and where they cannot tell (a day
rolled up before they existed, a tail too short for the range) the events answer, still exact."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import update

from core import analytics
from core.analytics import day_sets, range_stats
from core.analytics.compute import RangeRead
from core.analytics.figures import live_days, today_utc
from core.db import session_scope
from core.models import DailyTotal
from tests.core.analytics_helpers import at, p95, past_days, random_events
from tests.core.test_analytics_daily_users import _log
from tests.core.test_analytics_daily_users import agents as _agents

agents = _agents  # the same three agents fixture


def _in(event: dict, start: date, end: date) -> bool:
    return start <= datetime.fromisoformat(event["created_at"]).astimezone(UTC).date() <= end


def _reference(events: list[dict], start: date, end: date) -> tuple[int, float | None, int]:
    picked = [e for e in events if _in(e, start, end)]
    times = [e["execution_time_ms"] for e in picked if e["event_type"] == "executed"]
    return len({e["user"] for e in picked if e["user"]}), p95(times), len(times)


def _from_sets(start: date, end: date, executions: int) -> tuple:
    with session_scope() as session:
        live = live_days(session, start, end)
        return day_sets.range_figures(
            session, start=start, end=end, live=live, today=today_utc(), executions=executions
        )


def _summary(start: date, end: date) -> tuple[int, float | None]:
    with session_scope() as session:
        figures = analytics.summary(session, start=start, end=end)
    return figures["unique_users"], figures["p95_execution_ms"]


def test_range_figures_from_the_sets_match_the_events(agents):
    days = past_days(6)
    events = random_events(agents, days, n=700, seed=21)
    _log(events)
    with session_scope(write=True) as session:
        analytics.rollup_all(session)
    now = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=1)
    today = [
        {"agent_id": agents[i % 3], "event_type": "executed", "user": f"user{i}@corp.example",
         "model_name": "gpt-4o", "execution_time_ms": 40 * i, "created_at": now.isoformat()}
        for i in range(12)
    ]  # fmt: skip
    late = random_events(agents, [days[2]], n=80, seed=22)  # a closed day changes
    _log(today + late)
    with session_scope(write=True) as session:
        analytics.rollup_pending(session)  # the incremental path (rows already stored)
    everything = events + today + late
    for start, end in ((days[0], today_utc()), (days[1], days[4]), (days[3], days[3])):
        users, expected_p95, n = _reference(everything, start, end)
        assert _from_sets(start, end, n) == (users, expected_p95, True)
        assert _summary(start, end) == (users, expected_p95)


def test_a_short_tail_falls_back_to_the_events(agents):
    """Day A all fast, day B all slow: B's stored top 10 % is shorter than the range's k and
    its floor is above the merged k-th time, so the sets cannot tell; the events do."""
    a, b = past_days(2)
    events = [
        {"agent_id": agents[0], "event_type": "executed", "user": f"u{i}", "model_name": "m",
         "execution_time_ms": t, "created_at": at(day, 1 + i % 20)}
        for day, base in ((a, 1), (b, 10_000))
        for i, t in enumerate(range(base, base + 100))
    ]  # fmt: skip
    _log(events)
    with session_scope(write=True) as session:
        analytics.rollup_all(session)
    users, expected_p95, n = _reference(events, a, b)
    assert _from_sets(a, b, n) == (users, None, False)
    assert _summary(a, b) == (users, expected_p95)


def test_days_rolled_up_before_the_sets_read_the_old_way(agents):
    days = past_days(3)
    events = random_events(agents, days, n=300, seed=5)
    _log(events)
    with session_scope(write=True) as session:
        analytics.rollup_all(session)
        session.execute(update(DailyTotal).where(DailyTotal.date == days[1]).values(user_set=None))
    users, expected_p95, n = _reference(events, days[0], days[2])
    assert _from_sets(days[0], days[2], n) == (None, expected_p95, True)
    assert _summary(days[0], days[2]) == (users, expected_p95)
    with session_scope(write=True) as session:
        session.execute(update(DailyTotal).values(slow_times=None))
    assert _from_sets(days[0], days[2], n)[1:] == (None, False)
    assert _summary(days[0], days[2]) == (users, expected_p95)


def test_tail_rank_arithmetic():
    for n in range(1, 400):
        k = day_sets.p95_rank_from_top(n)
        kept, _ = day_sets.slow_tail(list(range(n, 0, -1)), n)
        assert 1 <= k <= len(kept) <= day_sets.tail_limit(n)
        assert sorted(range(1, n + 1))[-k] == p95(list(range(1, n + 1)))


def test_users_compare_as_the_database_does(agents):
    """Spellings that only differ in case or trailing spaces are one user where the column's
    collation says so (MariaDB), several elsewhere: the sets count what COUNT(DISTINCT) does."""
    a, b = past_days(2)
    now = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=1)
    spelled = [("Ana", at(a)), ("ana ", at(b)), ("ANA", now.isoformat()), ("bo", at(a))]
    _log([{"agent_id": agents[0], "event_type": "viewed", "user": u, "created_at": t}
          for u, t in spelled])  # fmt: skip
    with session_scope(write=True) as session:
        analytics.rollup_all(session)
    with session_scope() as session:
        live = live_days(session, a, today_utc())
        expected = range_stats.unique_users(session, RangeRead(a, today_utc(), live, today_utc()))
    assert expected in (2, 4)
    assert _from_sets(a, today_utc(), 0)[0] == expected
