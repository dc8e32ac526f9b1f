"""Shared fixtures: a migrated database on every configured backend, users and agents.

SQLite always runs. MariaDB and PostgreSQL run when TEST_MYSQL_URL / TEST_POSTGRES_URL are
set; under CI (CI=true) a missing one is an error, not a skip.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import delete

from core import auth, registry
from core.config import reset_settings
from core.db import dispose_engines, get_engine, session_scope
from core.migrate import upgrade_to_head
from core.models import Agent, Base, Role, Source, User
from core.search.memory_index import forget_memory_indexes

BACKEND_ENV = {"mysql": "TEST_MYSQL_URL", "postgres": "TEST_POSTGRES_URL"}
IN_CI = os.environ.get("CI", "").lower() == "true"


def _backends() -> list[str]:
    backends = ["sqlite"]
    for name, env in BACKEND_ENV.items():
        if os.environ.get(env):
            backends.append(name)
        elif IN_CI:
            raise pytest.UsageError(f"CI=true but {env} is not set: every backend must run in CI")
    return backends


@pytest.fixture(scope="session")
def _migrated_urls(tmp_path_factory) -> dict[str, str]:  # noqa: ANN001
    return {}


def _migrated(backend: str, cache: dict[str, str], tmp_path_factory) -> str:  # noqa: ANN001
    if backend not in cache:
        if backend == "sqlite":
            url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
        else:
            url = os.environ[BACKEND_ENV[backend]]
        upgrade_to_head(url)
        cache[backend] = url
    return cache[backend]


def empty_all_tables(url: str) -> None:
    with get_engine(url).begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(delete(table))


@pytest.fixture(params=_backends())
def db_url(request, _migrated_urls, tmp_path_factory, monkeypatch) -> Iterator[str]:  # noqa: ANN001
    """A migrated, empty database on each backend; DATABASE_URL points at it."""
    url = _migrated(request.param, _migrated_urls, tmp_path_factory)
    empty_all_tables(url)
    monkeypatch.setenv("DATABASE_URL", url)
    reset_settings()
    yield url
    reset_settings()


@pytest.fixture
def sqlite_url(tmp_path, monkeypatch) -> Iterator[str]:  # noqa: ANN001
    """A fresh migrated SQLite database only (for tests that are not about the backend)."""
    url = f"sqlite:///{tmp_path / 'registry.db'}"
    upgrade_to_head(url)
    monkeypatch.setenv("DATABASE_URL", url)
    reset_settings()
    yield url
    reset_settings()


@pytest.fixture(autouse=True)
def _isolated_settings(monkeypatch) -> Iterator[None]:  # noqa: ANN001
    """Tests never see a developer's Jira or deploy settings unless they set them."""
    for name in ("JIRA_BASE_URL", "JIRA_WEBHOOK_SECRET", "DEPLOY_WEBHOOK_URL", "DASHBOARD_URL"):
        monkeypatch.setenv(name, "")
    reset_settings()
    yield
    reset_settings()


@pytest.fixture(autouse=True)
def _release_test_databases(_migrated_urls) -> Iterator[None]:  # noqa: ANN001
    """Close the engines of databases a test made (per-test SQLite files) and drop the search
    indexes: cached per URL, they would otherwise pile up for the whole session (pools, page
    caches, matrices). The session-long migrated databases keep their engines."""
    yield
    dispose_engines(keep=_migrated_urls.values())
    forget_memory_indexes()


@pytest.fixture(scope="session", autouse=True)
def _dispose_engines_at_end() -> Iterator[None]:
    yield
    dispose_engines()


@pytest.fixture
def make_user(db_url) -> Callable[..., User]:  # noqa: ANN001
    def make(email: str, role: Role | str = Role.DEVELOPER, password: str | None = None) -> User:
        with session_scope(db_url, write=True) as session:
            return auth.create_user(
                session, email=email, name=email.split("@")[0].title(), role=role, password=password
            )

    return make


@pytest.fixture
def people(make_user) -> dict[str, str]:  # noqa: ANN001
    """One account per role plus a second developer and approver; values are emails."""
    emails = {
        "developer": "dev@example.com",
        "developer2": "dev2@example.com",
        "approver": "approver@example.com",
        "approver2": "approver2@example.com",
        "analyst": "analyst@example.com",
        "admin": "admin@example.com",
    }
    for key, email in emails.items():
        make_user(email, key.rstrip("2"))
    return emails


@pytest.fixture
def make_agent(db_url) -> Callable[..., Agent]:  # noqa: ANN001
    counter = iter(range(1, 1_000_000))

    def make(owner_email: str, **fields) -> Agent:  # noqa: ANN003
        n = next(counter)
        values = {
            "name": f"Agent {n}",
            "description": f"Test agent number {n} that summarises support tickets",
            "model": "gpt-4o",
        } | fields
        with session_scope(db_url, write=True) as session:
            return registry.create_agent(
                session, owner_email=owner_email, source=Source.CLI, **values
            )

    return make
