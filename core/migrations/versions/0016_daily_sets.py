"""daily_totals: each closed day's distinct users and slowest execution times, compact

Revision ID: 0016_daily_sets
Revises: 0015_analytics_windows

Three nullable columns filled by the next rollup of each day (`python -m core analytics
aggregate --all` once after upgrading; until then ranges read those days as before):
`user_set` (the day's distinct non-empty users, zlib-compressed JSON), `slow_times` (the day's
top ~10 % execution times, descending, packed uint32) and `slow_floor` (the largest time not in
`slow_times`; NULL when every time is there). Exact range uniques and p95 then read one row per
day instead of the day's daily_agent_users rows and events. An index on daily_model_metrics
(priced, date, model_name) gives a range's unpriced models without reading the priced rows.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0016_daily_sets"
down_revision = "0015_analytics_windows"
branch_labels = None
depends_on = None

BLOB = sa.LargeBinary().with_variant(mysql.LONGBLOB(), "mysql", "mariadb")


def upgrade() -> None:
    with op.batch_alter_table("daily_totals") as batch:
        batch.add_column(sa.Column("user_set", BLOB, nullable=True))
        batch.add_column(sa.Column("slow_times", BLOB, nullable=True))
        batch.add_column(sa.Column("slow_floor", sa.Integer(), nullable=True))
    op.create_index(
        "ix_daily_model_metrics_unpriced", "daily_model_metrics", ["priced", "date", "model_name"]
    )


def downgrade() -> None:
    op.drop_index("ix_daily_model_metrics_unpriced", table_name="daily_model_metrics")
    with op.batch_alter_table("daily_totals") as batch:
        batch.drop_column("slow_floor")
        batch.drop_column("slow_times")
        batch.drop_column("user_set")
