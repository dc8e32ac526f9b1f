"""The request guard: authentication before parsing, size and depth limits, JSON errors, ranges.

Each case here was a 500 (or a wrong 2xx) once; each now gets a 4xx JSON answer naming what is
wrong, and nothing is stored.
"""

from __future__ import annotations

import json
import uuid

import pytest
from sqlalchemy import func, select

from core.config import reset_settings
from core.db import session_scope
from core.jira.signature import sign
from core.models import UsageLog, WebhookEvent

DEEP = b"[" * 100_000 + b"]" * 100_000
SECRET = "guard-secret"


def _events() -> int:
    with session_scope() as session:
        return session.scalar(select(func.count()).select_from(UsageLog))


def _post(client, body: bytes, token: str | None = None, path: str = "/api/analytics/events"):  # noqa: ANN001, ANN202
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return client.post(path, data=body, headers=headers)


@pytest.mark.parametrize("path", ["/api/analytics/events", "/api/analytics/aggregate"])
@pytest.mark.parametrize("authorization", [None, "not-a-token"])
def test_a_deep_body_without_a_valid_token_is_401_not_parsed(client, token, path, authorization):
    response = _post(client, DEEP, authorization, path)
    assert response.status_code == 401
    assert response.get_json()["error"] == "Unauthorized"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (DEEP, "nested too deeply"),
        (b'{"events": ' + b"[" * 40 + b"]" * 40 + b"}", "nested deeper than 32"),
        (b'{"agent_id": NaN, "event_type": "viewed"}', "NaN is not a JSON value"),
        (b'{"agent_id": Infinity, "event_type": "viewed"}', "Infinity is not a JSON value"),
        (b'{"agent_id": ' + b"7" * 5000 + b', "event_type": "viewed"}', "too many digits"),
        (b"\xff\xfe\x00garbage", "must be JSON"),
        (b"", "the body is empty"),
        (b'{"agent_id": 1,', "not valid JSON"),
    ],
)
def test_unusable_json_is_400_naming_the_problem(client, token, body, message):
    response = _post(client, body, token)
    assert response.status_code == 400
    document = response.get_json()
    assert message in document["message"]
    assert _events() == 0


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"tokens_used": "9" * 5000}, "tokens_used", "at most 2147483647"),
        ({"agent_id": "7" * 5000}, "agent_id", "at most 2147483647"),
        ({"tokens_used": 10**400}, "tokens_used", "at most 2147483647"),
        ({"execution_time_ms": 1e300}, "execution_time_ms", "at most 2147483647"),
        ({"created_at": "0001-01-01T00:00:00+01:00"}, "created_at", "outside the supported"),
        ({"created_at": "9999-12-31T23:59:59-01:00"}, "created_at", "outside the supported"),
        ({"created_at": "0001-01-01T00:00:00"}, "created_at", "before 2000-01-01"),
        ({"created_at": "9999-12-31T00:00:00Z"}, "created_at", "1 day in the future"),
        ({"created_at": "x" * 10_000}, "created_at", "not ISO 8601"),
        ({"user": [[[[[]]]]]}, "user", "must be a string"),
    ],
)
def test_out_of_range_values_are_422_naming_the_field(client, token, agent, change, field, message):
    event = {"agent_id": agent, "event_type": "executed", "tokens_used": 1} | change
    response = _post(client, json.dumps({"events": [event]}).encode(), token)
    assert response.status_code == 422
    (error,) = response.get_json()["errors"]
    assert error["field"] == field
    assert message in error["message"]
    assert len(response.get_data()) < 2000  # the refused value is not echoed in full
    assert _events() == 0


def test_the_event_date_range_is_configurable(client, token, agent, monkeypatch):
    monkeypatch.setenv("ANALYTICS_EARLIEST_EVENT", "1990-01-01")
    reset_settings()
    event = {"agent_id": agent, "event_type": "viewed", "created_at": "1995-06-01T00:00:00Z"}
    assert _post(client, json.dumps(event).encode(), token).status_code == 201


def test_a_body_over_the_limit_is_413_with_or_without_content_length(app, token, agent):
    app.config["MAX_CONTENT_LENGTH"] = 1000
    event = {"agent_id": agent, "event_type": "viewed", "user": "u" * 2000}
    body = json.dumps(event).encode()
    client = app.test_client()
    sized = _post(client, body, token)
    chunked = client.post(
        "/api/analytics/events",
        headers={"Authorization": f"Bearer {token}", "Transfer-Encoding": "chunked"},
        environ_overrides=_chunked(body),
    )
    for response in (sized, chunked):
        assert response.status_code == 413
        assert "MAX_CONTENT_LENGTH" in response.get_json()["message"]
    assert _events() == 0


def test_a_chunked_body_under_the_limit_is_read_whole(app, token, agent):
    body = json.dumps({"events": [{"agent_id": agent, "event_type": "viewed"}] * 50}).encode()
    response = app.test_client().post(
        "/api/analytics/events",
        headers={"Authorization": f"Bearer {token}", "Transfer-Encoding": "chunked"},
        environ_overrides=_chunked(body),
    )
    assert (response.status_code, response.get_json()) == (201, {"stored": 50})


def _chunked(body: bytes) -> dict:
    """What gunicorn hands over for a chunked body: no length, a stream the server ends."""
    return {"wsgi.input": _Stream(body), "wsgi.input_terminated": True, "CONTENT_LENGTH": ""}


class _Stream:
    """A wsgi.input without a length, read in small pieces (as a chunked body arrives)."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def read(self, size: int = -1) -> bytes:
        size = min(size if size >= 0 else len(self.data), 100)
        piece, self.data = self.data[:size], self.data[size:]
        return piece


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"date": "9999-12-31"}', "outside"),
        (b'{"date": "1970-01-01"}', "outside"),
    ],
)
def test_aggregate_dates_outside_the_event_range_are_422(client, token, body, message):
    response = _post(client, body, token, "/api/analytics/aggregate")
    assert response.status_code == 422
    assert response.get_json()["field"] == "date"
    assert message in response.get_json()["message"]


@pytest.mark.parametrize(("body", "status"), [(b"", 200), (b"[1]", 400), (DEEP, 400)])
def test_aggregate_bodies(client, token, body, status):
    assert _post(client, body, token, "/api/analytics/aggregate").status_code == status


def test_unknown_routes_and_methods_answer_json(client):
    missing = client.get("/nope")
    wrong_method = client.get("/api/analytics/events")
    assert (missing.status_code, wrong_method.status_code) == (404, 405)
    assert missing.get_json()["error"] == "Not Found"
    assert "POST" in wrong_method.headers["Allow"]


def _signed(client, body: bytes, delivery: str):  # noqa: ANN001, ANN202
    headers = {
        "X-Hub-Signature": sign(SECRET, body),
        "X-Atlassian-Webhook-Identifier": delivery,
        "Content-Type": "application/json",
    }
    return client.post("/api/jira/webhook", data=body, headers=headers)


def _webhook_rows() -> dict[str, WebhookEvent]:
    with session_scope() as session:
        return {row.delivery_id: row for row in session.scalars(select(WebhookEvent))}


def test_webhook_checks_the_signature_before_parsing(client, monkeypatch):
    monkeypatch.setenv("JIRA_WEBHOOK_SECRET", SECRET)
    reset_settings()
    unsigned = client.post("/api/jira/webhook", data=DEEP, headers={"X-Hub-Signature": "sha256=0"})
    assert unsigned.status_code == 401
    signed = _signed(client, DEEP, "deep")
    assert signed.status_code == 400
    assert "nested too deeply" in signed.get_json()["message"]
    assert _webhook_rows()["deep"].status.value == "invalid"


@pytest.mark.parametrize(
    ("timestamp", "status", "stored_ms"),
    [
        (b"NaN", 400, None),
        (b"Infinity", 400, None),
        (b"-Infinity", 400, None),
        (b"1e300", 200, None),
        (str(2**70).encode(), 200, None),
        (b"-5", 200, None),
        (b"1700000000000", 200, 1_700_000_000_000),
    ],
)
def test_webhook_timestamps_out_of_range_are_stored_not_500(
    client, monkeypatch, timestamp, status, stored_ms
):
    monkeypatch.setenv("JIRA_WEBHOOK_SECRET", SECRET)
    reset_settings()
    delivery = str(uuid.uuid4())
    body = b'{"webhookEvent": "board_created", "timestamp": ' + timestamp + b"}"
    response = _signed(client, body, delivery)
    assert response.status_code == status
    assert _webhook_rows()[delivery].event_timestamp_ms == stored_ms


@pytest.mark.parametrize(
    "payload",
    [
        b'{"webhookEvent": ' + b"[" * 900 + b"]" * 900 + b"}",
        b'{"webhookEvent": "jira:issue_updated", "issue": {"key": '
        + b"[" * 900
        + b"]" * 900
        + b"}}",
    ],
)
def test_webhook_fields_nested_deeply_are_stored_not_500(client, monkeypatch, payload):
    monkeypatch.setenv("JIRA_WEBHOOK_SECRET", SECRET)
    reset_settings()
    response = _signed(client, payload, "nested-field")
    assert response.status_code in (200, 400)
    assert "nested-field" in _webhook_rows()
