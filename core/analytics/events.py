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
from datetime import UTC, datetime
from typing import Any, NamedTuple

from core.analytics.validation import (
    MAX_INT,  # noqa: F401  (re-exported)
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


def candidate_agent_ids(events: Iterable[Any]) -> set[int]:
    """The agent ids a batch mentions (to look them up in one query)."""
    ids: set[int] = set()
    for raw in events:
        if isinstance(raw, Mapping):
            with suppress(InvalidEvent):
                ids.add(non_negative_int(raw.get("agent_id"), "agent_id"))
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
    append = rows.append
    limits = EventLimits.from_settings()
    for offset, raw in enumerate(events):
        try:
            append(normalise_event(raw, known_agents=known_agents, now=now, limits=limits))
        except InvalidEvent as invalid:
            errors.append(EventError(first_index + offset, invalid.field, invalid.message))
    return rows, errors
