"""Accounts, password hashing and API tokens, on every backend."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core import auth
from core.db import session_scope
from core.errors import AuthenticationError, NotFoundError, ValidationError
from core.models import ApiToken, Role, User


def test_password_is_hashed_with_argon2_and_verified(db_url):
    with session_scope(write=True) as session:
        auth.create_user(
            session, email="Ann@Example.com", name="Ann", role="approver", password="s3cret!!"
        )
    with session_scope() as session:
        user = session.scalar(select(User))
        assert user.email == "ann@example.com"
        assert user.role == Role.APPROVER
        assert user.password_hash.startswith("$argon2id$")
        assert "s3cret!!" not in user.password_hash
        assert (
            auth.authenticate(session, email="ANN@example.com", password="s3cret!!").id == user.id
        )


@pytest.mark.parametrize(
    ("email", "password"),
    [("ann@example.com", "wrong"), ("nobody@example.com", "s3cret!!"), ("sso@example.com", "")],
)
def test_failed_logins_share_one_message(db_url, email, password):  # noqa: ANN001
    with session_scope(write=True) as session:
        auth.create_user(
            session, email="ann@example.com", name="Ann", role="analyst", password="s3cret!!"
        )
        auth.create_user(session, email="sso@example.com", name="Sso", role="analyst")
    with (
        pytest.raises(AuthenticationError, match="^wrong email or password$"),
        session_scope() as s,
    ):
        auth.authenticate(s, email=email, password=password)


def test_deactivated_user_cannot_log_in(db_url):
    with session_scope(write=True) as session:
        auth.create_user(
            session, email="ann@example.com", name="Ann", role="analyst", password="s3cret!!"
        )
        auth.set_active(session, email="ann@example.com", active=False)
    with pytest.raises(AuthenticationError), session_scope() as session:
        auth.authenticate(session, email="ann@example.com", password="s3cret!!")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"email": "not-an-email"}, "is not a valid email address"),
        ({"name": ""}, "name must be 1 to 120 characters"),
        ({"role": "superuser"}, "unknown role 'superuser'; use one of: analyst, developer"),
        ({"password": "abc"}, "password must be at least 8 characters"),
        ({"password": "password1"}, "list of commonly used passwords"),
    ],
)
def test_user_validation(db_url, fields, message):  # noqa: ANN001
    values = {
        "email": "ann@example.com",
        "name": "Ann",
        "role": "analyst",
        "password": None,
    } | fields
    with pytest.raises(ValidationError, match=message), session_scope(write=True) as session:
        auth.create_user(session, **values)


def test_duplicate_email_refused(db_url):
    with session_scope(write=True) as session:
        auth.create_user(session, email="ann@example.com", name="Ann", role="analyst")
    with pytest.raises(ValidationError, match="already exists"), session_scope(write=True) as s:
        auth.create_user(s, email="ANN@example.com", name="Ann 2", role="analyst")


def test_api_token_stored_only_as_hash_and_revocable(db_url):
    with session_scope(write=True) as session:
        issued = auth.create_api_token(session, name="ingest")
    assert issued.token.startswith("ar_") and len(issued.token) > 40
    with session_scope() as session:
        row = session.scalar(select(ApiToken))
        assert issued.token not in (row.token_hash, row.prefix)
        assert row.last_used_at is None
        assert auth.verify_api_token(session, token=issued.token).id == row.id
        assert row.last_used_at is not None
        assert auth.verify_api_token(session, token=issued.token + "x") is None
        assert auth.verify_api_token(session, token="") is None
    with session_scope(write=True) as session:
        auth.revoke_api_token(session, token_id=issued.id)
    with session_scope() as session:
        assert auth.verify_api_token(session, token=issued.token) is None
    with pytest.raises(NotFoundError), session_scope(write=True) as session:
        auth.revoke_api_token(session, token_id=12345)
