"""Dialect-specific SQL pieces: the UTC day of a timestamp and portable upserts."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Date, Table, cast, func, literal_column
from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement


@contextmanager
def in_memory_grouping(session: Session) -> Iterator[None]:
    """MariaDB: let a GROUP BY with ~100k groups keep its temporary table in memory (the 16 MiB
    default spills it to disk, 3× slower); the session's previous limits are restored.
    PostgreSQL: the same for hash aggregates and sorts (work_mem, for this transaction)."""
    if dialect_name(session) == "postgresql":
        session.connection().exec_driver_sql("SET LOCAL work_mem = '256MB'")
        yield
        return
    if dialect_name(session) != "mysql":
        yield
        return
    connection = session.connection()
    old = connection.exec_driver_sql("SELECT @@tmp_table_size, @@max_heap_table_size").one()
    size = max(256 * 2**20, *old)
    connection.exec_driver_sql(f"SET SESSION tmp_table_size = {size}, max_heap_table_size = {size}")
    try:
        yield
    finally:
        connection.exec_driver_sql(
            f"SET SESSION tmp_table_size = {int(old[0])}, max_heap_table_size = {int(old[1])}"
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


def _naive_utc(value: datetime) -> datetime:
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value


def _converter(sample: Any, dialect: str) -> Callable[[Any], Any] | None:
    """How SQLAlchemy would pass a column's values to the driver (SQLite: dates as ISO text,
    Decimal as float; datetimes as naive UTC), or None when they go as they are."""
    if isinstance(sample, datetime):
        if dialect == "sqlite":
            return lambda v: _naive_utc(v).isoformat(" ", "microseconds")
        return _naive_utc
    if dialect == "sqlite" and isinstance(sample, date):
        return date.isoformat
    if dialect == "sqlite" and isinstance(sample, Decimal):
        return float
    return None


def _driver_rows(rows: Sequence[dict[str, Any]], columns: list[str], dialect: str) -> list:
    """Rows as driver tuples, converting only the columns that need it, column by column."""
    values = [[row[c] for row in rows] for c in columns]
    for i, column in enumerate(values):
        convert = _converter(next((v for v in column if v is not None), None), dialect)
        if convert is not None:
            values[i] = [None if v is None else convert(v) for v in column]
    return list(zip(*values, strict=True))


def _copy_upsert(connection, table: str, columns: list[str], params: list, tail: str, q) -> None:  # noqa: ANN001
    """PostgreSQL: COPY the rows into a temporary table, then one INSERT … SELECT … ON CONFLICT
    (psycopg's executemany costs a round trip per row)."""
    names = ", ".join(map(q, columns))
    staging = q(f"staging_{table}")
    connection.exec_driver_sql(
        f"CREATE TEMPORARY TABLE {staging} ON COMMIT DROP AS "
        f"SELECT {names} FROM {q(table)} WITH NO DATA"
    )
    cursor = connection.connection.dbapi_connection.cursor()
    with cursor.copy(f"COPY {staging} ({names}) FROM STDIN") as copy:
        for row in params:
            copy.write_row(row)
    connection.exec_driver_sql(
        f"INSERT INTO {q(table)} ({names}) SELECT {names} FROM {staging} {tail}"
    )
    connection.exec_driver_sql(f"DROP TABLE {staging}")


def upsert(
    session: Session,
    table: Table,
    rows: Sequence[dict[str, Any]],
    *,
    keys: Sequence[str],
    update: Sequence[str],
) -> None:
    """INSERT … ON CONFLICT/DUPLICATE KEY UPDATE `update` columns, as one driver executemany
    (SQLAlchemy's per-value processing would cost more than the statement at 100k rows)."""
    if not rows:
        return
    name = dialect_name(session)
    columns = list(rows[0])
    q = session.get_bind().dialect.identifier_preparer.quote
    marker = "?" if name == "sqlite" else "%s"
    one_row = f"({', '.join([marker] * len(columns))})"
    if name == "mysql":
        tail = "ON DUPLICATE KEY UPDATE " + ", ".join(f"{q(c)} = VALUES({q(c)})" for c in update)
    else:
        tail = f"ON CONFLICT ({', '.join(map(q, keys))}) DO UPDATE SET " + ", ".join(
            f"{q(c)} = excluded.{q(c)}" for c in update
        )
    head = f"INSERT INTO {q(table.name)} ({', '.join(map(q, columns))}) VALUES "
    params = _driver_rows(rows, columns, name)
    connection = session.connection()
    if name == "postgresql":
        _copy_upsert(connection, table.name, columns, params, tail, q)
        return
    # SQLite runs executemany in-process; PyMySQL rewrites it into multi-row INSERTs itself.
    sql = head + one_row + " " + tail
    for start in range(0, len(params), 5_000):
        connection.exec_driver_sql(sql, params[start : start + 5_000])


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
