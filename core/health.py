"""Readiness checks shared by the HTTP server and the dashboard."""

from __future__ import annotations

from sqlalchemy import Connection, text
from sqlalchemy.exc import SQLAlchemyError

from core.db import get_engine

# How long the write probe waits for SQLite's write lock (a readiness check answers quickly).
PROBE_BUSY_TIMEOUT_MS = 1_000


def database_ready() -> tuple[bool, str]:
    """(True, "") when the database answers and accepts writes; else (False, why)."""
    try:
        with get_engine().connect() as connection:
            connection.execute(text("SELECT 1"))
            problem = _write_problem(connection)
            connection.rollback()
    except SQLAlchemyError as error:
        return False, type(error).__name__
    return (False, problem) if problem else (True, "")


def _write_problem(connection: Connection) -> str:
    """Why the database would refuse a write now ("" when it would not). Changes nothing."""
    dialect = connection.dialect.name
    if dialect == "postgresql":
        read_only = connection.execute(text("SHOW transaction_read_only")).scalar()
        return "the database is read-only" if read_only == "on" else ""
    if dialect in ("mysql", "mariadb"):
        read_only = connection.execute(text("SELECT @@global.read_only")).scalar()
        return "the database is read-only" if str(read_only) == "1" else ""
    if dialect != "sqlite":
        return ""
    connection.rollback()  # the probe runs its own transaction on the driver connection
    return _sqlite_write_problem(connection)


def _sqlite_write_problem(connection: Connection) -> str:
    # Rewriting user_version with its own value needs the write lock and a writable file, and
    # is rolled back: a read-only file (or mode=ro) or a lock held too long shows up here.
    raw = connection.connection.dbapi_connection
    cursor = raw.cursor()
    (previous_timeout,) = cursor.execute("PRAGMA busy_timeout").fetchone()
    try:
        cursor.execute(f"PRAGMA busy_timeout={PROBE_BUSY_TIMEOUT_MS}")
        (version,) = cursor.execute("PRAGMA user_version").fetchone()
        cursor.execute("BEGIN IMMEDIATE")
        try:
            cursor.execute(f"PRAGMA user_version={int(version)}")
        finally:
            cursor.execute("ROLLBACK")
    except Exception as error:  # sqlite3.Error: readonly, locked, disk I/O
        message = str(error).splitlines()[0] if str(error) else type(error).__name__
        return f"the database cannot be written: {message}"
    finally:
        cursor.execute(f"PRAGMA busy_timeout={int(previous_timeout)}")
        cursor.close()
    return ""
