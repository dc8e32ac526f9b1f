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
from dashboard import identity  # noqa: E402
from dashboard.login_view import render_login  # noqa: E402
from dashboard.navigation import pages_for  # noqa: E402

# A local icon: a `:material/…:` or emoji page icon makes the browser fetch it from a CDN.
ICON = Path(__file__).resolve().parent / "assets" / "icon.png"
st.set_page_config(page_title="Agent Registry", page_icon=str(ICON), layout="wide")

user = identity.current_user()
if user is None:
    st.navigation([st.Page(render_login, title="Log in", icon=":material/login:")]).run()
else:
    with st.sidebar:
        st.markdown(
            f"**{escape_markdown(user.name)}**  \n{escape_markdown(user.email)} · {user.role.value}"
        )
        st.button("Log out", icon=":material/logout:", key="logout", on_click=identity.log_out)
    st.navigation(pages_for(user.role)).run()
