"""Flask fixtures in the flaskr style: an app per test and its test client."""

from __future__ import annotations

import pytest

from webhook_server import create_app


@pytest.fixture
def app(db_url):  # noqa: ANN001
    return create_app({"TESTING": True, "START_WORKER": False})


@pytest.fixture
def client(app):  # noqa: ANN001
    return app.test_client()
