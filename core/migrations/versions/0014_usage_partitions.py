"""PostgreSQL: usage_logs range-partitioned by month (a no-op on SQLite and MariaDB)

The table is rebuilt as `PARTITION BY RANGE (created_at)` with PRIMARY KEY (id, created_at)
(a partitioned table's unique keys must contain the partition key; no foreign key points at
usage_logs), one partition per month that has rows plus this month and the next three, and a
DEFAULT partition so no insert ever fails. Existing rows are copied; ids and their sequence
are kept. The indexes are built after the copy (one sort per partition, not row by row).

Revision ID: 0014_usage_partitions
Revises: 0013_daily_users
"""

from datetime import UTC, date, datetime

from alembic import op

revision = "0014_usage_partitions"
down_revision = "0013_daily_users"
branch_labels = None
depends_on = None

MONTHS_AHEAD = 3
COLUMNS = (
    "id BIGINT NOT NULL DEFAULT nextval('usage_logs_id_seq'), "
    "agent_id INTEGER NOT NULL, event_type VARCHAR(16) NOT NULL, "
    "user_id VARCHAR(255) NOT NULL, model_name VARCHAR(120), tokens_used INTEGER NOT NULL, "
    "execution_time_ms INTEGER NOT NULL, created_at TIMESTAMP WITHOUT TIME ZONE NOT NULL"
)
NAMES = "id, agent_id, event_type, user_id, model_name, tokens_used, execution_time_ms, created_at"
FOREIGN_KEY = (
    "CONSTRAINT fk_usage_logs_agent_id_agent_configs FOREIGN KEY (agent_id) "
    "REFERENCES agent_configs (id) ON DELETE CASCADE"
)
INDEXES = (
    "CREATE INDEX ix_usage_logs_agent_created ON usage_logs (agent_id, created_at)",
    "CREATE INDEX ix_usage_logs_created_covering ON usage_logs "
    "(created_at, event_type, execution_time_ms, user_id)",
)


def _add_months(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def _set_aside(old: str) -> None:
    """Rename usage_logs and its named objects out of the way; keep the id sequence."""
    op.execute(f"ALTER TABLE usage_logs RENAME TO {old}")
    op.execute(f"ALTER INDEX pk_usage_logs RENAME TO pk_{old}")
    op.execute(f"ALTER INDEX ix_usage_logs_agent_created RENAME TO ix_{old}_agent_created")
    op.execute(f"ALTER INDEX ix_usage_logs_created_covering RENAME TO ix_{old}_created_covering")
    op.execute(
        f"ALTER TABLE {old} RENAME CONSTRAINT fk_usage_logs_agent_id_agent_configs TO fk_{old}_agent"
    )
    op.execute("ALTER SEQUENCE usage_logs_id_seq OWNED BY NONE")


def _take_over(old: str) -> None:
    op.execute(f"INSERT INTO usage_logs ({NAMES}) SELECT {NAMES} FROM {old}")
    op.execute(f"DROP TABLE {old}")
    op.execute("ALTER SEQUENCE usage_logs_id_seq OWNED BY usage_logs.id")
    for statement in INDEXES:
        op.execute(statement)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    old = "usage_logs_unpartitioned"
    _set_aside(old)
    op.execute(
        f"CREATE TABLE usage_logs ({COLUMNS}, "
        "CONSTRAINT pk_usage_logs PRIMARY KEY (id, created_at), "
        f"{FOREIGN_KEY}) PARTITION BY RANGE (created_at)"
    )
    op.execute("CREATE TABLE usage_logs_default PARTITION OF usage_logs DEFAULT")
    months = {
        month
        for (month,) in op.get_bind().exec_driver_sql(
            f"SELECT DISTINCT CAST(date_trunc('month', created_at) AS DATE) FROM {old}"
        )
    }
    this_month = datetime.now(UTC).date().replace(day=1)
    months |= {_add_months(this_month, i) for i in range(MONTHS_AHEAD + 1)}
    for month in sorted(months):
        op.execute(
            f"CREATE TABLE usage_logs_y{month.year:04d}m{month.month:02d} PARTITION OF usage_logs "
            f"FOR VALUES FROM ('{month.isoformat()}') TO ('{_add_months(month, 1).isoformat()}')"
        )
    _take_over(old)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    old = "usage_logs_partitioned"
    _set_aside(old)
    op.execute(
        f"CREATE TABLE usage_logs ({COLUMNS}, CONSTRAINT pk_usage_logs PRIMARY KEY (id), "
        f"{FOREIGN_KEY})"
    )
    _take_over(old)
