"""Which pages each role sees, in sidebar order."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from core.models import Role
from dashboard.identity import ADMINS, ALL_ROLES, CREATORS, DECIDERS


@dataclass(frozen=True)
class PageSpec:
    path: str  # relative to dashboard/app.py
    title: str
    icon: str
    roles: frozenset[Role]


# The folder is deliberately not called `pages/`: Streamlit treats a `pages/` folder beside the
# entry script as old-style auto-discovered pages and can run one directly, bypassing the
# role-based navigation built here.
PAGES = (
    PageSpec("app_pages/overview.py", "Overview", ":material/dashboard:", ALL_ROLES),
    PageSpec("app_pages/analytics.py", "Analytics", ":material/monitoring:", ALL_ROLES),
    PageSpec("app_pages/search.py", "Search", ":material/search:", ALL_ROLES),
    PageSpec("app_pages/agents.py", "Agents", ":material/smart_toy:", ALL_ROLES),
    PageSpec("app_pages/agent_form.py", "New / edit agent", ":material/edit_note:", CREATORS),
    PageSpec("app_pages/approvals.py", "Approvals", ":material/fact_check:", DECIDERS),
    PageSpec("app_pages/admin.py", "Admin", ":material/admin_panel_settings:", ADMINS),
)


def page_paths_for(role: Role) -> list[str]:
    return [spec.path for spec in PAGES if role in spec.roles]


def pages_for(role: Role) -> list[st.Page]:
    return [
        st.Page(spec.path, title=spec.title, icon=spec.icon, default=(i == 0))
        for i, spec in enumerate(s for s in PAGES if role in s.roles)
    ]


def login_pages(render_login: Callable[[], None]) -> list[st.Page]:
    """Logged out, every page's address shows the login form (no "Page not found"); the same
    url_path gives the same page hash, so after login the browser stays on the linked page
    with its query (e.g. `/agents?agent=41`)."""
    return [
        st.Page(
            render_login,
            title="Log in",
            icon=":material/login:",
            url_path=Path(spec.path).stem,
            default=(i == 0),
        )
        for i, spec in enumerate(PAGES)
    ]
