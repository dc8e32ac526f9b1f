"""Who is logged in: the current user in session state, login by password or SSO, role checks."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from core import auth
from core.errors import AuthenticationError
from core.models import Role
from dashboard.db import reading, writing

USER_KEY = "current_user"
ALL_ROLES = frozenset(Role)
CREATORS = frozenset({Role.DEVELOPER, Role.APPROVER, Role.ADMIN})
DECIDERS = frozenset({Role.APPROVER, Role.ADMIN})
ADMINS = frozenset({Role.ADMIN})


@dataclass(frozen=True)
class CurrentUser:
    email: str
    name: str
    role: Role

    def has_role(self, roles: frozenset[Role]) -> bool:
        return self.role in roles


def current_user() -> CurrentUser | None:
    return st.session_state.get(USER_KEY)


def log_in(*, email: str, password: str) -> CurrentUser:
    """Check the password against core's users; raises AuthenticationError."""
    # A write (authenticate may upgrade the stored hash) that changes nothing pages show.
    with writing(clear_caches=False) as session:
        user = auth.authenticate(session, email=email, password=password)
        current = CurrentUser(email=user.email, name=user.name, role=user.role)
    st.session_state[USER_KEY] = current
    return current


def log_in_by_email(email: str | None) -> CurrentUser:
    """Single sign-on: the identity provider vouched for `email`; find its active account."""
    if not email:
        raise AuthenticationError("the identity provider did not share an email address")
    with reading() as session:
        user = auth.find_user(session, email=email)
        if user is None or not user.is_active:
            raise AuthenticationError(
                f"no active account for {email}; ask an admin to add you with `users add`"
            )
        current = CurrentUser(email=user.email, name=user.name, role=user.role)
    st.session_state[USER_KEY] = current
    return current


def log_out() -> None:
    """Forget the user and everything the session remembered for them (filters, open agent)."""
    st.session_state.clear()
    st.query_params.clear()
    if sso_configured() and getattr(st.user, "is_logged_in", False):
        st.logout()


def sso_configured() -> bool:
    """True when `.streamlit/secrets.toml` has an `[auth]` section for st.login (OIDC)."""
    try:
        return "auth" in st.secrets
    except Exception:  # noqa: BLE001 - no secrets file at all
        return False


def require_role(roles: frozenset[Role]) -> CurrentUser:
    """Stop the page unless someone with one of `roles` is logged in."""
    user = current_user()
    if user is None:
        st.warning("Log in to see this page.")
        st.stop()
    if not user.has_role(roles):
        st.error(f"This page is not available to the {user.role.value} role.")
        st.stop()
    return user
