"""analytics_recent_users, analytics_window_figures, analytics_window_users and
analytics_day_latency: the default Analytics views' closed-day unique users, exact p95 per
agent, per-user event counts and per-day p50/p95, precomputed when the rollup job closes a day

Revision ID: 0015_analytics_windows
Revises: 0014_usage_partitions

Filled by `core.analytics.runner.refresh_windows` (called by the rollup runner); until
the first run the page computes these figures from the events, as before.
"""

import sqlalchemy as sa
from alembic import op

revision = "0015_analytics_windows"
down_revision = "0014_usage_partitions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "analytics_recent_users",
        sa.Column("agent_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("user_id", sa.String(length=255), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("agent_id", "user_id", name=op.f("pk_analytics_recent_users")),
    )
    op.create_table(
        "analytics_window_figures",
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("agent_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.Column("executions", sa.Integer(), nullable=False),
        sa.Column("unique_users", sa.Integer(), nullable=False),
        sa.Column("p95_execution_ms", sa.Double(), nullable=True),
        sa.Column("tail", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("first_day", "agent_id", name=op.f("pk_analytics_window_figures")),
    )
    op.create_table(
        "analytics_day_latency",
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("agent_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("executions", sa.Integer(), nullable=False),
        sa.Column("p50_execution_ms", sa.Double(), nullable=True),
        sa.Column("p95_execution_ms", sa.Double(), nullable=True),
        sa.PrimaryKeyConstraint("date", "agent_id", name=op.f("pk_analytics_day_latency")),
    )
    op.create_table(
        "analytics_window_users",
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("user_id", sa.String(length=255), nullable=False),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("first_day", "user_id", name=op.f("pk_analytics_window_users")),
    )


def downgrade() -> None:
    op.drop_table("analytics_window_users")
    op.drop_table("analytics_day_latency")
    op.drop_table("analytics_window_figures")
    op.drop_table("analytics_recent_users")
