"""Fixtures for dashboard tests: a seeded SQLite database and logged-in AppTest runs."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from core import auth, registry
from core.db import session_scope
from core.models import Source

APP = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"
PASSWORD = "s3cret-pw"
PEOPLE = {
    "analyst": "analyst@example.com",
    "developer": "developer@example.com",
    "developer2": "developer2@example.com",
    "approver": "approver@example.com",
    "admin": "admin@example.com",
}


@pytest.fixture(autouse=True)
def _fresh_streamlit_caches() -> Iterator[None]:
    """Each test's database is new: drop the engines and analytics cached for the last one."""
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


@pytest.fixture
def dash_db(sqlite_url) -> str:  # noqa: ANN001
    """A migrated SQLite database with one account per role (password PASSWORD)."""
    with session_scope(sqlite_url, write=True) as session:
        for key, email in PEOPLE.items():
            auth.create_user(
                session,
                email=email,
                name=key.rstrip("2").title(),
                role=key.rstrip("2"),
                password=PASSWORD,
            )
    return sqlite_url


@pytest.fixture
def add_agent(dash_db) -> Callable[..., int]:  # noqa: ANN001
    def add(owner: str = PEOPLE["developer"], *, submit: bool = False, **fields) -> int:  # noqa: ANN003
        values = {
            "name": "Ticket summariser",
            "description": "Summarises support tickets for the on-call engineer",
            "model": "gpt-4o",
        } | fields
        with session_scope(dash_db, write=True) as session:
            agent = registry.create_agent(session, owner_email=owner, source=Source.CLI, **values)
            if submit:
                registry.submit_agent(
                    session, agent_id=agent.id, actor_email=owner, source=Source.CLI
                )
            return agent.id

    return add


def new_app() -> AppTest:
    return AppTest.from_file(str(APP), default_timeout=30)


def log_in(email: str, password: str = PASSWORD) -> AppTest:
    """A fresh app session logged in through the login form."""
    at = new_app().run()
    fill_login(at, email, password)
    return at


def fill_login(at: AppTest, email: str, password: str) -> AppTest:
    by_label = {w.label: w for w in at.text_input}
    by_label["Email"].input(email)
    by_label["Password"].input(password)
    next(b for b in at.button if b.label == "Log in").click().run()
    return at


def go(at: AppTest, page: str) -> AppTest:
    """Open `app_pages/<page>.py` (it must be in the user's navigation)."""
    at.switch_page(f"app_pages/{page}.py").run()
    # AppTest keeps requesting the switched-to page on every later run, even after the app
    # itself moved on with st.switch_page; a browser follows the app. Do as the browser does.
    at._page_hash = ""
    return at


def messages(elements) -> list[str]:  # noqa: ANN001
    return [e.value for e in elements]


def button(at: AppTest, label: str):  # noqa: ANN201
    return next(b for b in at.button if b.label == label)
