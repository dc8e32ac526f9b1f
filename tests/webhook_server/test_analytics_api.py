"""`POST /api/analytics/events` and `/aggregate`: tokens, shapes, per-event errors."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from core import auth
from core.analytics import windows
from core.db import session_scope
from core.models import DailyMetric, UsageLog
from webhook_server.analytics import MAX_EVENTS


def _count() -> int:
    with session_scope() as session:
        return session.scalar(select(func.count()).select_from(UsageLog))


def _event(agent: int, **extra) -> dict:  # noqa: ANN003
    return {"agent_id": agent, "event_type": "executed", "user": "ana", "tokens_used": 3} | extra


def test_one_event_and_a_batch_are_stored(client, token, agent):
    headers = {"Authorization": f"Bearer {token}"}
    response = client.post("/api/analytics/events", json=_event(agent), headers=headers)
    assert (response.status_code, response.get_json()) == (201, {"stored": 1})
    batch = {"events": [_event(agent, user=f"u{i}") for i in range(250)]}
    response = client.post("/api/analytics/events", json=batch, headers=headers)
    assert (response.status_code, response.get_json()) == (201, {"stored": 250})
    assert _count() == 251


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer", "Bearer nope", "Basic abc", "ar_not-a-bearer"],
)
def test_missing_or_bad_tokens_get_401(client, token, agent, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    response = client.post("/api/analytics/events", json=_event(agent), headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert token not in response.get_data(as_text=True)
    assert _count() == 0


def test_revoked_token_gets_401(client, token, agent):
    with session_scope(write=True) as session:
        row = auth.verify_api_token(session, token=token)
        auth.revoke_api_token(session, token_id=row.id)
    response = client.post(
        "/api/analytics/events", json=_event(agent), headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 401


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"not json", "must be JSON"),
        (b"[1, 2]", "send one event object"),
        (b'{"events": {"agent_id": 1}}', "must be a list"),
        (b'{"events": []}', "is empty"),
    ],
)
def test_unusable_bodies_get_400(client, token, body, message):
    response = client.post(
        "/api/analytics/events",
        data=body,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert message in response.get_json()["message"]


def test_too_many_events_get_400(client, token, agent):
    batch = {"events": [_event(agent)] * (MAX_EVENTS + 1)}
    response = client.post(
        "/api/analytics/events", json=batch, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 400
    assert f"at most {MAX_EVENTS}" in response.get_json()["message"]
    assert _count() == 0


def test_invalid_events_get_422_with_every_error_and_nothing_is_stored(client, token, agent):
    batch = {
        "events": [
            _event(agent),
            _event(agent, event_type="clicked"),
            _event(agent, tokens_used=-1),
            _event(999_999),
            _event(agent, created_at="2999-01-01T00:00:00Z"),
        ]
    }
    response = client.post(
        "/api/analytics/events", json=batch, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 422
    body = response.get_json()
    assert [(e["index"], e["field"]) for e in body["errors"]] == [
        (1, "event_type"),
        (2, "tokens_used"),
        (3, "agent_id"),
        (4, "created_at"),
    ]
    assert "nothing was stored" in body["message"]
    assert _count() == 0


def test_aggregate_endpoint(client, token, agent):
    headers = {"Authorization": f"Bearer {token}"}
    assert client.post("/api/analytics/aggregate").status_code == 401
    client.post("/api/analytics/events", json=_event(agent), headers=headers)
    response = client.post("/api/analytics/aggregate", headers=headers)
    assert response.status_code == 200
    assert response.get_json() == {"mode": "pending", "days": 1, "written": 2, "deleted": 0}
    today = datetime.now(UTC).date().isoformat()
    response = client.post("/api/analytics/aggregate", json={"date": today}, headers=headers)
    assert response.get_json() == {"mode": "date", "days": 1, "written": 0, "deleted": 0}
    response = client.post("/api/analytics/aggregate", json={"all": True}, headers=headers)
    assert response.get_json()["mode"] == "all"
    response = client.post("/api/analytics/aggregate", json={"date": "soon"}, headers=headers)
    assert response.status_code == 400
    with session_scope() as session:
        assert session.scalar(select(DailyMetric.executions)) == 1
        # the default views' rebuild is the rollup job's, not the HTTP caller's
        assert not windows.is_fresh(session, datetime.now(UTC).date())
