"""Flask fixtures in the flaskr style: an app per test and its test client."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from core import background
from webhook_server import create_app


@pytest.fixture
def app(db_url):  # noqa: ANN001
    return create_app({"TESTING": True, "START_WORKER": False})


@pytest.fixture
def client(app):  # noqa: ANN001
    return app.test_client()


@pytest.fixture(autouse=True)
def _background_work_finished() -> Iterator[None]:
    """Processing left over from one test must not run against the next test's tables."""
    yield
    assert background.wait_idle(30), "background processing did not finish"
