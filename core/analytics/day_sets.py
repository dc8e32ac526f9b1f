"""Each closed day's distinct users and slowest execution times, stored compactly in
daily_totals by the rollup, so that exact unique users and p95 over a range of days (all
agents, no model filter) read one row per day instead of the per-agent user sets and the events.

- `user_set`: the day's distinct non-empty users as a zlib-compressed JSON array; a range's
  unique users are the size of the union of its days' sets (plus the live days' users).
- `slow_times` / `slow_floor`: the day's top ⌈n/10⌉ execution times, descending, packed
  little-endian uint32, and the largest time not among them (NULL when all n are). A range's
  nearest-rank p95 is its k-th largest time, k = n − ⌈0.95·n⌉ + 1: the k-th largest of the
  stored tails (plus the live days' top k) is exact whenever no day left out a larger time —
  no floor above it (a day that kept ≥ k times cannot have). Otherwise the caller reads the
  events, as before; it also does for days rolled up before these columns existed.
"""

from __future__ import annotations

import json
import struct
import zlib
from datetime import date, timedelta
from itertools import chain
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from core.analytics import today as live_part
from core.analytics.compute import U, range_filter
from core.models import DailyMetric, DailyTotal

T = DailyTotal.__table__.c
M = DailyMetric.__table__.c


EMPTY = zlib.compress(b"[]", 1)


def decode_users(blob: bytes) -> list[str]:
    return json.loads(zlib.decompress(blob))


def encode_times(times: list[int]) -> bytes:
    return struct.pack(f"<{len(times)}I", *times)


def decode_times(blob: bytes) -> tuple[int, ...]:
    return struct.unpack(f"<{len(blob) // 4}I", blob)


def slow_tail(descending: list[int], executions: int) -> tuple[list[int], int | None]:
    """The stored tail of a day's times (given its top ⌈n/10⌉ + 1, descending): (kept, floor)."""
    keep = -(-executions // 10)
    return descending[:keep], (descending[keep] if len(descending) > keep else None)


def tail_limit(executions: int) -> int:
    """How many of a day's times (descending) `slow_tail` needs."""
    return -(-executions // 10) + 1


def p95_rank_from_top(executions: int) -> int:
    """k: the nearest-rank p95 is the k-th largest of `executions` times."""
    return executions - (-(-95 * executions // 100)) + 1


def _closed_rows(session: Session, start: date, stop: date, live: set[date]) -> list[Any]:
    """One row per closed day with events in [start, stop): its stored sets (None if the day
    has none yet — rolled up before they existed)."""
    days = select(M.date).where(M.date >= start, M.date < stop).distinct().subquery()
    query = select(days.c.date, T.user_set, T.slow_times, T.slow_floor).join_from(
        days, DailyTotal.__table__, T.date == days.c.date, isouter=True
    )
    rows = session.execute(query).all()
    if live:
        rows = [r for r in rows if _as_date(r.date) not in live]
    return rows


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def range_figures(
    session: Session, *, start: date, end: date, live: set[date], today: date, executions: int
) -> tuple[int | None, float | None, bool]:
    """(unique users, p95, p95 known) over start..end, all agents, from the stored sets plus
    the live days' events; unique users None / p95 known False where the sets cannot tell."""
    stop = min(end + timedelta(days=1), today)
    rows = _closed_rows(session, start, stop, live) if start < stop else []
    live_in = {d for d in live if start <= d <= end}
    k = p95_rank_from_top(executions) if executions > 0 else 0
    union, live_top = live_part.users_and_top(session, live_in, k)  # one statement per run
    users: int | None = None
    if all(r.user_set is not None for r in rows):
        for r in rows:
            union.update(decode_users(r.user_set))
        users = len(union)
    if executions <= 0:
        return users, None, True
    if any(r.slow_times is None for r in rows):
        return users, None, False
    tails, floor = [live_top], None
    for r in rows:
        kept = decode_times(r.slow_times)
        tails.append(kept)
        if r.slow_floor is not None and len(kept) < k:
            floor = r.slow_floor if floor is None else max(floor, r.slow_floor)
    top = sorted(chain.from_iterable(tails), reverse=True)[:k]  # a few thousand: one C sort
    if len(top) < k or (floor is not None and floor > top[-1]):
        return users, None, False
    return users, float(top[-1]), True


_MARIADB_KEY = (
    "HEX(WEIGHT_STRING(CONVERT(TRIM(TRAILING ' ' FROM {column}) USING utf8mb4){collate}))"
)


def mariadb_key(column: str, collation: str | None = None) -> str:
    return _MARIADB_KEY.format(column=column, collate=f" COLLATE {collation}" if collation else "")


def user_collation(session: Session) -> str:
    return session.execute(
        text(
            "SELECT COLLATION_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() "
            "AND TABLE_NAME = 'usage_logs' AND COLUMN_NAME = 'user_id'"
        )
    ).scalar_one()


def store_totals(session: Session, *, where: str, params: dict) -> None:
    """daily_totals for a computed rollup range (rollup_sql's temporary tables ru_days — each
    day's distinct users, the union of its agents' sets, MariaDB: their collation keys, so that
    a union counts what COUNT(DISTINCT) counts under the column's case- and accent-insensitive
    collation — and ru_agent): each day's distinct users (count and set), p95 and slowest
    times."""
    users = {
        day: (n, blob)
        for day, n, blob in session.execute(text("SELECT day, users, user_set FROM ru_days"))
    }
    executions = dict(
        session.execute(text("SELECT day, SUM(executions) FROM ru_agent GROUP BY day")).all()
    )
    rows = []
    for day in sorted(set(users) | set(executions)):
        n = int(executions.get(day) or 0)
        p95, kept, floor = None, [], None
        if n:
            first = _as_date(day)
            query = (
                select(U.execution_time_ms)
                .where(*range_filter(first, first + timedelta(days=1)))
                .where(U.event_type == "executed")
                .order_by(U.execution_time_ms.desc())
                .limit(tail_limit(n))
            )
            top = [t for (t,) in session.execute(query)]
            p95 = float(top[p95_rank_from_top(n) - 1])
            kept, floor = slow_tail(top, n)
        count, blob = users.get(day) or (0, EMPTY)
        rows.append(
            {
                "day": day,
                "users": count,
                "p95": p95,
                "user_set": blob,
                "slow_times": encode_times(kept),
                "slow_floor": floor,
            }
        )
    session.execute(text(f"DELETE FROM daily_totals WHERE {where}"), params)
    if rows:
        session.execute(
            text(
                "INSERT INTO daily_totals (date, unique_users, p95_execution_ms, user_set, "
                "slow_times, slow_floor) VALUES (:day, :users, :p95, :user_set, :slow_times, "
                ":slow_floor)"
            ),
            rows,
        )
