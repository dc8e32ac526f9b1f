"""The Analytics page's default views (the last 7, 30 and 90 days, today included), their closed
days precomputed when the rollup job closes a day, so a first visit reads no month of events.

Per view and agent (agent 0: all agents) over first_day..yesterday: executions, exact unique
users and p95, and the top ~10 % of the execution times ("ms:count" pairs) so that today's
executions merge in for the exact p95 of the whole view (core.analytics.window_read). Who used
each agent on those days, with the last day, is kept too (analytics_recent_users): today's
users count once more only if absent from the view's closed days.

Rebuilt whole (a few hundred rows plus one per (agent, user) of the last 90 days) once a day,
and after a rollup changed a day inside the views (then the rows go in the same transaction,
so a page never reads figures older than the rollups).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import case, delete, func, insert, select
from sqlalchemy.orm import Session

from core.analytics import agent_sets
from core.analytics.compute import U, day_start, range_filter
from core.models import (
    DailyMetric,
    RecentAgentUser,
    RollupQueue,
    WindowFigures,
    WindowUser,
)

VIEW_DAYS = (7, 30, 90)  # the page's Period choices other than Custom
ALL_AGENTS = 0
TAIL_SHARE = 10  # keep the top 1/10 of a view's times: exact while today ≤ its closed days

W = WindowFigures.__table__.c
R = RecentAgentUser.__table__.c
M = DailyMetric.__table__.c
Q = RollupQueue.__table__.c


def first_days(today: date) -> list[date]:
    """The first day of each default view ending today, shortest view first."""
    return [today - timedelta(days=n - 1) for n in VIEW_DAYS]


def is_fresh(session: Session, today: date) -> bool:
    """Whether every default view's closed days are stored for `today` (ending yesterday)."""
    built = session.scalar(
        select(func.count()).where(
            W.agent_id == ALL_AGENTS,
            W.last_day == today - timedelta(days=1),
            W.first_day.in_(first_days(today)),
        )
    )
    return built == len(VIEW_DAYS)


def settled_since(session: Session, today: date, since: datetime) -> bool:
    """Whether no closed day of the views is queued and no rollup of one changed since
    `since`: figures computed from then on are exact (else wait for the next rollup run)."""
    first, stop = first_days(today)[-1], today
    queued = session.scalar(select(func.count()).where(Q.date >= first, Q.date < stop))
    changed = session.scalar(select(func.max(M.updated_at)).where(M.date >= first, M.date < stop))
    return not queued and (changed is None or changed < since)


def invalidate(session: Session, start: date | None, end: date | None) -> bool:
    """Drop the stored views if rollups of days in [start, end) (None: unbounded) changed."""
    query = select(func.count()).select_from(WindowFigures)
    if start is not None:
        query = query.where(W.last_day >= start)
    if end is not None:
        query = query.where(W.first_day < end)
    if not session.scalar(query):
        return False
    clear(session)
    return True


def clear(session: Session) -> None:
    for model in (WindowFigures, WindowUser, RecentAgentUser):
        session.execute(delete(model))


def p95_from_top(histogram: Counter, n: int) -> float | None:
    """Nearest-rank p95 (the ⌈0.95·n⌉-th smallest) of n times whose largest are `histogram`
    ({ms: count}); None when these do not reach that rank."""
    from_top = n - -(-95 * n // 100) + 1
    seen = 0
    for value in sorted(histogram, reverse=True):
        seen += histogram[value]
        if seen >= from_top:
            return float(value)
    return None


def p95_of(histogram: Counter) -> float | None:
    n = sum(histogram.values())
    return p95_from_top(histogram, n) if n else None


def tail_of(histogram: Counter) -> str:
    """The largest values covering the top 1/TAIL_SHARE (+1) of the times, whole counts."""
    n = sum(histogram.values())
    keep = min(n, -(-n // TAIL_SHARE) + 1)
    pairs, seen = [], 0
    for value in sorted(histogram, reverse=True):
        if seen >= keep:
            break
        pairs.append(f"{value}:{histogram[value]}")
        seen += histogram[value]
    return ",".join(pairs)


def parse_tail(text: str) -> Counter:
    out: Counter = Counter()
    for pair in filter(None, text.split(",")):
        value, count = pair.split(":")
        out[int(value)] = int(count)
    return out


def _histograms(session: Session, today: date) -> dict[tuple[date, int], Counter]:
    """{(first day, agent): {ms: count}} of the closed days' executions, one pass."""
    firsts = first_days(today)
    # Bucket i: the days of view i not in any shorter view; view i = buckets 0..i.
    bucket = case(
        *((U.created_at >= day_start(first), i) for i, first in enumerate(firsts[:-1])),
        else_=len(firsts) - 1,
    ).label("bucket")
    query = (
        select(U.agent_id, bucket, U.execution_time_ms, func.count())
        .where(*range_filter(firsts[-1], today), U.event_type == "executed")
        .group_by(U.agent_id, bucket, U.execution_time_ms)
    )
    out: dict[tuple[date, int], Counter] = defaultdict(Counter)
    for agent, b, ms, count in session.execute(query):
        for first in firsts[int(b) :]:
            out[(first, agent)][int(ms)] += int(count)
            out[(first, ALL_AGENTS)][int(ms)] += int(count)
    return out


def _users(session: Session, today: date) -> tuple[list[dict], list[dict]]:
    """From the closed days' user sets (agent_sets), one pass: each (agent, user) of the longest
    view with its last day (and agent 0: any agent), and each user's events on each view's
    closed days. Users are merged by identity (MariaDB: the collation key — one row per user
    the column deems one, as a GROUP BY would), each under one of its spellings."""
    firsts = first_days(today)
    last: dict[tuple[int, str], list] = {}
    events: dict[tuple[date, str], list] = {}
    sets = agent_sets.closed_sets(session, start=firsts[-1], stop=today, skip=set())
    for day, agent, entries in sets:
        views = [first for first in firsts if day >= first]
        for entry in entries:
            key = agent_sets.identity(entry)
            for pair in ((agent, key), (ALL_AGENTS, key)):
                seen = last.setdefault(pair, [entry[0], day])
                seen[1] = max(seen[1], day)
            for first in views:
                counted = events.setdefault((first, key), [entry[0], 0])
                counted[1] += int(entry[1])
    recent = [
        {"agent_id": agent, "user_id": user, "last_day": day}
        for (agent, _), (user, day) in last.items()
    ]
    counts = [
        {"first_day": first, "user_id": user, "events": n}
        for (first, _), (user, n) in events.items()
    ]
    return recent, counts


@dataclass
class Views:
    """What `compute` read, for `store` to write."""

    windows: list[dict]
    recent_users: list[dict]
    user_events: list[dict]


def compute(session: Session, today: date) -> Views:
    """The rows of the views ending today (a read-only pass)."""
    users, user_events = _users(session, today)
    histograms = _histograms(session, today)
    firsts = first_days(today)
    uniques: Counter = Counter()
    for u in users:
        for first in firsts:
            if u["last_day"] >= first:
                uniques[(first, u["agent_id"])] += 1
    keys = set(histograms) | set(uniques) | {(first, ALL_AGENTS) for first in firsts}
    windows = []
    for first, agent in sorted(keys):
        histogram = histograms.get((first, agent), Counter())
        windows.append(
            {
                "first_day": first,
                "agent_id": agent,
                "last_day": today - timedelta(days=1),
                "executions": sum(histogram.values()),
                "unique_users": uniques[(first, agent)],
                "p95_execution_ms": p95_of(histogram),
                "tail": tail_of(histogram),
            }
        )
    return Views(windows, users, user_events)


def store(session: Session, views: Views) -> None:
    """Replace the stored views with freshly computed ones (one write transaction)."""
    clear(session)
    for model, rows in (
        (RecentAgentUser, views.recent_users),
        (WindowUser, views.user_events),
        (WindowFigures, views.windows),
    ):
        if rows:
            session.execute(insert(model), rows)


def refresh(session: Session, today: date) -> int:
    """Compute and store in one session (seeding, tests): the views and each closed day's
    latency percentiles (core.analytics.day_latency). Returns the view rows written."""
    from core.analytics import day_latency

    views = compute(session, today)
    store(session, views)
    day_latency.store(
        session, day_latency.compute(session, day_latency.missing_days(session, today)), today
    )
    return len(views.windows)
