"""Property-based tests (hypothesis) for the event validator and the strict JSON parser.

Whatever an event holds, the validator answers a row inside the sane ranges or `InvalidEvent`
naming a field — never another exception. Whatever bytes arrive, the parser answers a value or
`JSONRejected`. `PROPERTY_MAX_EXAMPLES` bounds the examples (CI runtime).
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.analytics.events import EventValidator, normalise_event
from core.analytics.validation import MAX_INT, EventLimits, InvalidEvent, validate_event
from core.jsonbody import JSONRejected, check_depth, loads

MAX_EXAMPLES = int(os.environ.get("PROPERTY_MAX_EXAMPLES", "30")) * 10
PROPERTY = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
AGENTS = {1: "gpt-4o", 2: "claude-3"}
NOW = datetime(2026, 6, 1, 12, 0, 0)
LIMITS = EventLimits(earliest=datetime(2000, 1, 1), max_future=timedelta(days=1))
FIELDS = {"event", "agent_id", "event_type", "user", "model_name", "tokens_used"}
FIELDS |= {"execution_time_ms", "created_at"}

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=50)
    | st.from_regex(r"\A[0-9]{1,6000}\Z")
    | st.datetimes(timezones=st.timezones()).map(datetime.isoformat)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=10,
)
event_values = st.fixed_dictionaries(
    {},
    optional={
        "agent_id": st.sampled_from([1, 2, "1", " 2 "]) | json_values,
        "event_type": st.sampled_from(["created", "executed", "viewed", "deleted"]) | json_values,
        "user": json_values,
        "model_name": json_values,
        "tokens_used": json_values,
        "execution_time_ms": json_values,
        "created_at": json_values,
    },
)


@PROPERTY
@given(raw=event_values | json_values)
def test_any_event_is_a_sane_row_or_a_refusal_naming_a_field(raw):
    try:
        row = validate_event(raw, known_agents=AGENTS, now=NOW, limits=LIMITS)
    except InvalidEvent as refused:
        assert refused.field in FIELDS
        assert len(refused.message) < 400
        return
    assert row.agent_id in AGENTS
    assert 0 <= row.tokens_used <= MAX_INT
    assert 0 <= row.execution_time_ms <= MAX_INT
    assert LIMITS.earliest <= row.created_at <= NOW + LIMITS.max_future
    assert row.created_at.tzinfo is None
    assert len(row.user_id) <= 255


@PROPERTY
@given(
    agent_id=st.sampled_from(sorted(AGENTS)),
    event_type=st.sampled_from(["created", "executed", "viewed", "deleted"]),
    tokens=st.integers(0, MAX_INT),
    moment=st.datetimes(
        min_value=datetime(2000, 1, 2), max_value=datetime(2026, 6, 2), timezones=st.just(UTC)
    ),
)
def test_events_inside_the_ranges_are_accepted_unchanged(agent_id, event_type, tokens, moment):
    raw = {
        "agent_id": agent_id,
        "event_type": event_type,
        "tokens_used": str(tokens),
        "created_at": moment.isoformat(),
    }
    row = validate_event(raw, known_agents=AGENTS, now=NOW, limits=LIMITS)
    assert (row.agent_id, row.tokens_used) == (agent_id, tokens)
    assert row.created_at == moment.replace(tzinfo=None)


def _answer(validate, raw):
    try:
        row = validate(raw)
    except InvalidEvent as refused:
        return ("refused", refused.field, refused.message)
    assert row.created_at.tzinfo is None
    return row


moments = st.datetimes(
    min_value=datetime(1999, 12, 30), max_value=datetime(2026, 6, 3), timezones=st.timezones()
) | st.datetimes(min_value=datetime(1999, 12, 30), max_value=datetime(2026, 6, 3))
timestamps = (
    moments
    | moments.map(datetime.isoformat)
    | moments.map(lambda m: m.isoformat(" ", "seconds"))
    | moments.map(lambda m: m.replace(tzinfo=None).isoformat() + "Z")
    | moments.map(lambda m: m.replace(tzinfo=None).isoformat()[:10] + "Z")
    | moments.map(lambda m: m.replace(tzinfo=None).isoformat()[:10] + "+00:00")
    | moments.map(lambda m: " " + m.isoformat())
    | st.sampled_from(["", "2026-06-01T12", "2026-06-01T12Z", "20260601T120000+00:00"])
)
padded_text = st.text(alphabet=" \tab", max_size=6)
# Mostly well-formed events (the inline path), each field sometimes at or past its limit.
usual_events = st.fixed_dictionaries(
    {
        "agent_id": st.sampled_from([1, 2]),
        "event_type": st.sampled_from(["created", "executed", "viewed", "deleted"]),
    },
    optional={
        "user": st.none() | padded_text | st.sampled_from([" " * 300, "x" * 255, "x" * 256]),
        "user_id": padded_text,
        "model_name": st.none() | padded_text | st.sampled_from(["m" * 120, " m" * 61]),
        "tokens_used": st.none() | st.integers(-1, MAX_INT + 1) | st.sampled_from(["7", 1.0]),
        "execution_time_ms": st.none() | st.integers(-1, MAX_INT + 1),
        "created_at": st.none() | timestamps,
    },
)
odd_events = usual_events.flatmap(
    lambda event: st.fixed_dictionaries(
        {"agent_id": st.sampled_from([3, -1, True, "1", 2**40]), "event_type": st.just("run")}
    ).map(lambda odd: {**event, **odd})
)


@PROPERTY
@given(raw=usual_events | odd_events | event_values)
def test_the_batch_validator_answers_like_the_per_event_path(raw):
    """EventValidator's inline checks for the usual shapes accept exactly what
    normalise_event accepts, with the same row."""
    validator = EventValidator(known_agents=AGENTS, now=NOW, limits=LIMITS)
    expected = _answer(
        lambda r: normalise_event(r, known_agents=AGENTS, now=NOW, limits=LIMITS), raw
    )
    assert _answer(validator.row, raw) == expected


@PROPERTY
@given(data=st.binary(max_size=200) | st.text(max_size=200).map(str.encode))
def test_any_bytes_parse_or_are_rejected(data):
    try:
        loads(data, max_depth=8)
    except JSONRejected as rejected:
        assert rejected.reason


@PROPERTY
@given(depth=st.integers(1, 3000), opener=st.sampled_from(["[", '{"a":']))
def test_nesting_is_refused_above_the_limit_and_kept_below(depth, opener):
    closer = "]" if opener == "[" else "}"
    text = opener * depth + "1" + closer * depth
    try:
        value = loads(text, max_depth=32)
    except JSONRejected as rejected:
        assert depth > 32
        assert "nested" in rejected.reason
        return
    assert depth <= 32
    check_depth(value, 32)


@PROPERTY
@given(
    value=st.recursive(
        st.none()
        | st.booleans()
        | st.integers()
        | st.floats(allow_nan=False, allow_infinity=False)
        | st.text(max_size=20),
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner),
        max_leaves=20,
    )
)
def test_valid_json_round_trips(value):
    assert loads(json.dumps(value), max_depth=64) == value
