"""daily_agent_users (who used each agent on each day, with their event count: exact range
uniques and top users from the rollups)
and daily_totals (each day's cross-agent unique users and p95)

Revision ID: 0013_daily_users
Revises: 0012_user_timezone

Filled by every rollup; the upgrade backfills it from the events in one INSERT … SELECT
DISTINCT. daily_totals is filled by the next rollup of each day: run `python -m core analytics
aggregate --all` once after upgrading (until then closed days fall back to the events).
"""

import sqlalchemy as sa
from alembic import op

revision = '0013_daily_users'
down_revision = '0012_user_timezone'
branch_labels = None
depends_on = None

DAY = {
    "sqlite": "substr(created_at, 1, 10)",
    "postgresql": "CAST(created_at AS DATE)",
    "mysql": "DATE(created_at)",
}


def upgrade() -> None:
    op.create_table('daily_agent_users',
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('agent_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('user_id', sa.String(length=255), nullable=False),
    sa.Column('events', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['agent_id'], ['agent_configs.id'], name=op.f('fk_daily_agent_users_agent_id_agent_configs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('date', 'agent_id', 'user_id', name=op.f('pk_daily_agent_users'))
    )
    op.create_table('daily_totals',
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('unique_users', sa.Integer(), nullable=False),
    sa.Column('p95_execution_ms', sa.Double(), nullable=True),
    sa.PrimaryKeyConstraint('date', name=op.f('pk_daily_totals'))
    )
    bind = op.get_bind()
    day = DAY[bind.dialect.name]
    # Backfill the days already rolled up (queued days are filled by their next rollup).
    bind.execute(sa.text(
        f"INSERT INTO daily_agent_users (date, agent_id, user_id, events) "
        f"SELECT {day}, agent_id, user_id, COUNT(*) FROM usage_logs WHERE user_id <> '' "
        f"GROUP BY {day}, agent_id, user_id"
    ))


def downgrade() -> None:
    op.drop_table('daily_totals')
    op.drop_table('daily_agent_users')
