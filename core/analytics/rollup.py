"""Daily rollups: computed in SQL (rollup_sql), stored in daily_metrics /
daily_model_metrics / daily_agent_user_sets.

Idempotent: re-running for the same days writes the same rows (unchanged rows are not
touched at all). Every ingest batch bumps its days' version in analytics_rollup_queue; a rollup
removes a queue entry only if its version is still the one read before computing, so events
that arrive meanwhile are rolled up by the next run (nothing is ever missed).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.orm import Session

from core.analytics import rollup_sql, rollup_store
from core.analytics.compute import day_runs, day_start
from core.analytics.prices import MICRO, PriceBook, cost_of
from core.analytics.sql import as_date
from core.models import DailyMetric, DailyModelMetric, RollupQueue, UsageLog, utcnow

# The rollup columns as stored (rollup_sql computes them), plus the priced cost.
AGENT_FIELDS = [*rollup_sql.AGENT_COLUMNS, "cost_usd"]
MODEL_FIELDS = [*rollup_sql.MODEL_COLUMNS, "cost_usd"]


@dataclass(frozen=True)
class RollupResult:
    days: int  # days recomputed
    written: int  # rows inserted or changed
    deleted: int  # stale rows removed

    def as_dict(self) -> dict[str, int]:
        return {"days": self.days, "written": self.written, "deleted": self.deleted}


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, Decimal) or isinstance(b, Decimal):
        return Decimal(str(a or 0)).quantize(MICRO) == Decimal(str(b or 0)).quantize(MICRO)
    return a == b


def _queue_snapshot(session: Session, start: date | None, end: date | None) -> dict[date, int]:
    query = select(RollupQueue.date, RollupQueue.version)
    if start is not None:
        query = query.where(RollupQueue.date >= start)
    if end is not None:
        query = query.where(RollupQueue.date < end)
    return {as_date(d): v for d, v in session.execute(query)}


def _dequeue(session: Session, snapshot: dict[date, int]) -> None:
    items = sorted(snapshot.items())
    for i in range(0, len(items), 500):
        part = items[i : i + 500]
        session.execute(
            delete(RollupQueue).where(
                or_(*(and_(RollupQueue.date == d, RollupQueue.version == v) for d, v in part))
            )
        )


@dataclass
class Computed:
    """A rollup of [start, end) (None: every day) computed into the connection's temporary
    tables (rollup_sql), and the queue versions seen before computing."""

    start: date | None
    end: date | None
    days: int
    snapshot: dict[date, int]


def compute_range(session: Session, *, start: date, end: date) -> Computed:
    """Read side of a rollup of [start, end): queue versions first, then the figures."""
    snapshot = _queue_snapshot(session, start, end)
    rollup_sql.compute(session, start=start, end=end)
    return Computed(start, end, max(0, (end - start).days), snapshot)


def compute_all(session: Session) -> Computed:
    """Read side of a rollup of every day with events (a full scan, never a range scan)."""
    snapshot = _queue_snapshot(session, None, None)
    # Two statements: SQLite reads a lone MIN or MAX from the index's end, both at once by a scan.
    first = session.scalar(select(func.min(UsageLog.created_at)))
    last = session.scalar(select(func.max(UsageLog.created_at)))
    rollup_sql.compute(session, start=None, end=None)
    days = 0 if first is None else (last.date() - first.date()).days + 1
    return Computed(None, None, days, snapshot)


def store_computed(session: Session, computed: Computed) -> RollupResult:
    """Write side, on the computing connection: update changed rows, insert missing ones,
    delete stale ones, dequeue days nobody touched since."""
    written, deleted = rollup_store.store(session, start=computed.start, end=computed.end)
    _dequeue(session, computed.snapshot)
    return RollupResult(computed.days, written, deleted)


def rollup_range(session: Session, *, start: date, end: date) -> RollupResult:
    """Recompute and store the rollups of the days in [start, end)."""
    if end <= start:
        return RollupResult(0, 0, 0)
    return store_computed(session, compute_range(session, start=start, end=end))


def rollup_date(session: Session, *, day: date) -> RollupResult:
    """Recompute and store one UTC day's rollups."""
    return rollup_range(session, start=day, end=day + timedelta(days=1))


def rollup_all(session: Session) -> RollupResult:
    """Recompute every day that has events and delete rollups of days that have none."""
    return store_computed(session, compute_all(session))


def pending_days(session: Session) -> list[date]:
    """Days with events not rolled up yet."""
    return sorted(_queue_snapshot(session, None, None))


def pending_runs(session: Session) -> list[tuple[date, date]]:
    """Queued days as [start, end) runs of consecutive days."""
    return day_runs(pending_days(session))


def rollup_pending(session: Session) -> RollupResult:
    """Incremental rollup: recompute only the days that received events since their last run."""
    total = RollupResult(0, 0, 0)
    for start, end in pending_runs(session):
        r = rollup_range(session, start=start, end=end)
        total = RollupResult(
            total.days + r.days, total.written + r.written, total.deleted + r.deleted
        )
    return total


def reprice(session: Session, *, since: date) -> int:
    """Re-cost stored rollups from `since` on after a price change (no raw events read)."""
    prices = PriceBook.load(session)
    t = DailyModelMetric.__table__
    rows = session.execute(
        select(
            t.c.id,
            t.c.date,
            t.c.agent_id,
            t.c.model_name,
            t.c.total_tokens,
            t.c.cost_usd,
            t.c.priced,
        ).where(t.c.date >= since)
    ).all()
    totals: dict[tuple[date, int], Decimal] = {}
    changed = 0
    for r in rows:
        day = as_date(r.date)
        price = prices.price(r.model_name, day)
        cost = cost_of(int(r.total_tokens), price)
        totals[(day, r.agent_id)] = totals.get((day, r.agent_id), Decimal(0)) + cost
        if not _same(cost, r.cost_usd) or bool(r.priced) != (price is not None):
            session.execute(
                update(t).where(t.c.id == r.id).values(cost_usd=cost, priced=price is not None)
            )
            changed += 1
    m = DailyMetric.__table__
    for (day, agent_id), cost in totals.items():
        session.execute(
            update(m)
            .where(m.c.date == day, m.c.agent_id == agent_id, m.c.cost_usd != cost)
            .values(cost_usd=cost, updated_at=utcnow())
        )
    return changed


__all__ = [
    "RollupResult",
    "day_start",
    "pending_days",
    "reprice",
    "rollup_all",
    "rollup_date",
    "rollup_pending",
    "rollup_range",
]
