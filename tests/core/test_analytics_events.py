"""Event validation and ingest: every refusal, all-or-nothing batches, concurrent writers."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from core import analytics
from core.analytics.events import MAX_INT
from core.db import session_scope
from core.models import RollupQueue, UsageLog


@pytest.fixture
def agent(people, make_agent) -> int:  # noqa: ANN001
    return make_agent(people["developer"], model="gpt-4o-mini").id


def _count() -> int:
    with session_scope() as session:
        return session.scalar(select(func.count()).select_from(UsageLog))


def _valid(agent: int, **extra) -> dict:  # noqa: ANN003
    return {
        "agent_id": agent,
        "event_type": "executed",
        "user": "ana@corp.example",
        "model_name": "gpt-4o",
        "tokens_used": 10,
        "execution_time_ms": 5,
    } | extra


def _future(minutes: float) -> str:
    return (datetime.now(UTC) + timedelta(minutes=minutes)).isoformat()


REFUSALS = [
    ({"agent_id": None}, "agent_id", "required"),
    ({"agent_id": 999_999}, "agent_id", "does not exist"),
    ({"agent_id": -1}, "agent_id", "non-negative"),
    ({"agent_id": "seven"}, "agent_id", "non-negative"),
    ({"agent_id": True}, "agent_id", "boolean"),
    ({"event_type": "clicked"}, "event_type", "must be one of"),
    ({"event_type": None}, "event_type", "must be one of"),
    ({"event_type": ["executed"]}, "event_type", "must be one of"),
    ({"model_name": {"name": "gpt-4o"}}, "model_name", "must be a string"),
    ({"tokens_used": -5}, "tokens_used", "non-negative"),
    ({"tokens_used": 1.5}, "tokens_used", "non-negative"),
    ({"tokens_used": "many"}, "tokens_used", "non-negative"),
    ({"tokens_used": False}, "tokens_used", "boolean"),
    ({"tokens_used": MAX_INT + 1}, "tokens_used", "at most"),
    ({"execution_time_ms": -1}, "execution_time_ms", "non-negative"),
    ({"execution_time_ms": [1]}, "execution_time_ms", "non-negative"),
    ({"created_at": "yesterday-ish"}, "created_at", "ISO 8601"),
    ({"created_at": 1700000000}, "created_at", "ISO 8601"),
    ({"created_at": lambda: _future(25 * 60)}, "created_at", "1 day in the future"),
    ({"created_at": "1999-12-31T23:59:59Z"}, "created_at", "before 2000-01-01"),
    ({"created_at": "0001-01-01T00:00:00+01:00"}, "created_at", "outside the supported range"),
    ({"created_at": "9999-12-31T23:59:59-01:00"}, "created_at", "outside the supported range"),
    ({"tokens_used": "9" * 5000}, "tokens_used", "at most"),
    ({"agent_id": "7" * 5000}, "agent_id", "at most"),
    ({"tokens_used": float("nan")}, "tokens_used", "non-negative"),
    ({"tokens_used": float("inf")}, "tokens_used", "non-negative"),
    ({"tokens_used": 1e300}, "tokens_used", "at most"),
    ({"user": {"id": 1}}, "user", "must be a string"),
    ({"user": "x" * 256}, "user", "at most 255"),
    ({"model_name": "m" * 121}, "model_name", "at most 120"),
]


@pytest.mark.parametrize(("change", "field", "message"), REFUSALS)
def test_each_refusal_names_the_field_and_stores_nothing(agent, change, field, message):
    # Times relative to now are computed when the test runs, not when it is collected.
    event = _valid(agent) | {k: v() if callable(v) else v for k, v in change.items()}
    if change.get("agent_id", 0) is None:
        del event["agent_id"]
    batch = [_valid(agent), event, _valid(agent)]
    with pytest.raises(analytics.EventsRejected) as caught, session_scope(write=True) as session:
        analytics.log_events(session, events=batch)
    (error,) = caught.value.errors
    assert (error.index, error.field) == (1, field)
    assert message in error.message
    assert "nothing was stored" in str(caught.value)
    assert _count() == 0


def test_a_non_object_event_is_refused(agent):
    with pytest.raises(analytics.EventsRejected) as caught, session_scope(write=True) as session:
        analytics.log_events(session, events=[_valid(agent), "executed", 3])
    assert [(e.index, e.field) for e in caught.value.errors] == [(1, "event"), (2, "event")]


def test_valid_events_are_stored_in_utc_with_defaults(agent):
    with session_scope(write=True) as session:
        stored = analytics.log_events(
            session,
            events=[
                _valid(agent, created_at="2026-01-01T23:30:00-02:00"),
                # Executions without a model run the agent's model; numbers may be digit text.
                {"agent_id": str(agent), "event_type": "executed", "tokens_used": "12"},
                {"agent_id": agent, "event_type": "viewed", "user_id": "bo"},
                _valid(agent, created_at=_future(4)),  # within the 5-minute allowance
            ],
        )
    assert stored == 4
    with session_scope() as session:
        rows = session.scalars(select(UsageLog).order_by(UsageLog.id)).all()
        queued = sorted(session.scalars(select(RollupQueue.date)))
    assert rows[0].created_at == datetime(2026, 1, 2, 1, 30, tzinfo=UTC)
    assert (rows[1].model_name, rows[1].tokens_used, rows[1].user_id) == ("gpt-4o-mini", 12, "")
    assert abs(rows[1].created_at - datetime.now(UTC)) < timedelta(minutes=1)
    assert (rows[2].model_name, rows[2].user_id) == (None, "bo")
    assert queued[0].isoformat() == "2026-01-02"


def test_log_event_records_one(agent):
    with session_scope(write=True) as session:
        analytics.log_event(session, agent_id=agent, event_type="viewed", user="u1")
    assert _count() == 1


def test_concurrent_ingest_loses_and_doubles_nothing(agent):
    threads, batches, size = 4, 5, 200
    errors: list[BaseException] = []
    start = threading.Barrier(threads)

    def writer(worker: int) -> None:
        try:
            start.wait()
            for b in range(batches):
                events = [
                    _valid(agent, user=f"w{worker}-b{b}-e{i}", tokens_used=i) for i in range(size)
                ]
                with session_scope(write=True) as session:
                    analytics.log_events(session, events=events)
        except BaseException as error:  # noqa: BLE001
            errors.append(error)

    pool = [threading.Thread(target=writer, args=(w,)) for w in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    assert errors == []
    total = threads * batches * size
    with session_scope() as session:
        count, distinct_users, tokens = session.execute(
            select(
                func.count(),
                func.count(UsageLog.user_id.distinct()),
                func.sum(UsageLog.tokens_used),
            )
        ).one()
    assert (count, distinct_users) == (total, total)
    assert tokens == threads * batches * sum(range(size))
    with session_scope(write=True) as session:
        analytics.rollup_pending(session)
        today = datetime.now(UTC).date()
        figures = analytics.daily_metrics(session, day=today, agent_id=agent)
    assert (figures["executions"], figures["unique_users"]) == (total, total)
