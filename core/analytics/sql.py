"""Dialect-specific SQL pieces: the UTC day of a timestamp and portable upserts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import Date, Table, cast, func, literal_column
from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement


def dialect_name(session: Session) -> str:
    return session.get_bind().dialect.name


def day_of(session: Session, column: ColumnElement) -> ColumnElement:
    """The UTC calendar day of a stored (naive UTC) timestamp column."""
    name = dialect_name(session)
    if name == "sqlite":
        # Stored as 'YYYY-MM-DD HH:MM:SS.ffffff' text; the prefix is the day (fast, sortable).
        return func.substr(column, 1, 10)
    if name == "postgresql":
        return cast(column, Date)
    return func.date(column)


def as_date(value: Any) -> date:
    """Days come back as `date` on MariaDB/PostgreSQL and as ISO text on SQLite."""
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def upsert(
    session: Session,
    table: Table,
    rows: Sequence[dict[str, Any]],
    *,
    keys: Sequence[str],
    update: Sequence[str],
) -> None:
    """INSERT … ON CONFLICT/DUPLICATE KEY UPDATE `update` columns, as one executemany."""
    if not rows:
        return
    name = dialect_name(session)
    if name == "mysql":
        stmt = mysql.insert(table)
        stmt = stmt.on_duplicate_key_update({c: stmt.inserted[c] for c in update})
    else:
        dialect = postgresql if name == "postgresql" else sqlite
        stmt = dialect.insert(table)
        stmt = stmt.on_conflict_do_update(
            index_elements=list(keys), set_={c: stmt.excluded[c] for c in update}
        )
    session.execute(stmt, list(rows))


def bump_versions(session: Session, table: Table, *, key: str, values: Sequence[Any]) -> None:
    """Insert `key` rows with version 1, or add 1 to the version of existing ones."""
    if not values:
        return
    name = dialect_name(session)
    rows = [{key: v, "version": 1} for v in sorted(values)]  # one lock order: no deadlocks
    if name == "mysql":
        stmt = mysql.insert(table)
        stmt = stmt.on_duplicate_key_update(version=table.c.version + literal_column("1"))
    else:
        dialect = postgresql if name == "postgresql" else sqlite
        stmt = dialect.insert(table)
        stmt = stmt.on_conflict_do_update(
            index_elements=[key], set_={"version": table.c.version + literal_column("1")}
        )
    session.execute(stmt, rows)
