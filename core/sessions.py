"""Dashboard login sessions: a signed, expiring cookie backed by a server-side row.

The cookie value is `<secret>.<signature>`: a 256-bit random secret (only its SHA-256 is
stored) and an HMAC-SHA256 of it with the session key, so a forged or truncated cookie is
refused before the database is asked. Each request resolves the cookie to the *current*
account: logging out, expiry or deactivating the account ends the session at once.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from core import auth
from core.config import PROJECT_ROOT, get_settings
from core.errors import AuthenticationError
from core.models import DashboardSession, Role, User, utcnow

COOKIE_NAME = "ar_session"
SECRET_FILE = PROJECT_ROOT / "data" / "session_secret"


@dataclass(frozen=True)
class SessionUser:
    """Who a live session belongs to, read fresh from the account on every resolve."""

    email: str
    name: str
    role: Role


@dataclass(frozen=True)
class IssuedSession:
    cookie: str  # the cookie value: shown to the browser once, never stored
    expires_at: datetime
    user: SessionUser

    @property
    def max_age_seconds(self) -> int:
        return max(0, int((self.expires_at - utcnow()).total_seconds()))


def session_lifetime() -> timedelta:
    return timedelta(hours=get_settings().session_hours)


def start_session(session: Session, *, email: str) -> IssuedSession:
    """A new session for the active account `email` (already authenticated by the caller)."""
    user = auth.find_user(session, email=email)
    if user is None or not user.is_active:
        raise AuthenticationError(f"no active account for {email}")
    purge_sessions(session)  # logins are rare enough to keep the table small as they happen
    token = secrets.token_urlsafe(32)
    row = DashboardSession(
        token_hash=_digest(token), user_id=user.id, expires_at=utcnow() + session_lifetime()
    )
    session.add(row)
    session.flush()
    return IssuedSession(
        cookie=f"{token}.{_sign(token)}", expires_at=row.expires_at, user=_view(user)
    )


def resolve_session(session: Session, *, cookie: str | None) -> SessionUser | None:
    """The account behind `cookie` if its session is live and the account active, else None."""
    row = _live_row(session, cookie)
    if row is None:
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.is_active:
        return None
    return _view(user)


def end_session(session: Session, *, cookie: str | None) -> bool:
    """Log out: the cookie stops working everywhere at once. False if it was not live."""
    row = _live_row(session, cookie)
    if row is None:
        return False
    row.ended_at = utcnow()
    return True


def end_user_sessions(session: Session, *, email: str) -> int:
    """End every live session of an account (e.g. when it is deactivated); returns how many."""
    user = auth.find_user(session, email=email)
    if user is None:
        return 0
    result = session.execute(
        update(DashboardSession)
        .where(DashboardSession.user_id == user.id, DashboardSession.ended_at.is_(None))
        .values(ended_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


def purge_sessions(session: Session, *, older_than: timedelta = timedelta(days=30)) -> int:
    """Delete sessions that ended or expired more than `older_than` ago."""
    cutoff = utcnow() - older_than
    result = session.execute(
        delete(DashboardSession).where(
            or_(DashboardSession.expires_at < cutoff, DashboardSession.ended_at < cutoff)
        )
    )
    return result.rowcount or 0


def _live_row(session: Session, cookie: str | None) -> DashboardSession | None:
    token = _verified_token(cookie)
    if token is None:
        return None
    row = session.scalar(
        select(DashboardSession).where(DashboardSession.token_hash == _digest(token))
    )
    if row is None or row.ended_at is not None or row.expires_at <= utcnow():
        return None
    return row


def _verified_token(cookie: str | None) -> str | None:
    if not isinstance(cookie, str) or len(cookie) > 256:
        return None
    token, _, signature = cookie.strip().rpartition(".")
    if not token or not signature:
        return None
    return token if hmac.compare_digest(signature, _sign(token)) else None


def _view(user: User) -> SessionUser:
    return SessionUser(email=user.email, name=user.name, role=user.role)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _sign(token: str) -> str:
    return hmac.new(_key(), token.encode(), hashlib.sha256).hexdigest()


def _key() -> bytes:
    configured = get_settings().session_secret
    return configured.encode() if configured else _stored_key(SECRET_FILE)


@lru_cache(maxsize=4)
def _stored_key(path: Path) -> bytes:
    """A random key kept beside the embedded database, created on first use (mode 0600)."""
    try:
        return path.read_bytes().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32).encode()
    try:
        with path.open("xb") as handle:  # another process may win the race: then read theirs
            path.chmod(0o600)
            handle.write(key)
        return key
    except FileExistsError:
        return path.read_bytes().strip()
