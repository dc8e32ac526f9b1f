"""Usage-event validation: the one place that decides what an event may look like.

An event (DESIGN.md): `{"agent_id": int, "event_type": "created"|"executed"|"viewed"|"deleted",
"user": str, "model_name": str, "tokens_used": int, "execution_time_ms": int,
"created_at": ISO 8601 (default now)}`. Naive timestamps are taken as UTC. Model, tokens and
time belong to executions; an execution without a model runs the agent's configured model.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from core.analytics.validation import (
    MAX_INT,
    EventLimits,
    InvalidEvent,
    non_negative_int,
    parse_timestamp,
    shown,
    text_field,
)
from core.errors import ValidationError
from core.models import EVENT_TYPES

MAX_USER_LENGTH = 255
MAX_MODEL_LENGTH = 120
_EVENT_TYPES = frozenset(EVENT_TYPES)


class EventRow(NamedTuple):
    """A validated event, ready for usage_logs; `created_at` is naive UTC."""

    agent_id: int
    event_type: str
    user_id: str
    model_name: str | None
    tokens_used: int
    execution_time_ms: int
    created_at: datetime


@dataclass(frozen=True)
class EventError:
    """One refused event: its position (index in a batch, or line number in a file)."""

    index: int
    field: str | None
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"index": self.index, "field": self.field, "message": self.message}


class EventsRejected(ValidationError):
    """Some events were invalid, so none were stored; `errors` lists every refusal."""

    def __init__(self, errors: list[EventError], *, total: int, what: str = "event") -> None:
        first = errors[0]
        super().__init__(
            f"{len(errors)} of {total} events are invalid (first: {what} {first.index}: "
            f"{first.message}); nothing was stored — fix them and send again",
            field=first.field,
        )
        self.errors = errors


def normalise_event(
    raw: Any,
    *,
    known_agents: Mapping[int, str],
    now: datetime,
    limits: EventLimits | None = None,
) -> EventRow:
    """The usage_logs row for one raw event, or `InvalidEvent` naming the field.

    `now` is naive UTC; `limits` default to the settings (see core.analytics.validation).
    """
    if type(raw) is not dict and not isinstance(raw, Mapping):
        raise InvalidEvent("event", f"an event must be a JSON object, got {type(raw).__name__}")
    agent_id = raw.get("agent_id")
    if agent_id is None or agent_id == "":
        raise InvalidEvent("agent_id", "agent_id is required")
    agent_id = non_negative_int(agent_id, "agent_id")
    model = known_agents.get(agent_id)
    if model is None:
        raise InvalidEvent("agent_id", f"agent {agent_id} does not exist")
    event_type = raw.get("event_type")
    if type(event_type) is not str or event_type not in _EVENT_TYPES:
        raise InvalidEvent(
            "event_type",
            f"event_type must be one of {', '.join(EVENT_TYPES)}, got {shown(event_type)}",
        )
    user = raw.get("user")
    if user is None:
        user = raw.get("user_id")
    given_model = text_field(raw.get("model_name"), "model_name", MAX_MODEL_LENGTH)
    if not given_model:
        given_model = model if event_type == "executed" else None
    return EventRow(
        agent_id,
        event_type,
        text_field(user, "user", MAX_USER_LENGTH),
        given_model,
        non_negative_int(raw.get("tokens_used"), "tokens_used"),
        non_negative_int(raw.get("execution_time_ms"), "execution_time_ms"),
        parse_timestamp(raw.get("created_at"), now=now, limits=limits),
    )


class EventValidator:
    """`normalise_event` for a batch, with the agents, `now` and the limits bound once.

    Events in the usual shape (int ids and counts, short strings, ISO text in UTC or naive)
    are accepted inline; anything else goes through `normalise_event`, which accepts or
    refuses it with its message — so both paths give the same answer for every input.
    """

    __slots__ = ("agents", "now", "limits", "earliest", "latest")

    def __init__(self, *, known_agents: Mapping[int, str], now: datetime, limits: EventLimits):
        self.agents = known_agents
        self.now = now
        self.limits = limits
        self.earliest = limits.earliest
        try:  # `t - now > max_future` ⇔ `t > latest`
            self.latest = now + limits.max_future
        except OverflowError:
            self.latest = datetime.max

    def row(self, raw: Any) -> EventRow:
        if type(raw) is dict:
            get = raw.get
            agent_id = get("agent_id")
            model = self.agents.get(agent_id) if type(agent_id) is int else None
            event_type = get("event_type")
            user = get("user")
            if user is None:
                user = get("user_id")
            given = get("model_name")
            tokens = get("tokens_used", 0)
            duration = get("execution_time_ms", 0)
            moment = _utc_moment(get("created_at"), self.now)
            if (
                model is not None
                and type(event_type) is str
                and event_type in _EVENT_TYPES
                and (type(user) is str and len(user) <= MAX_USER_LENGTH or user is None)
                and (type(given) is str and len(given) <= MAX_MODEL_LENGTH or given is None)
                and type(tokens) is int
                and 0 <= tokens <= MAX_INT
                and type(duration) is int
                and 0 <= duration <= MAX_INT
                and moment is not None
                and self.earliest <= moment <= self.latest
            ):
                given = given.strip() if given else None
                return _new_row(
                    EventRow,
                    (
                        agent_id,
                        event_type,
                        user.strip() if user else "",
                        given or (model if event_type == "executed" else None),
                        tokens,
                        duration,
                        moment,
                    ),
                )
        return normalise_event(raw, known_agents=self.agents, now=self.now, limits=self.limits)


_ZERO = timedelta(0)
_new_row = tuple.__new__  # EventRow(...) without NamedTuple's keyword handling: ⅔ the cost
_fromisoformat = datetime.fromisoformat


def _utc_moment(value: Any, now: datetime) -> datetime | None:
    """Naive UTC for the usual `created_at` values (None/"" → now), else None (the full path
    decides)."""
    if type(value) is str:
        if not value:
            return now
        if len(value) > 64:
            return None
        # A UTC offset after a time (past the 10 characters of a date) is cut off before
        # parsing: `replace(tzinfo=None)` costs 4× the parse.
        if value.endswith("+00:00") and len(value) > 16:
            value = value[:-6]
        elif value.endswith("Z") and len(value) > 11:
            value = value[:-1]
        try:
            value = _fromisoformat(value)
        except ValueError:
            return None
        return value if value.tzinfo is None else None
    if value is None:
        return now
    if type(value) is not datetime:
        return None
    offset = value.utcoffset()
    if offset is None:
        return value
    return value.replace(tzinfo=None) if offset == _ZERO else None


def candidate_agent_ids(events: Iterable[Any]) -> set[int]:
    """The agent ids a batch mentions (to look them up in one query)."""
    ids: set[int] = set()
    add = ids.add
    for raw in events:
        if type(raw) is dict:
            agent_id = raw.get("agent_id")
            if type(agent_id) is int and 0 <= agent_id <= MAX_INT:
                add(agent_id)
                continue
        if isinstance(raw, Mapping):
            with suppress(InvalidEvent):
                add(non_negative_int(raw.get("agent_id"), "agent_id"))
    return ids


def naive_utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def validate_events(
    events: list[Any],
    *,
    known_agents: Mapping[int, str],
    now: datetime | None = None,
    first_index: int = 0,
) -> tuple[list[EventRow], list[EventError]]:
    """Rows for the valid events and one error per invalid one (indexes from `first_index`)."""
    now = naive_utcnow() if now is None else now.astimezone(UTC).replace(tzinfo=None)
    rows: list[EventRow] = []
    errors: list[EventError] = []
    row = EventValidator(known_agents=known_agents, now=now, limits=EventLimits.from_settings()).row
    try:  # the whole batch in one comprehension while every event is valid (the usual case)
        return [row(raw) for raw in events], errors
    except InvalidEvent:
        pass
    append = rows.append
    for offset, raw in enumerate(events):
        try:
            append(row(raw))
        except InvalidEvent as invalid:
            errors.append(EventError(first_index + offset, invalid.field, invalid.message))
    return rows, errors
