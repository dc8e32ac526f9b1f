"""Dashboard entry (`streamlit run dashboard/app.py`): login, then the pages of the user's role."""

from __future__ import annotations

import sys
from pathlib import Path

# `streamlit run` puts only this folder on sys.path; the project root holds `core`.
PROJECT_ROOT = Path(__file__).resolve().parent.parent
if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))

import streamlit as st  # noqa: E402

from core.safe_markdown import escape_markdown  # noqa: E402
from dashboard import identity, inbox_view, layout  # noqa: E402
from dashboard.login_view import render_login  # noqa: E402
from dashboard.navigation import login_pages, pages_for  # noqa: E402

# A local icon: a `:material/…:` or emoji page icon makes the browser fetch it from a CDN.
ICON = Path(__file__).resolve().parent / "assets" / "icon.png"
st.set_page_config(page_title="Agent Registry", page_icon=str(ICON), layout="wide")

user = identity.resolve_session()
if user is None:
    logged_out = login_pages(render_login)
    page = st.navigation(logged_out, position="hidden")
    if st.session_state.pop(identity.LOGGED_OUT_KEY, False):
        st.switch_page(logged_out[0])  # a new login starts on Overview, not the last page
else:
    page = st.navigation(pages_for(user.role))
    with st.sidebar:
        st.markdown(
            f"**{escape_markdown(user.name)}**  \n{escape_markdown(user.email)} · {user.role.value}"
        )
        inbox_view.sidebar_count(user)
        st.button("Log out", icon=":material/logout:", key="logout", on_click=identity.log_out)
# After st.navigation: what is sent before it is dropped when the set of pages changes.
layout.apply_styles()
identity.sync_cookie()
page.run()
