"""When a change against the previous period may be shown, and the models of one agent."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from core import analytics
from core.analytics.coverage import agent_models, compare, first_data_day, previous_window
from core.db import session_scope
from tests.core.analytics_helpers import at

START, END = date(2026, 10, 29), date(2026, 11, 27)  # 30 days; previous: 29 Sep – 28 Oct


def test_previous_window_has_the_same_length_just_before():
    assert previous_window(START, END) == (date(2026, 9, 29), date(2026, 10, 28))
    assert previous_window(END, END) == (END - timedelta(days=1), END - timedelta(days=1))


@pytest.mark.parametrize("first", [date(2026, 9, 29), date(2025, 1, 1)])
def test_data_from_the_previous_windows_first_day_on_is_comparable(first):
    result = compare(START, END, first)
    assert result.comparable
    assert result.reason is None
    assert (result.previous_start, result.previous_end) == (date(2026, 9, 29), date(2026, 10, 28))


def test_data_starting_inside_the_previous_window_is_not_comparable():
    result = compare(START, END, date(2026, 9, 30))
    assert not result.comparable
    assert result.reason == (
        "the previous 30 days (29 Sep – 28 Oct 2026) hold data only from 30 Sep 2026: "
        "a change would compare with part of the period"
    )
    assert compare(START, END, date(2026, 10, 28)).reason.startswith(
        "the previous 30 days (29 Sep – 28 Oct 2026) hold data only from 28 Oct 2026"
    )


@pytest.mark.parametrize("first", [None, date(2026, 10, 29), date(2026, 11, 20)])
def test_no_data_before_the_range_is_not_comparable(first):
    result = compare(START, END, first)
    assert result.reason == (
        "no data before 29 Oct 2026: nothing to compare with in the previous 30 days"
    )
    assert compare(END, END, None).reason.endswith("in the previous 1 day")


def _event(agent_id: int, day: date, model: str | None = "gpt-4o", kind: str = "executed"):  # noqa: ANN202
    event = {"agent_id": agent_id, "event_type": kind, "user": "u", "created_at": at(day)}
    if kind == "executed":
        event |= {"model_name": model, "tokens_used": 10, "execution_time_ms": 5}
    return event


def test_first_data_day_per_filter_from_rollups_and_unrolled_events(db_url, people, make_agent):
    a, b = (make_agent(people["developer"]).id for _ in range(2))
    today = datetime.now(UTC).date()
    d20, d10, d5 = (today - timedelta(days=n) for n in (20, 10, 5))
    with session_scope(write=True) as session:
        analytics.log_events(
            session,
            events=[
                _event(a, d10, kind="viewed"),
                _event(a, d5, model="gpt-4o"),
                _event(b, d10, model="claude-sonnet-4"),
            ],
        )
        analytics.rollup_all(session)
    with session_scope() as session:
        assert first_data_day(session) == d10
        assert first_data_day(session, agent_id=a) == d10  # a view counts as data
        assert first_data_day(session, agent_id=a, model_name="gpt-4o") == d5
        assert first_data_day(session, model_name="claude-sonnet-4") == d10
        assert first_data_day(session, agent_id=b, model_name="gpt-4o") is None
    # An older event not rolled up yet (queued) is found too.
    with session_scope(write=True) as session:
        analytics.log_events(session, events=[_event(b, d20, model="gpt-4o")])
    with session_scope() as session:
        assert analytics.pending_days(session) == [d20]
        assert first_data_day(session) == d20
        assert first_data_day(session, model_name="gpt-4o") == d20
        assert first_data_day(session, agent_id=a) == d10
        assert agent_models(session, agent_id=b) == ["claude-sonnet-4", "gpt-4o"]
        assert agent_models(session, agent_id=a) == ["gpt-4o"]


def test_agent_models_include_the_configured_model_and_todays(db_url, people, make_agent):
    idle = make_agent(people["developer"], model="mistral-large").id
    busy = make_agent(people["developer"], model="gpt-4o").id
    today = datetime.now(UTC).date()
    with session_scope(write=True) as session:
        analytics.log_events(
            session,
            events=[_event(busy, today - timedelta(days=3), "gpt-4o-mini"), _event(busy, today)],
        )
        analytics.rollup_pending(session)
        analytics.log_events(session, events=[_event(busy, today, "o3")])
    with session_scope() as session:
        assert agent_models(session, agent_id=idle) == ["mistral-large"]
        assert agent_models(session, agent_id=busy) == ["gpt-4o", "gpt-4o-mini", "o3"]
