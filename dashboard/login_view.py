"""The logged-out page: email + password form, and single sign-on when configured."""

from __future__ import annotations

import streamlit as st

from core.errors import DomainError
from core.login_throttle import LoginThrottled
from dashboard import identity


def render_login() -> None:
    st.title("Agent Registry")
    st.caption("Governed AI agents: register, approve, discover and measure them.")
    if identity.sso_configured():
        _sso_section()
    with st.form("login"):
        email = st.text_input("Email", placeholder="you@example.com")
        password = st.text_input("Password", type="password")
        submitted = st.form_submit_button("Log in", type="primary")
    if submitted:
        try:
            identity.log_in(email=email, password=password)
        except LoginThrottled as error:  # too many wrong passwords: says how long to wait
            st.warning(str(error), icon=":material/hourglass_top:")
        except DomainError as error:
            st.error(str(error), icon=":material/error:")
        else:
            st.rerun()


def _sso_section() -> None:
    if getattr(st.user, "is_logged_in", False):
        try:
            identity.log_in_by_email(st.user.get("email"))
        except DomainError as error:
            st.error(str(error), icon=":material/error:")
            st.button("Log out of single sign-on", on_click=st.logout)
        else:
            st.rerun()
        return
    st.button("Log in with single sign-on", icon=":material/key:", on_click=st.login)
    st.divider()
