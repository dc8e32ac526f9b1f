"""Flask fixtures in the flaskr style: an app per test and its test client."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from core import auth, background
from core.db import session_scope
from webhook_server import create_app


@pytest.fixture
def app(db_url):  # noqa: ANN001
    return create_app({"TESTING": True, "START_WORKER": False})


@pytest.fixture
def client(app):  # noqa: ANN001
    return app.test_client()


@pytest.fixture
def token(db_url) -> str:  # noqa: ANN001
    """An API token for the analytics endpoints."""
    with session_scope(write=True) as session:
        return auth.create_api_token(session, name="ingest").token


@pytest.fixture
def agent(people, make_agent) -> int:  # noqa: ANN001
    return make_agent(people["developer"]).id


@pytest.fixture(autouse=True)
def _background_work_finished() -> Iterator[None]:
    """Processing left over from one test must not run against the next test's tables."""
    yield
    assert background.wait_idle(30), "background processing did not finish"
