"""API tokens over HTTP: 401 once the creator is deactivated or the token has expired."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from core import auth
from core.db import session_scope
from core.models import ApiToken, utcnow

PATH = "/api/analytics/aggregate"


def _issue(**kwargs) -> auth.IssuedToken:  # noqa: ANN003
    with session_scope(write=True) as session:
        return auth.create_api_token(session, name="cron", **kwargs)


def _post(client, token: str) -> int:  # noqa: ANN001
    return client.post(PATH, json={}, headers={"Authorization": f"Bearer {token}"}).status_code


def test_a_deactivated_creators_token_gets_401(client, people):  # noqa: ANN001
    issued = _issue(created_by_email=people["admin"])
    assert _post(client, issued.token) == 200
    with session_scope(write=True) as session:
        auth.set_active(session, email=people["admin"], active=False)
    assert _post(client, issued.token) == 401
    with session_scope(write=True) as session:  # re-activated: the token works again
        auth.set_active(session, email=people["admin"], active=True)
    assert _post(client, issued.token) == 200


def test_an_expired_token_gets_401(client, db_url):  # noqa: ANN001
    issued = _issue(expires_in_days=7)
    assert _post(client, issued.token) == 200
    with session_scope(write=True) as session:
        session.execute(
            update(ApiToken)
            .where(ApiToken.id == issued.id)
            .values(expires_at=utcnow() - timedelta(minutes=1))
        )
    response = client.post(PATH, json={}, headers={"Authorization": f"Bearer {issued.token}"})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
