"""Who is acting, re-read at the moment they act.

Every core function that changes state names its actor by email; these helpers read that
account again inside the caller's transaction (never from a cache or an earlier session)
and refuse when it is unknown, deactivated or lacks the role. A share lock on the row makes
a concurrent demotion or deactivation wait for this transaction, or this one wait for it.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.errors import NotFoundError, PermissionDeniedError
from core.models import Role, User

ADMINS = frozenset({Role.ADMIN})


def reread_user(session: Session, *, email: str) -> User | None:
    """The account with this email as stored now (overwriting anything the session held)."""
    email = (email or "").strip().lower()
    return session.scalar(
        select(User)
        .where(func.lower(User.email) == email)
        .with_for_update(read=True)
        .execution_options(populate_existing=True)
    )


def acting_user(
    session: Session, *, email: str, action: str, roles: Collection[Role] | None = None
) -> User:
    """The active account `email`, holding one of `roles` (any role when None), right now."""
    user = reread_user(session, email=email)
    if user is None:
        raise NotFoundError(f"no active user with email {email}; add one with `users add`")
    if not user.is_active:
        raise PermissionDeniedError(f"{user.email} is deactivated and may not {action}")
    if roles is not None and user.role not in roles:
        allowed = " or ".join(sorted(r.value for r in roles))
        raise PermissionDeniedError(
            f"{user.email} is now a {user.role.value}; only {allowed} accounts may {action}"
        )
    return user


def require_admin(session: Session, *, actor_email: str | None, action: str) -> User | None:
    """For admin operations: check the acting admin now. None means the operator's shell
    (the CLI run by whoever holds the database credentials), which is not checked."""
    if actor_email is None:
        return None
    return acting_user(session, email=actor_email, action=action, roles=ADMINS)
