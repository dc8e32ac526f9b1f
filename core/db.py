"""Engines (one per URL, cached) and transactional sessions."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from core.config import get_settings, normalise_database_url

_engines: dict[str, Engine] = {}
_factories: dict[tuple[Engine, bool], sessionmaker[Session]] = {}
_lock = threading.Lock()

SQLITE_BUSY_TIMEOUT_MS = 30_000  # the default of SQLITE_BUSY_TIMEOUT_MS in the settings


def get_engine(url: str | None = None) -> Engine:
    """The engine for `url` (default: DATABASE_URL), created once per process."""
    url = normalise_database_url(url or get_settings().database_url)
    with _lock:
        engine = _engines.get(url)
        if engine is None:
            engine = _create_engine(url)
            _engines[url] = engine
        return engine


def dispose_engines(*, keep: Iterable[str] = ()) -> None:
    """Close and forget every engine but those for `keep` (tests, forked workers)."""
    kept = {normalise_database_url(url) for url in keep}
    with _lock:
        gone = [url for url in _engines if url not in kept]
        for url in gone:
            engine = _engines.pop(url)
            for key in [key for key in _factories if key[0] is engine]:
                del _factories[key]
            engine.dispose()


def _create_engine(url: str) -> Engine:
    parsed = make_url(url)
    echo = get_settings().sql_echo
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:" and not _is_uri(parsed.database):
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        # No pre-ping: a file cannot drop the connection, and the ping cost every checkout.
        engine = create_engine(url, echo=echo, connect_args={"check_same_thread": False})
        _configure_sqlite(engine)
        return engine
    return create_engine(url, echo=echo, pool_pre_ping=True, pool_recycle=3600)


def _is_uri(database: str) -> bool:
    """`sqlite:///file:/path/db?mode=ro&uri=true`: an SQLite URI filename (e.g. read-only)."""
    return database.startswith("file:")


def _configure_sqlite(engine: Engine) -> None:
    busy_timeout_ms = int(get_settings().sqlite_busy_timeout_ms)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):  # noqa: ANN001
        # Let SQLAlchemy emit BEGIN itself so write transactions can BEGIN IMMEDIATE.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        # 64 MiB page cache (default 2 MiB): usage_logs' indexes at a million events no longer
        # thrash on random-order inserts, and range scans stay in memory.
        cursor.execute("PRAGMA cache_size=-65536")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):  # noqa: ANN001
        # A write transaction takes the write lock up front: a read-then-write transaction in
        # WAL mode would otherwise fail with SQLITE_BUSY instead of waiting its turn.
        if conn.get_execution_options().get("sqlite_immediate"):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")


def is_sqlite(engine_or_session: Engine | Session) -> bool:
    bind = (
        engine_or_session.get_bind()
        if isinstance(engine_or_session, Session)
        else engine_or_session
    )
    return bind.dialect.name == "sqlite"


@contextmanager
def session_scope(url: str | None = None, *, write: bool = False) -> Iterator[Session]:
    """A session in one transaction: committed on success, rolled back on error.

    `write=True` marks a transaction that reads and then writes; on SQLite it takes the
    write lock at BEGIN so concurrent writers queue instead of failing.
    """
    factory = _session_factory(get_engine(url), write)
    with factory() as session, session.begin():
        yield session


def _session_factory(engine: Engine, write: bool) -> sessionmaker[Session]:
    # Cached: a new sessionmaker (and option engine) per call cost ~0.8 ms of CPU each time.
    key = (engine, write)
    factory = _factories.get(key)
    if factory is None:
        bind = engine
        if write and engine.dialect.name == "sqlite":
            bind = engine.execution_options(sqlite_immediate=True)
        factory = _factories.setdefault(key, sessionmaker(bind=bind, expire_on_commit=False))
    return factory
