"""Whether a change against the previous period means anything: the previous window of equal
length must hold data for its whole span, else the figure would compare with a few days
(e.g. "+3036 %" against one day of data) and is withheld with the reason.

"Holds data for its whole span" = the filter's first day with any event is on or before the
previous window's first day (data started before the window, so no part of it is missing
because collection had not begun). Days are UTC calendar days, ranges inclusive.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.analytics.compute import day_start
from core.analytics.sql import as_date
from core.models import Agent, DailyMetric, DailyModelMetric, UsageLog


@dataclass(frozen=True)
class Comparison:
    """The previous window of start..end and whether the change figures may be shown."""

    previous_start: date
    previous_end: date
    first_data_day: date | None
    reason: str | None  # why no change figure is shown; None when it is

    @property
    def comparable(self) -> bool:
        return self.reason is None


def previous_window(start: date, end: date) -> tuple[date, date]:
    """The `length` days just before start..end (inclusive), `length` = the range's days."""
    length = (end - start).days + 1
    return start - timedelta(days=length), start - timedelta(days=1)


def compare(start: date, end: date, first_data_day: date | None) -> Comparison:
    """Pure: may start..end be compared with its previous window, given the first day with
    data for the filters (None: no data at all)?"""
    previous_start, previous_end = previous_window(start, end)
    days = (previous_end - previous_start).days + 1
    span = f"the previous {days} day{'s' if days != 1 else ''}"
    if first_data_day is None or first_data_day > previous_end:
        reason = f"no data before {start:%d %b %Y}: nothing to compare with in {span}"
    elif first_data_day > previous_start:
        reason = (
            f"{span} ({previous_start:%d %b} – {previous_end:%d %b %Y}) hold data only "
            f"from {first_data_day:%d %b %Y}: a change would compare with part of the period"
        )
    else:
        reason = None
    return Comparison(previous_start, previous_end, first_data_day, reason)


def first_data_day(
    session: Session, *, agent_id: int | None = None, model_name: str | None = None
) -> date | None:
    """The first UTC day with an event for the filters (with a model: an execution of it).

    The rollups give it cheaply; raw events older than the first rolled-up day (not rolled up
    yet) are looked for with a bounded range scan.
    """
    table = DailyModelMetric if model_name is not None else DailyMetric
    rolled_query = select(func.min(table.date))
    if agent_id is not None:
        rolled_query = rolled_query.where(table.agent_id == agent_id)
    if model_name is not None:
        rolled_query = rolled_query.where(table.model_name == model_name)
    rolled = session.scalar(rolled_query)
    rolled = as_date(rolled) if rolled is not None else None

    raw_query = select(func.min(UsageLog.created_at))
    if rolled is not None:
        raw_query = raw_query.where(UsageLog.created_at < day_start(rolled))
    if agent_id is not None:
        raw_query = raw_query.where(UsageLog.agent_id == agent_id)
    if model_name is not None:
        raw_query = raw_query.where(UsageLog.model_name == model_name)
    raw = session.scalar(raw_query)
    if isinstance(raw, datetime):
        return (raw if raw.tzinfo is None else raw.astimezone(UTC)).date()
    return rolled


def comparison(
    session: Session,
    *,
    start: date,
    end: date,
    agent_id: int | None = None,
    model_name: str | None = None,
) -> Comparison:
    """`compare` for the filters' first day with data."""
    return compare(start, end, first_data_day(session, agent_id=agent_id, model_name=model_name))


def agent_models(session: Session, *, agent_id: int) -> list[str]:
    """The models an agent has run (rollups and events not rolled up yet) and its configured
    model, sorted: the choices for a model filter once the agent is picked."""
    d = DailyModelMetric
    names = set(session.scalars(select(d.model_name).where(d.agent_id == agent_id).distinct()))
    rolled_to = session.scalar(select(func.max(d.date)).where(d.agent_id == agent_id))
    recent = select(UsageLog.model_name).where(
        UsageLog.agent_id == agent_id, UsageLog.model_name.is_not(None)
    )
    if rolled_to is not None:
        recent = recent.where(UsageLog.created_at >= day_start(as_date(rolled_to)))
    names.update(session.scalars(recent.distinct()))
    configured = session.scalar(select(Agent.model).where(Agent.id == agent_id))
    names.add(configured)
    return sorted(n for n in names if n)
