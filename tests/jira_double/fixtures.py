"""pytest fixtures around the Jira double; import them into a test module to use them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from core.config import reset_settings
from tests.jira_double.server import JiraDouble

WEBHOOK_SECRET = "webhook-secret-for-tests"


@pytest.fixture
def jira() -> Iterator[JiraDouble]:
    with JiraDouble() as double:
        yield double


@pytest.fixture
def jira_env(jira, monkeypatch) -> JiraDouble:  # noqa: ANN001
    """Settings pointing at the double, with fast client retries (no real 1-2-4 s waits)."""
    monkeypatch.setenv("JIRA_BASE_URL", jira.url)
    monkeypatch.setenv("JIRA_EMAIL", jira.email)
    monkeypatch.setenv("JIRA_API_TOKEN", jira.api_token)
    monkeypatch.setenv("JIRA_PROJECT_KEY", jira.project_key)
    monkeypatch.setenv("JIRA_WEBHOOK_SECRET", WEBHOOK_SECRET)
    monkeypatch.setenv("JIRA_RETRY_BASE_SECONDS", "0.01")
    monkeypatch.setenv("JIRA_OUTBOX_RETRY_SECONDS", "0")
    monkeypatch.setenv("WEBHOOK_RETRY_BASE_SECONDS", "0")
    reset_settings()
    return jira
