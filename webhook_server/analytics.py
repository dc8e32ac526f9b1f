"""`POST /api/analytics/events` (ingest) and `POST /api/analytics/aggregate` (rollup, for cron).

Both need `Authorization: Bearer <token>` (from `python -m core tokens create`), checked
before the body is read (webhook_server.guard).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, jsonify

from core import analytics
from core.analytics.events import EventsRejected
from core.analytics.runner import roll_up
from core.analytics.validation import rollup_day, shown
from core.auth import verify_api_token
from core.db import session_scope
from webhook_server.guard import bearer_token, json_body

bp = Blueprint("analytics", __name__, url_prefix="/api/analytics")
MAX_EVENTS = 10_000


def _unauthorized():  # noqa: ANN202
    response = jsonify(
        error="Unauthorized",
        message="a valid API token is required: send 'Authorization: Bearer <token>' "
        "(create one with `python -m core tokens create`)",
    )
    response.headers["WWW-Authenticate"] = 'Bearer realm="analytics"'
    return response, 401


def _bad_request(message: str):  # noqa: ANN202
    return jsonify(error="Bad Request", message=message), 400


def _events_from(body: Any) -> list[Any] | str:
    """The list of events in a body, or a message saying why the body is unusable."""
    if isinstance(body, dict) and "events" in body:
        events = body["events"]
        if not isinstance(events, list):
            return "'events' must be a list of event objects"
    elif isinstance(body, dict):
        events = [body]
    else:
        return 'send one event object or {"events": [...]}'
    if not events:
        return "'events' is empty; send at least one event"
    if len(events) > MAX_EVENTS:
        return f"{len(events)} events in one request; send at most {MAX_EVENTS} per request"
    return events


def _authenticated() -> bool:
    """The bearer token is valid (no token: no database work at all)."""
    token = bearer_token()
    if token is None:
        return False
    with session_scope(write=True) as session:
        return verify_api_token(session, token=token) is not None


@bp.post("/events")
def post_events():  # noqa: ANN201
    if not _authenticated():
        return _unauthorized()
    events = _events_from(json_body())
    if isinstance(events, str):
        return _bad_request(events)
    try:
        with session_scope(write=True) as session:
            stored = analytics.log_events(session, events=events)
    except EventsRejected as rejected:
        return jsonify(
            error="ValidationError",
            message=str(rejected),
            errors=[e.as_dict() for e in rejected.errors],
        ), 422
    return jsonify(stored=stored), 201


@bp.post("/aggregate")
def post_aggregate():  # noqa: ANN201
    if not _authenticated():
        return _unauthorized()
    body = json_body(empty={})
    if not isinstance(body, dict):
        return _bad_request('send {}, {"date": "YYYY-MM-DD"} or {"all": true}')
    day = None
    if body.get("date"):
        try:
            day = date.fromisoformat(body["date"] if isinstance(body["date"], str) else "")
        except ValueError:
            return _bad_request(f"date {shown(body['date'])} is not YYYY-MM-DD")
        day = rollup_day(day)  # 422 naming "date" outside the range events may have
    mode = "all" if body.get("all") else "date" if day is not None else "pending"
    # The default views' rebuild (seconds at millions of events) is left to the rollup job.
    result = roll_up(day=day, all_days=mode == "all", refresh_views=False)
    return jsonify(mode=mode, **result.as_dict())
