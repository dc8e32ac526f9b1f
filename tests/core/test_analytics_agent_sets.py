"""daily_agent_user_sets (one compact row per day and agent): migration 0017 converts the former
per-(day, agent, user) rows both ways, deleting an agent removes its rows, and spellings the
column's collation deems one user (MariaDB) are merged as a GROUP BY over the events merges
them — on every backend."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from alembic import command
from sqlalchemy import delete, func, select, text

from core import analytics
from core.analytics import range_stats
from core.analytics.compute import RangeRead
from core.analytics.figures import live_days, today_utc
from core.db import session_scope
from core.migrate import alembic_config, upgrade_to_head
from core.models import Agent, DailyAgentUserSet, DailyTotal, UsageLog
from tests.core.analytics_helpers import at, past_days, random_events
from tests.core.test_analytics_daily_users import _expected, _log, _triples
from tests.core.test_analytics_daily_users import agents as _agents

agents = _agents  # the same three agents fixture


def _rolled_up(agents: list[int], seed: int) -> list[dict]:
    events = random_events(agents, past_days(4), n=300, seed=seed)
    _log(events)
    with session_scope(write=True) as session:
        analytics.rollup_all(session)
    return events


def test_migration_converts_the_rows_both_ways(db_url, agents):  # noqa: ANN001
    expected, _ = _expected(_rolled_up(agents, seed=21))
    assert _triples() == expected
    command.downgrade(alembic_config(db_url), "0016_daily_sets")
    try:
        with session_scope() as session:
            rows = session.execute(
                text("SELECT date, agent_id, user_id, events FROM daily_agent_users")
            ).all()
        assert {(r[0] if not isinstance(r[0], str) else datetime.fromisoformat(r[0]).date(),
                 r[1], r[2]): r[3] for r in rows} == expected  # fmt: skip
    finally:
        upgrade_to_head(db_url)
    assert _triples() == expected
    with session_scope() as session:  # and the figures read from the converted rows
        table = analytics.agent_table(session, start=past_days(4)[0], end=today_utc())
    users = {a: {u for (_, agent, u) in expected if agent == a} for a in agents}
    assert {r["agent_id"]: r["unique_users"] for r in table} == {a: len(users[a]) for a in agents}


def test_deleting_an_agent_removes_its_sets(agents):
    _rolled_up(agents, seed=22)
    with session_scope(write=True) as session:
        session.execute(delete(UsageLog).where(UsageLog.agent_id == agents[0]))
        session.execute(delete(Agent).where(Agent.id == agents[0]))
    with session_scope() as session:
        kept = set(session.scalars(select(DailyAgentUserSet.agent_id).distinct()))
    assert kept == set(agents[1:])


def _by_database(session, start, end, agent_id):  # noqa: ANN001, ANN202
    """(distinct users, sorted per-user event counts) as the database groups the events."""
    filters = [
        UsageLog.created_at >= datetime.combine(start, datetime.min.time(), tzinfo=UTC),
        UsageLog.created_at < datetime.combine(end + timedelta(days=1), datetime.min.time(),
                                               tzinfo=UTC),
        UsageLog.user_id != "",
        UsageLog.agent_id == agent_id,
    ]  # fmt: skip
    counts = session.execute(
        select(func.count()).where(*filters).group_by(UsageLog.user_id)
    ).scalars()
    return sorted(counts, reverse=True)


def test_spellings_merge_as_the_database_groups_them(agents):
    """'Ana', 'ana ' and 'ANA' on closed days and today: one user under MariaDB's collation,
    three elsewhere — unique users and the ranking with an agent filter agree with a GROUP BY."""
    a, b = past_days(2)
    now = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=1)
    spelled = [("Ana", at(a)), ("ana ", at(b)), ("ANA", now.isoformat()), ("bo", at(a))]
    spelled += [("Ana", at(b)), ("bo", at(b, 13))]
    _log([{"agent_id": agents[0], "event_type": "viewed", "user": u, "created_at": t}
          for u, t in spelled])  # fmt: skip
    with session_scope(write=True) as session:
        analytics.rollup_all(session)
    today = today_utc()
    with session_scope() as session:
        counts = _by_database(session, a, today, agents[0])
        live = live_days(session, a, today)
        users = range_stats.unique_users(session, RangeRead(a, today, live, today, agents[0]))
        ranked = analytics.top_users(session, start=a, end=today, agent_id=agents[0])
    assert len(counts) in (2, 4)
    assert users == len(counts)
    assert sorted((r["events"] for r in ranked), reverse=True) == counts
    assert Counter(r["events"] for r in ranked) == Counter(counts)


def test_any_user_text_round_trips(agents):
    """Quotes, backslashes, control characters and non-ASCII survive the SQL-built arrays."""
    day = past_days(1)[0]
    odd = ['say "hi"', "back\\slash", "tab\there", "ünïcødé 🙂", "comma,[bracket]", "0"]
    events = [{"agent_id": agents[1], "event_type": "viewed", "user": u, "created_at": at(day)}
              for u in odd]  # fmt: skip
    _log(events)
    with session_scope(write=True) as session:
        analytics.rollup_all(session)
    assert _triples() == {(day, agents[1], u): 1 for u in odd}
    with session_scope() as session:
        ranked = analytics.top_users(session, start=day, end=day, agent_id=agents[1], limit=10)
    assert sorted(r["user"] for r in ranked) == sorted(odd)


def test_a_closed_day_without_its_totals_counts_users_from_the_sets(agents):
    """A day rolled up before daily_totals existed: its cross-agent uniques from the sets."""
    events = _rolled_up(agents, seed=23)
    day = past_days(4)[1]
    _, totals = _expected(events)
    with session_scope(write=True) as session:
        session.execute(delete(DailyTotal).where(DailyTotal.date == day))
    with session_scope() as session:
        figures = analytics.daily_metrics(session, day=day)
    assert (figures["unique_users"], figures["source"]) == (totals[day][0], "rollup")
    assert figures["p95_execution_ms"] == totals[day][1]


def test_a_rerun_builds_the_same_arrays(agents):
    """The database builds each (day, agent)'s array in a fixed order: a re-run with nothing
    changed leaves every stored byte as it was (and so rewrites nothing)."""
    _rolled_up(agents, seed=24)
    query = select(DailyAgentUserSet.date, DailyAgentUserSet.agent_id, DailyAgentUserSet.user_set)
    with session_scope() as session:
        first = {(r[0], r[1]): bytes(r[2]) for r in session.execute(query)}
    with session_scope(write=True) as session:
        analytics.rollup_all(session)
    with session_scope() as session:
        assert {(r[0], r[1]): bytes(r[2]) for r in session.execute(query)} == first
