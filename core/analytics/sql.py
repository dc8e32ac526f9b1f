"""Dialect-specific SQL pieces: the UTC day of a timestamp, in-memory grouping limits and
the rollup queue's version bump."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from typing import Any

from sqlalchemy import Date, Table, cast, func, literal_column
from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement


@contextmanager
def in_memory_grouping(session: Session) -> Iterator[None]:
    """MariaDB: let a GROUP BY with ~100k groups keep its temporary table in memory (the 16 MiB
    default spills it to disk, 3× slower) and a JSON_ARRAYAGG hold a day's users (the 1 MiB
    group_concat_max_len would cut it); the session's previous limits are restored.
    PostgreSQL: the same for hash aggregates and sorts (work_mem, for this transaction)."""
    if dialect_name(session) == "postgresql":
        session.connection().exec_driver_sql("SET LOCAL work_mem = '256MB'")
        yield
        return
    if dialect_name(session) != "mysql":
        yield
        return
    connection = session.connection()
    old = connection.exec_driver_sql(
        "SELECT @@tmp_table_size, @@max_heap_table_size, @@group_concat_max_len"
    ).one()
    size = max(256 * 2**20, *old[:2])
    connection.exec_driver_sql(
        f"SET SESSION tmp_table_size = {size}, max_heap_table_size = {size}, "
        f"group_concat_max_len = {max(2**30, int(old[2]))}"
    )
    try:
        yield
    finally:
        connection.exec_driver_sql(
            f"SET SESSION tmp_table_size = {int(old[0])}, max_heap_table_size = {int(old[1])}, "
            f"group_concat_max_len = {int(old[2])}"
        )


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
