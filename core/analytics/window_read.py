"""Range unique users and exact p95 of a default view (core.analytics.windows) from its stored
closed days plus today's events: the same figures range_stats computes from the events.

Used when the range starts on a stored view's first day, its closed days run to yesterday and
none is queued for the rollup, and no model filter is set; otherwise callers read the events.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import chain

from sqlalchemy import Select, and_, func, select
from sqlalchemy.orm import Session

from core.analytics.compute import RangeRead, U, range_filter
from core.analytics.today import array_rows, json_array
from core.analytics.windows import ALL_AGENTS, R, W, p95_from_top, parse_tail
from core.models import RecentAgentUser, WindowUser

V = WindowUser.__table__.c


@dataclass(frozen=True)
class RangeFigures:
    """{agent id: figure} over the range (ALL_AGENTS: across agents)."""

    unique_users: dict[int, int]
    p95_execution_ms: dict[int, float]


def _fits(read: RangeRead) -> bool:
    """Whether the range has closed days to yesterday, none queued (changed since the rollup)."""
    today = read.today
    return (
        read.start < today
        and read.end >= today - timedelta(days=1)
        and all(d >= today for d in read.live)
    )


def user_counts(session: Session, read: RangeRead) -> Select | None:
    """SELECT (user_id, n): every user's events (all agents) on the range's closed days, if a
    stored view holds them; None otherwise (then read daily_agent_user_sets)."""
    if not _fits(read):
        return None
    marker = select(W.agent_id).where(
        W.first_day == read.start,
        W.agent_id == ALL_AGENTS,
        W.last_day == read.today - timedelta(days=1),
    )
    if session.execute(marker).first() is None:
        return None
    return select(V.user_id, V.events.label("n")).where(V.first_day == read.start)


def _stored(session: Session, start: date, yesterday: date, agent_id: int | None) -> dict:
    query = select(W.agent_id, W.executions, W.unique_users, W.tail).where(
        W.first_day == start, W.last_day == yesterday
    )
    if agent_id is not None:
        query = query.where(W.agent_id.in_([agent_id, ALL_AGENTS]))
    return {r.agent_id: r for r in session.execute(query)}


def _today_times(session: Session, today: date, stop: date, agent_id: int | None) -> dict:
    """{agent: today's execution times} (ALL_AGENTS: all of them): one row per agent, its times
    as one JSON array (thousands of single-value rows cost more to decode, on PyMySQL most)."""
    query = (
        select(U.agent_id, func.count(), json_array(session, U.execution_time_ms))
        .where(*range_filter(today, stop, agent_id), U.event_type == "executed")
        .group_by(U.agent_id)
    )
    times = {agent: array for agent, _, array in array_rows(session, query, 1)}
    if times:
        times[ALL_AGENTS] = list(chain.from_iterable(times.values()))
    return times


def _new_users(
    session: Session, start: date, today: date, stop: date, agent_id: int | None
) -> Counter:
    """{agent: today's users not seen on the range's closed days} (ALL_AGENTS: any agent)."""
    out: Counter = Counter()
    for by_agent in (True, False):
        key = [U.agent_id] if by_agent else []
        pairs = (
            select(*key, U.user_id)
            .where(*range_filter(today, stop, agent_id), U.user_id != "")
            .distinct()
            .subquery()
        )
        agent = pairs.c.agent_id if by_agent else ALL_AGENTS
        seen = and_(R.agent_id == agent, R.user_id == pairs.c.user_id, R.last_day >= start)
        query = select(*([pairs.c.agent_id] if by_agent else []), func.count()).select_from(
            pairs.outerjoin(RecentAgentUser.__table__, seen)
        )
        query = query.where(R.user_id.is_(None))
        if by_agent:
            query = query.group_by(pairs.c.agent_id)
        for row in session.execute(query):
            out[row[0] if by_agent else ALL_AGENTS] += int(row[-1])
    return out


def merged_p95(executions: int, tail: Counter, today: list[int]) -> float | None | bool:
    """Nearest-rank p95 of the closed days (`executions`, top values `tail`) plus today's
    times; False when the tail is too short to tell (many more executions today than usual)."""
    n = executions + len(today)
    if not n:
        return None
    complete = sum(tail.values()) == executions
    floor = min(tail) if tail and not complete else None
    merged = Counter(tail)
    merged.update(t for t in today if floor is None or t >= floor)
    value = p95_from_top(merged, n)
    return False if value is None else value


def range_figures(session: Session, read: RangeRead) -> RangeFigures | None:
    """Every agent's (and ALL_AGENTS') unique users and p95 over the range, or None when
    no stored view fits (then read the events)."""
    start, end, today, agent_id = read.start, read.end, read.today, read.agent_id
    yesterday = today - timedelta(days=1)
    if read.model_name is not None or not _fits(read):
        return None
    stored = _stored(session, start, yesterday, agent_id)
    if ALL_AGENTS not in stored:  # not built for today yet
        return None
    if agent_id is not None:  # the marker row above is the all-agents one
        del stored[ALL_AGENTS]
    times: dict[int, list[int]] = {}
    new = Counter()
    if end >= today:
        stop = end + timedelta(days=1)
        times = _today_times(session, today, stop, agent_id)
        new = _new_users(session, start, today, stop, agent_id)
    users, p95s = {}, {}
    for agent in set(stored) | set(times) | set(new):
        if agent_id is not None and agent != agent_id:
            continue
        row = stored.get(agent)
        users[agent] = (row.unique_users if row else 0) + new[agent]
        p95 = merged_p95(
            row.executions if row else 0,
            parse_tail(row.tail) if row else Counter(),
            times.get(agent, []),
        )
        if p95 is False:
            return None
        if p95 is not None:
            p95s[agent] = p95
    if agent_id is not None:  # one agent is the range's whole: ALL_AGENTS is that agent
        users[ALL_AGENTS] = users.get(agent_id, 0)
        if agent_id in p95s:
            p95s[ALL_AGENTS] = p95s[agent_id]
    return RangeFigures(unique_users=users, p95_execution_ms=p95s)
