"""PostgreSQL: `usage_logs` range-partitioned by UTC month, created ahead, with retention.

Layout (migration 0014): the parent `usage_logs` (PRIMARY KEY (id, created_at), the indexes
declared on the parent), one partition per month `usage_logs_yYYYYmMM` holding
[first of the month, first of the next), and `usage_logs_default` for anything no month
partition covers, so no insert ever fails. `ensure_partitions` creates the months ahead and
moves rows that landed in the default partition into partitions of their own months;
`drop_months_before` drops whole months (rollups keep their figures) and records the cutoff
(a comment on the default partition), which the rollup then never recomputes across. SQLite and MariaDB keep one table: every
function here is a no-op there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlalchemy import delete
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from core.errors import ValidationError
from core.models import RollupQueue

PARENT = "usage_logs"
DEFAULT = "usage_logs_default"
LOCK_TIMEOUT = "5s"
_NAME = re.compile(r"^usage_logs_y(\d{4})m(\d{2})$")
_CUTOFF = re.compile(r"events before (\d{4}-\d{2}-\d{2}) were dropped")


@dataclass
class PartitionReport:
    """What a maintenance run did, and the month partitions there are now."""

    created: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    moved_rows: int = 0
    deleted_rows: int = 0
    partitions: list[str] = field(default_factory=list)
    retained_since: date | None = None

    def as_dict(self) -> dict:
        return {
            "created": self.created,
            "dropped": self.dropped,
            "moved_rows": self.moved_rows,
            "deleted_rows": self.deleted_rows,
            "partitions": self.partitions,
            "retained_since": self.retained_since.isoformat() if self.retained_since else None,
        }


def month_start(day: date) -> date:
    return day.replace(day=1)


def add_months(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def partition_name(month: date) -> str:
    return f"usage_logs_y{month.year:04d}m{month.month:02d}"


def is_partition_table(name: str | None) -> bool:
    """A partition of usage_logs (not in the models: schema comparisons skip it)."""
    return bool(name) and (name == DEFAULT or _NAME.match(name) is not None)


def include_in_schema_comparison(name: str | None, type_: str, parent_names: dict) -> bool:
    """Alembic `include_name` hook: usage_logs' partitions are data layout, not models."""
    if type_ == "table":
        return not is_partition_table(name)
    return not is_partition_table(parent_names.get("table_name"))


def _connection(bind: Session | Connection) -> Connection:
    return bind.connection() if isinstance(bind, Session) else bind


def is_partitioned(bind: Session | Connection) -> bool:
    """True on PostgreSQL once migration 0014 made usage_logs a partitioned table."""
    connection = _connection(bind)
    if connection.dialect.name != "postgresql":
        return False
    kind = connection.exec_driver_sql(
        "SELECT relkind FROM pg_class WHERE oid = to_regclass('usage_logs')"
    ).scalar()
    return kind == "p"


def _short_lock_waits(connection: Connection) -> None:
    """DDL on a partition locks usage_logs; queued behind a long query it would hold up every
    insert behind it — give up after a few seconds instead (the hourly job tries again)."""
    connection.exec_driver_sql(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")


def month_partitions(bind: Session | Connection) -> dict[date, str]:
    """{first day of the month: partition name} for the month partitions that exist."""
    rows = _connection(bind).exec_driver_sql(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = 'usage_logs'::regclass"
    )
    found = {}
    for (name,) in rows:
        match = _NAME.match(name)
        if match:
            found[date(int(match[1]), int(match[2]), 1)] = name
    return dict(sorted(found.items()))


def create_month(connection: Connection, month: date) -> int:
    """Create the partition of `month`, moving its rows out of the default partition first
    (PostgreSQL refuses a new partition whose range the default partition holds rows of).
    Returns the number of rows moved."""
    name, start, end = partition_name(month), month, add_months(month, 1)
    bounds = f"FROM ('{start.isoformat()}') TO ('{end.isoformat()}')"
    in_range = f"created_at >= '{start.isoformat()}' AND created_at < '{end.isoformat()}'"
    waiting = connection.exec_driver_sql(f"SELECT 1 FROM {DEFAULT} WHERE {in_range} LIMIT 1")
    if waiting.first() is None:
        connection.exec_driver_sql(f"CREATE TABLE {name} PARTITION OF {PARENT} FOR VALUES {bounds}")
        return 0
    # Standalone table, rows moved, then attached (attaching checks the default holds none).
    connection.exec_driver_sql(
        f"CREATE TABLE {name} (LIKE {PARENT} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"
    )
    moved = connection.exec_driver_sql(
        f"WITH moved AS (DELETE FROM {DEFAULT} WHERE {in_range} RETURNING *) "
        f"INSERT INTO {name} SELECT * FROM moved"
    ).rowcount
    connection.exec_driver_sql(f"ALTER TABLE {PARENT} ATTACH PARTITION {name} FOR VALUES {bounds}")
    return moved


def months_in_default(connection: Connection) -> list[date]:
    rows = connection.exec_driver_sql(
        f"SELECT DISTINCT CAST(date_trunc('month', created_at) AS DATE) FROM {DEFAULT}"
    )
    return sorted(month for (month,) in rows)


def ensure_partitions(
    bind: Session | Connection, *, months_ahead: int, today: date | None = None
) -> PartitionReport:
    """Partitions for this month and `months_ahead` more, plus one for every month that has
    rows waiting in the default partition. Idempotent."""
    report = PartitionReport()
    connection = _connection(bind)
    if not is_partitioned(connection):
        return report
    this_month = month_start(today or datetime.now(UTC).date())
    _short_lock_waits(connection)
    existing = month_partitions(connection)
    wanted = {add_months(this_month, i) for i in range(months_ahead + 1)}
    cutoff = retained_since(connection)
    for month in months_in_default(connection):
        if cutoff is None or month >= cutoff:
            wanted.add(month)
    for month in sorted(wanted - set(existing)):
        report.moved_rows += create_month(connection, month)
        report.created.append(partition_name(month))
    report.partitions = list(month_partitions(connection).values())
    report.retained_since = cutoff
    return report


def retained_since(bind: Session | Connection) -> date | None:
    """The first day whose events are kept, once retention dropped older months; else None."""
    connection = _connection(bind)
    if not is_partitioned(connection):
        return None
    comment = connection.exec_driver_sql(
        f"SELECT obj_description('{DEFAULT}'::regclass, 'pg_class')"
    ).scalar()
    match = _CUTOFF.search(comment or "")
    return date.fromisoformat(match[1]) if match else None


def drop_months_before(
    bind: Session | Connection, *, cutoff: date, dry_run: bool = False
) -> PartitionReport:
    """Drop every month partition that ends on or before `cutoff` (a first of a month) and the
    default partition's rows before it; forget queued rollups of those days.

    Roll the queued days up first (`core.analytics.jobs.maintain_partitions` does): the daily
    rollups are all that remains of the dropped events.
    """
    if cutoff.day != 1:
        raise ValidationError(f"retention cutoff {cutoff} is not the first of a month")
    report = PartitionReport()
    connection = _connection(bind)
    if not is_partitioned(connection):
        return report
    _short_lock_waits(connection)
    for month, name in month_partitions(connection).items():
        if add_months(month, 1) <= cutoff:
            if not dry_run:
                connection.exec_driver_sql(f"DROP TABLE {name}")
            report.dropped.append(name)
    if not dry_run:
        report.deleted_rows = connection.exec_driver_sql(
            f"DELETE FROM {DEFAULT} WHERE created_at < '{cutoff.isoformat()}'"
        ).rowcount
        connection.execute(delete(RollupQueue).where(RollupQueue.date < cutoff))
        previous = retained_since(connection)
        if previous is None or cutoff > previous:
            # On the default partition, which always exists and is no model's table.
            connection.exec_driver_sql(
                f"COMMENT ON TABLE {DEFAULT} IS "
                f"'retention: events before {cutoff.isoformat()} were dropped'"
            )
    report.partitions = list(month_partitions(connection).values())
    report.retained_since = retained_since(connection)
    return report


def retention_cutoff(months: int, *, today: date | None = None) -> date:
    """The first day kept when keeping `months` whole months before the current one."""
    if months < 1:
        raise ValidationError(f"retention must keep at least 1 month, got {months}")
    return add_months(month_start(today or datetime.now(UTC).date()), -months)
