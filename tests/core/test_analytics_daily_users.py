"""daily_agent_user_sets and daily_totals: filled by the rollup, kept exact when events change,
and the range uniques built on them agree with a count over the events, on every backend."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy import select

from core import analytics
from core.analytics import agent_sets
from core.db import session_scope
from core.models import DailyAgentUserSet, DailyTotal, UsageLog
from tests.core.analytics_helpers import at, p95, past_days, random_events


@pytest.fixture
def agents(people, make_agent) -> list[int]:  # noqa: ANN001
    return [make_agent(people["developer"]).id for _ in range(3)]


def _log(events: list[dict]) -> None:
    with session_scope(write=True) as session:
        analytics.log_events(session, events=events)


def _day(event: dict):  # noqa: ANN202
    return datetime.fromisoformat(event["created_at"]).astimezone(UTC).date()


def _triples() -> dict[tuple, int]:
    """{(date, agent, user): events} as stored: the per-(day, agent) sets decoded, each row's
    user count checked against its set."""
    with session_scope() as session:
        rows = session.execute(
            select(
                DailyAgentUserSet.date,
                DailyAgentUserSet.agent_id,
                DailyAgentUserSet.users,
                DailyAgentUserSet.user_set,
            )
        ).all()
    out = {}
    for day, agent, users, blob in rows:
        entries = agent_sets.decode(blob)
        assert users == len(entries) > 0
        out |= {(day, agent, e[0]): e[1] for e in entries}
    assert len(out) == sum(r.users for r in rows)  # no user twice in a set
    return out


def _totals() -> dict:
    with session_scope() as session:
        rows = session.execute(
            select(DailyTotal.date, DailyTotal.unique_users, DailyTotal.p95_execution_ms)
        ).all()
    return {r[0]: (r[1], r[2]) for r in rows}


def _expected(events: list[dict]) -> tuple[dict[tuple, int], dict]:
    triples = dict(Counter((_day(e), e["agent_id"], e["user"]) for e in events if e["user"]))
    users, times, days = defaultdict(set), defaultdict(list), set()
    for e in events:
        days.add(_day(e))
        if e["user"]:
            users[_day(e)].add(e["user"])
        if e["event_type"] == "executed":
            times[_day(e)].append(e["execution_time_ms"])
    return triples, {d: (len(users[d]), p95(times[d])) for d in days}


def test_rollup_fills_and_keeps_the_daily_user_tables_exact(agents):
    days = past_days(3)
    events = random_events(agents, days, n=400, seed=3)
    _log(events)
    with session_scope(write=True) as session:
        analytics.rollup_all(session)
    triples, totals = _expected(events)
    assert _triples() == triples and _totals() == totals

    # Late events on one day, then that day's events of one agent disappear.
    late = random_events(agents, [days[0]], n=60, seed=4)
    _log(late)
    with session_scope(write=True) as session:
        analytics.rollup_pending(session)
        session.execute(
            UsageLog.__table__.delete().where(
                UsageLog.agent_id == agents[0],
                UsageLog.created_at >= datetime.combine(days[0], time.min, tzinfo=UTC),
                UsageLog.created_at
                < datetime.combine(days[0] + timedelta(days=1), time.min, tzinfo=UTC),
            )
        )
    with session_scope(write=True) as session:
        analytics.rollup_date(session, day=days[0])
    kept = [e for e in events + late if not (e["agent_id"] == agents[0] and _day(e) == days[0])]
    triples, totals = _expected(kept)
    assert _triples() == triples and _totals() == totals


def test_range_uniques_mix_rollups_and_live_days(agents):
    """Closed days from the per-agent user sets, today from the events, a user on both counted once."""
    yesterday, today = past_days(1)[0], datetime.now(UTC).date()
    old = [
        {"agent_id": agents[0], "event_type": "viewed", "user": u, "created_at": at(yesterday)}
        for u in ("ana", "bo", "cy")
    ]
    _log(old)
    with session_scope(write=True) as session:
        analytics.rollup_all(session)
    now = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=1)
    _log(
        [
            {
                "agent_id": agents[1],
                "event_type": "viewed",
                "user": u,
                "created_at": now.isoformat(),
            }
            for u in ("bo", "dee")
        ]
    )
    with session_scope() as session:
        figures = analytics.summary(session, start=yesterday, end=today)
        table = analytics.agent_table(session, start=yesterday, end=today)
        closed = analytics.daily_metrics(session, day=yesterday)
    assert figures["unique_users"] == 4  # ana, bo, cy, dee
    assert {r["agent_id"]: r["unique_users"] for r in table} == {agents[0]: 3, agents[1]: 2}
    assert (closed["unique_users"], closed["source"]) == (3, "rollup")


def _top_users_from_events(events: list[dict], start, end, agent_id=None) -> list[dict]:  # noqa: ANN001
    rows: dict[str, dict] = {}
    for e in events:
        if not e["user"] or not start <= _day(e) <= end:
            continue
        if agent_id is not None and e["agent_id"] != agent_id:
            continue
        r = rows.setdefault(
            e["user"],
            {
                "user": e["user"],
                "events": 0,
                "executions": 0,
                "total_tokens": 0,
                "agents": set(),
                "last_seen": None,
            },
        )
        r["events"] += 1
        if e["event_type"] == "executed":
            r["executions"] += 1
            r["total_tokens"] += e.get("tokens_used") or 0
        r["agents"].add(e["agent_id"])
        seen = datetime.fromisoformat(e["created_at"]).astimezone(UTC).replace(microsecond=0)
        r["last_seen"] = max(filter(None, [r["last_seen"], seen]))
    for r in rows.values():
        r["agents"] = len(r["agents"])
    return sorted(rows.values(), key=lambda r: (-r["events"], r["user"]))


def _top(start, end, **kwargs) -> list[dict]:  # noqa: ANN001, ANN003
    with session_scope() as session:
        rows = analytics.top_users(session, start=start, end=end, limit=1000, **kwargs)
    for r in rows:
        r["last_seen"] = r["last_seen"].astimezone(UTC).replace(microsecond=0)
    return sorted(rows, key=lambda r: (-r["events"], r["user"]))  # ties: collation-free


def test_top_users_mix_rollups_queued_and_live_days(agents):
    """Closed days ranked from the per-agent user sets' counts, a queued day and today from the
    events: the same rows as a count over the events, with and without an agent filter."""
    days = past_days(4)
    today = datetime.now(UTC).date()
    events = random_events(agents, days, n=300, seed=11)
    _log(events)
    with session_scope(write=True) as session:
        analytics.rollup_all(session)
    # A late event queues days[1] (computed live until its rollup); today's are live.
    now = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=1)
    extra = [
        {
            "agent_id": agents[1],
            "event_type": "viewed",
            "user": "late@corp.example",
            "created_at": at(days[1]),
        },
        *(
            {
                "agent_id": agents[i % 3],
                "event_type": "viewed",
                "user": f"u{i % 4}",
                "created_at": now.isoformat(),
            }
            for i in range(9)
        ),
    ]
    _log(extra)
    everything = events + extra
    for agent_id in (None, agents[1]):
        assert _top(days[0], today, agent_id=agent_id) == _top_users_from_events(
            everything, days[0], today, agent_id
        )
    with session_scope(write=True) as session:
        analytics.rollup_pending(session)
    assert _top(days[1], days[2]) == _top_users_from_events(everything, days[1], days[2])
    # The first rows of the ranking (ties may order by the backend's collation).
    with session_scope() as session:
        first = analytics.top_users(session, start=days[0], end=today, limit=3)
    expected = _top_users_from_events(everything, days[0], today)
    assert [r["events"] for r in first] == [r["events"] for r in expected[:3]]
