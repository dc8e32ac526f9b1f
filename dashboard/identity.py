"""Who is logged in: the session cookie, login by password or SSO, logout, role checks.

Every script run resolves the session (cookie or this tab's token) through core.sessions, so a
logout elsewhere, an expiry or a deactivation ends it at once. The browser keeps the cookie;
Streamlit can only read cookies (st.context.cookies, sent when the page connects), so the
cookie is written and cleared by a tiny script (`st.html`, no network), see `sync_cookie`.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from core import auth, sessions
from core.errors import AuthenticationError
from core.models import Role
from dashboard.db import reading, writing

USER_KEY = "current_user"
TOKEN_KEY = "_session_cookie"  # this tab's session cookie value (the browser's may be older)
DROP_COOKIE_KEY = "_drop_session_cookie"  # logged out here: the browser may hold a cookie
LOGGED_OUT_KEY = "_just_logged_out"  # after Log out, the login form at the app's root
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


def current_email() -> str | None:
    """The logged-in account's email (what actions pass to core as the actor)."""
    user = current_user()
    return user.email if user else None


def resolve_session() -> CurrentUser | None:
    """Once per run (app.py): the live session's account, fresh from the database, or None."""
    cookie = st.session_state.get(TOKEN_KEY) or browser_cookie()
    if not cookie:
        st.session_state.pop(USER_KEY, None)
        return None
    with reading() as session:
        found = sessions.resolve_session(session, cookie=cookie)
    if found is None:  # ended, expired, deactivated or forged
        st.session_state.pop(USER_KEY, None)
        st.session_state.pop(TOKEN_KEY, None)
        return None
    st.session_state[TOKEN_KEY] = cookie
    current = CurrentUser(email=found.email, name=found.name, role=found.role)
    st.session_state[USER_KEY] = current
    return current


def browser_cookie() -> str | None:
    """The session cookie the browser sent when this page connected."""
    try:
        value = st.context.cookies.get(sessions.COOKIE_NAME)
    except Exception:  # noqa: BLE001 - no browser (bare script run)
        return None
    return value if isinstance(value, str) and value else None


def sync_cookie() -> None:
    """Make the browser's cookie match this tab's session: write it after login, drop it after
    logout. Rendered on every run where they differ (cheap; the script is idempotent)."""
    wanted = st.session_state.get(TOKEN_KEY)
    sent = browser_cookie()
    if wanted == sent if wanted else not (sent or st.session_state.get(DROP_COOKIE_KEY)):
        return
    if wanted:
        max_age = int(sessions.session_lifetime().total_seconds())
        value = f"{sessions.COOKIE_NAME}={wanted}; path=/; max-age={max_age}; SameSite=Lax"
    else:
        value = f"{sessions.COOKIE_NAME}=; path=/; max-age=0; SameSite=Lax"
    secure = "+ (location.protocol === 'https:' ? '; Secure' : '')"
    # A new key per action: the element mounts afresh, so its script runs (an updated one
    # would not).
    with st.container(key=f"session_cookie_{'set' if wanted else 'drop'}"):
        st.html(
            f"<script>document.cookie = {value!r} {secure};</script>",
            unsafe_allow_javascript=True,
        )


def _start(email: str) -> CurrentUser:
    with writing(clear_caches=False) as session:
        issued = sessions.start_session(session, email=email)
    st.session_state[TOKEN_KEY] = issued.cookie
    st.session_state.pop(DROP_COOKIE_KEY, None)
    current = CurrentUser(email=issued.user.email, name=issued.user.name, role=issued.user.role)
    st.session_state[USER_KEY] = current
    return current


def log_in(*, email: str, password: str) -> CurrentUser:
    """Check the password against core's users and start a session; raises AuthenticationError."""
    # A write (authenticate may upgrade the stored hash) that changes nothing pages show.
    with writing(clear_caches=False) as session:
        user = auth.authenticate(session, email=email, password=password)
        email = user.email
    return _start(email)


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
        email = user.email
    return _start(email)


def log_out() -> None:
    """End the session everywhere, forget what this tab remembered (filters, open agent)."""
    cookie = st.session_state.get(TOKEN_KEY) or browser_cookie()
    with writing(clear_caches=False) as session:
        sessions.end_session(session, cookie=cookie)
    st.session_state.clear()
    st.session_state[DROP_COOKIE_KEY] = True
    st.session_state[LOGGED_OUT_KEY] = True
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
