"""Accounts, roles, password hashing (Argon2) and API tokens (stored only as hashes)."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import login_throttle
from core.actors import require_admin
from core.errors import AuthenticationError, NotFoundError, ValidationError
from core.models import ApiToken, Role, User, utcnow
from core.password_policy import check_password

_hasher = PasswordHasher()
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
TOKEN_PREFIX = "ar_"
LAST_USED_RESOLUTION = timedelta(minutes=1)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


@cache
def _dummy_hash() -> str:
    """A hash no password matches: unknown accounts cost the same Argon2 check as real ones."""
    return _hasher.hash(secrets.token_urlsafe(32))


def verify_password(password_hash: str | None, password: str) -> bool:
    if not password_hash:
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def parse_role(value: str) -> Role:
    try:
        return Role(value.strip().lower())
    except ValueError:
        allowed = ", ".join(r.value for r in Role)
        raise ValidationError(
            f"unknown role '{value}'; use one of: {allowed}", field="role"
        ) from None


def normalise_email(email: str) -> str:
    email = (email or "").strip().lower()
    if not EMAIL_RE.match(email) or len(email) > 255:
        raise ValidationError(f"'{email}' is not a valid email address", field="email")
    return email


def create_user(
    session: Session,
    *,
    email: str,
    name: str,
    role: Role | str,
    password: str | None = None,
    jira_account_id: str | None = None,
    actor_email: str | None = None,
    password_policy: bool = True,
) -> User:
    """A new account; its password must pass `check_password` unless `password_policy` is
    False (only `seed-demo`'s demo accounts, whose password is documented)."""
    require_admin(session, actor_email=actor_email, action="add users")
    email = normalise_email(email)
    name = (name or "").strip()
    if not name or len(name) > 120:
        raise ValidationError("name must be 1 to 120 characters", field="name")
    role = parse_role(role) if isinstance(role, str) else role
    if password is not None and password_policy:
        check_password(password, email=email, name=name)
    if find_user(session, email=email) is not None:
        raise ValidationError(f"a user with email {email} already exists", field="email")
    user = User(
        email=email,
        name=name,
        role=role,
        password_hash=hash_password(password) if password else None,
    )
    session.add(user)
    session.flush()
    if jira_account_id:
        from core.jira.people import link_jira_account  # jira imports this module

        link_jira_account(session, email=email, account_id=jira_account_id)
    return user


def find_user(session: Session, *, email: str) -> User | None:
    email = (email or "").strip().lower()
    return session.scalar(select(User).where(func.lower(User.email) == email))


def get_user(session: Session, *, email: str) -> User:
    """The active user with this email, or a NotFoundError naming it."""
    user = find_user(session, email=email)
    if user is None or not user.is_active:
        raise NotFoundError(f"no active user with email {email}; add one with `users add`")
    return user


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.email)))


def set_role(
    session: Session, *, email: str, role: Role | str, actor_email: str | None = None
) -> User:
    actor = require_admin(session, actor_email=actor_email, action="change roles")
    user = get_user(session, email=email)
    role = parse_role(role) if isinstance(role, str) else role
    if actor is not None and actor.id == user.id and role != Role.ADMIN:
        raise ValidationError("you cannot demote yourself; ask another admin", field="role")
    user.role = role
    return user


def set_active(
    session: Session, *, email: str, active: bool, actor_email: str | None = None
) -> User:
    actor = require_admin(session, actor_email=actor_email, action="activate or deactivate users")
    user = find_user(session, email=email)
    if user is None:
        raise NotFoundError(f"no user with email {email}")
    if actor is not None and actor.id == user.id and not active:
        raise ValidationError("you cannot deactivate yourself; ask another admin", field="email")
    user.is_active = active
    return user


def set_password(session: Session, *, email: str, password: str) -> User:
    user = get_user(session, email=email)
    check_password(password, email=user.email, name=user.name)
    user.password_hash = hash_password(password)
    return user


def authenticate(session: Session, *, email: str, password: str) -> User:
    """The user for these credentials; one message for every failure (no account probing).

    Known and unknown emails cost the same (one Argon2 check) and are throttled alike
    (`core.login_throttle`: `LoginThrottled` says how long to wait). A failure is committed
    before AuthenticationError is raised, so the caller's rollback cannot forget it.
    """
    now = utcnow()
    login_throttle.check_not_locked(session, email=email, now=now)
    dummy = _dummy_hash()
    user = find_user(session, email=email)
    stored = user.password_hash if user is not None and user.password_hash else None
    matches = verify_password(stored or dummy, password) and stored is not None
    if user is None or not user.is_active or not matches:
        login_throttle.record_failure(session, email=email, now=now)
        session.commit()
        raise AuthenticationError("wrong email or password")
    login_throttle.record_success(session, email=email)
    if _hasher.check_needs_rehash(stored):
        user.password_hash = hash_password(password)
    return user


# --- API tokens ---------------------------------------------------------------------------


@dataclass(frozen=True)
class IssuedToken:
    id: int
    name: str
    token: str  # the secret: shown once, never stored
    created_by: str | None = None
    expires_at: str | None = None


def _token_digest(token: str) -> str:
    # Tokens are 256-bit random secrets, so a fast hash is enough (no brute force possible).
    return hashlib.sha256(token.encode()).hexdigest()


MAX_TOKEN_DAYS = 3650


def create_api_token(
    session: Session,
    *,
    name: str,
    created_by_email: str | None = None,
    expires_in_days: int | None = None,
) -> IssuedToken:
    """A new bearer secret. `created_by_email` (an active admin, checked now) is its creator:
    the token stops working when that account is deactivated. None: the operator's shell."""
    creator = require_admin(session, actor_email=created_by_email, action="create API tokens")
    name = (name or "").strip()
    if not name or len(name) > 120:
        raise ValidationError("token name must be 1 to 120 characters", field="name")
    if expires_in_days is not None and not 1 <= expires_in_days <= MAX_TOKEN_DAYS:
        raise ValidationError(f"expiry must be 1 to {MAX_TOKEN_DAYS} days", field="expires_in_days")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        name=name,
        token_hash=_token_digest(secret),
        prefix=secret[:10],
        created_by_id=creator.id if creator else None,
        expires_at=utcnow() + timedelta(days=expires_in_days) if expires_in_days else None,
    )
    session.add(row)
    session.flush()
    expires = row.expires_at.isoformat().replace("+00:00", "Z") if row.expires_at else None
    return IssuedToken(
        id=row.id,
        name=name,
        token=secret,
        created_by=creator.email if creator else None,
        expires_at=expires,
    )


def verify_api_token(session: Session, *, token: str | None) -> ApiToken | None:
    """The live token row for this bearer secret, or None (unknown, revoked, expired, or its
    creator's account is deactivated)."""
    if not token:
        return None
    found = session.execute(
        select(ApiToken, User.is_active)
        .outerjoin(User, User.id == ApiToken.created_by_id)
        .where(ApiToken.token_hash == _token_digest(token))
    ).first()
    if found is None:
        return None
    row, creator_active = found
    now = utcnow()
    if row.revoked_at is not None or (row.expires_at is not None and row.expires_at <= now):
        return None
    if row.created_by_id is not None and not creator_active:
        return None
    if row.last_used_at is None or now - row.last_used_at > LAST_USED_RESOLUTION:
        row.last_used_at = now  # at most one write a minute per token, not one per request
    return row


def list_api_tokens(session: Session) -> list[ApiToken]:
    return list(session.scalars(select(ApiToken).order_by(ApiToken.created_at.desc())))


def list_api_tokens_with_creators(session: Session) -> list[tuple[ApiToken, str | None]]:
    """Every token with its creator's email (None: made from the operator's shell)."""
    query = (
        select(ApiToken, User.email)
        .outerjoin(User, User.id == ApiToken.created_by_id)
        .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    )
    return [(token, email) for token, email in session.execute(query)]


def revoke_api_token(
    session: Session, *, token_id: int, actor_email: str | None = None
) -> ApiToken:
    require_admin(session, actor_email=actor_email, action="revoke API tokens")
    row = session.get(ApiToken, token_id)
    if row is None:
        raise NotFoundError(f"no API token with id {token_id}")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
    return row
