"""core.sessions: signed, expiring dashboard sessions that logout and deactivation end."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from core import auth, sessions
from core.config import reset_settings
from core.db import session_scope
from core.errors import AuthenticationError
from core.models import DashboardSession, Role, utcnow


@pytest.fixture(autouse=True)
def _secret(monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setenv("SESSION_SECRET", "test-session-secret")
    reset_settings()


def _start(url: str, email: str) -> sessions.IssuedSession:
    with session_scope(url, write=True) as session:
        return sessions.start_session(session, email=email)


def _resolve(url: str, cookie: str | None) -> sessions.SessionUser | None:
    with session_scope(url) as session:
        return sessions.resolve_session(session, cookie=cookie)


def test_a_session_resolves_to_the_current_account(db_url, people):
    issued = _start(db_url, people["developer"].upper())
    assert issued.user == sessions.SessionUser(
        email=people["developer"], name="Dev", role=Role.DEVELOPER
    )
    assert 0 < issued.max_age_seconds <= sessions.session_lifetime().total_seconds()
    assert _resolve(db_url, issued.cookie) == issued.user
    # The role is read fresh on every resolve: a change applies at once.
    with session_scope(db_url, write=True) as session:
        auth.set_role(session, email=people["developer"], role="approver")
    assert _resolve(db_url, issued.cookie).role == Role.APPROVER


def test_only_the_hash_of_the_secret_is_stored(db_url, people):
    issued = _start(db_url, people["developer"])
    token = issued.cookie.rsplit(".", 1)[0]
    with session_scope(db_url) as session:
        stored = session.scalars(select(DashboardSession.token_hash)).all()
    assert len(stored) == 1 and token not in stored[0] and len(stored[0]) == 64


@pytest.mark.parametrize(
    "tamper",
    [
        lambda c: c[:-1] + ("0" if c[-1] != "0" else "1"),  # signature changed
        lambda c: "x" + c,  # secret changed, old signature
        lambda c: c.rsplit(".", 1)[0],  # unsigned
        lambda c: "",
        lambda c: c + "." * 300,
    ],
)
def test_a_forged_or_truncated_cookie_is_refused(db_url, people, tamper):
    issued = _start(db_url, people["developer"])
    assert _resolve(db_url, tamper(issued.cookie)) is None


def test_a_cookie_signed_with_another_key_is_refused(db_url, people, monkeypatch):
    issued = _start(db_url, people["developer"])
    monkeypatch.setenv("SESSION_SECRET", "a-different-key")
    reset_settings()
    assert _resolve(db_url, issued.cookie) is None


def test_logout_ends_the_session_at_once(db_url, people):
    issued = _start(db_url, people["developer"])
    other = _start(db_url, people["developer"])  # another browser
    with session_scope(db_url, write=True) as session:
        assert sessions.end_session(session, cookie=issued.cookie) is True
        assert sessions.end_session(session, cookie=issued.cookie) is False
    assert _resolve(db_url, issued.cookie) is None
    assert _resolve(db_url, other.cookie) is not None


def test_deactivation_ends_every_session_of_the_account(db_url, people):
    issued = _start(db_url, people["developer"])
    with session_scope(db_url, write=True) as session:
        auth.set_active(session, email=people["developer"], active=False)
    assert _resolve(db_url, issued.cookie) is None
    with session_scope(db_url, write=True) as session:
        auth.set_active(session, email=people["developer"], active=True)
        assert sessions.end_user_sessions(session, email=people["developer"]) == 1
    assert _resolve(db_url, issued.cookie) is None  # ended for good, not only while inactive


def test_an_expired_session_is_refused_and_purged(db_url, people):
    issued = _start(db_url, people["developer"])
    with session_scope(db_url, write=True) as session:
        session.execute(update(DashboardSession).values(expires_at=utcnow() - timedelta(days=31)))
    assert _resolve(db_url, issued.cookie) is None
    with session_scope(db_url, write=True) as session:
        assert sessions.purge_sessions(session) == 1


def test_no_session_for_an_inactive_or_unknown_account(db_url, people):
    with session_scope(db_url, write=True) as session:
        auth.set_active(session, email=people["analyst"], active=False)
    for email in (people["analyst"], "nobody@example.com"):
        with pytest.raises(AuthenticationError), session_scope(db_url, write=True) as session:
            sessions.start_session(session, email=email)


def test_without_a_configured_secret_a_key_is_created_once(tmp_path, monkeypatch):
    monkeypatch.setenv("SESSION_SECRET", "")
    reset_settings()
    path = tmp_path / "data" / "session_secret"
    first = sessions._stored_key(path)
    sessions._stored_key.cache_clear()
    assert sessions._stored_key(path) == first and len(first) == 64
    assert path.stat().st_mode & 0o777 == 0o600
