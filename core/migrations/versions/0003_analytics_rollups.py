"""analytics: per-model rollups, rollup queue, exact time sums, covering index, seeded prices

Revision ID: 0003_analytics
Revises: 0002_jira
Create Date: 2026-11-26 00:29:17.936785
"""

from datetime import date, datetime, timezone
from decimal import Decimal

from alembic import op
import sqlalchemy as sa


revision = '0003_analytics'
down_revision = '0002_jira'
branch_labels = None
depends_on = None

# Blended list prices (USD per 1K tokens), frozen here; edit live ones with `analytics prices`.
SEED_PRICES = [
    ("gpt-4o", "0.005000"),
    ("gpt-4o-mini*", "0.000300"),
    ("gpt-4.1*", "0.004000"),
    ("gpt-3.5-turbo*", "0.001000"),
    ("claude-3-5-sonnet*", "0.006000"),
    ("claude-sonnet-4*", "0.006000"),
    ("claude-3-haiku*", "0.000750"),
    ("gemini-1.5-pro*", "0.003500"),
    ("llama-3*", "0.000600"),
]


def upgrade() -> None:
    op.create_table('analytics_rollup_queue',
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('date', name=op.f('pk_analytics_rollup_queue'))
    )
    op.create_table('daily_model_metrics',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('agent_id', sa.Integer(), nullable=False),
    sa.Column('model_name', sa.String(length=120), nullable=False),
    sa.Column('executions', sa.Integer(), nullable=False),
    sa.Column('total_tokens', sa.BigInteger(), nullable=False),
    sa.Column('total_execution_ms', sa.BigInteger(), nullable=False),
    sa.Column('cost_usd', sa.Numeric(precision=18, scale=6), nullable=False),
    sa.Column('priced', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['agent_id'], ['agent_configs.id'], name=op.f('fk_daily_model_metrics_agent_id_agent_configs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_daily_model_metrics')),
    sa.UniqueConstraint('date', 'agent_id', 'model_name', name='uq_daily_model_metrics_key')
    )
    with op.batch_alter_table('daily_model_metrics', schema=None) as batch_op:
        batch_op.create_index('ix_daily_model_metrics_date_model', ['date', 'model_name'], unique=False)

    with op.batch_alter_table('daily_metrics', schema=None) as batch_op:
        batch_op.add_column(sa.Column('total_execution_ms', sa.BigInteger(), nullable=False, server_default=sa.text('0')))
    with op.batch_alter_table('daily_metrics', schema=None) as batch_op:
        batch_op.alter_column('total_execution_ms', server_default=None, existing_type=sa.BigInteger(), existing_nullable=False)
        # FLOAT is single precision on MariaDB: averages and p95 need doubles to be exact.
        batch_op.alter_column('avg_execution_ms', type_=sa.Double(), existing_type=sa.Float(), existing_nullable=True)
        batch_op.alter_column('p95_execution_ms', type_=sa.Double(), existing_type=sa.Float(), existing_nullable=True)

    with op.batch_alter_table('usage_logs', schema=None) as batch_op:
        batch_op.drop_index('ix_usage_logs_created_at')
        batch_op.create_index('ix_usage_logs_created_covering', ['created_at', 'event_type', 'execution_time_ms', 'user_id'], unique=False)

    prices = sa.table(
        'model_prices',
        sa.column('model_pattern', sa.String),
        sa.column('usd_per_1k_tokens', sa.Numeric(12, 6)),
        sa.column('effective_from', sa.Date),
        sa.column('created_at', sa.DateTime),
    )
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    existing = {
        row[0]
        for row in op.get_bind().execute(sa.text('SELECT model_pattern FROM model_prices'))
    }
    op.bulk_insert(prices, [
        {"model_pattern": pattern, "usd_per_1k_tokens": Decimal(price),
         "effective_from": date(2024, 1, 1), "created_at": now}
        for pattern, price in SEED_PRICES if pattern not in existing
    ])


def downgrade() -> None:
    with op.batch_alter_table('usage_logs', schema=None) as batch_op:
        batch_op.drop_index('ix_usage_logs_created_covering')
        batch_op.create_index('ix_usage_logs_created_at', ['created_at'], unique=False)

    with op.batch_alter_table('daily_metrics', schema=None) as batch_op:
        batch_op.drop_column('total_execution_ms')
        batch_op.alter_column('avg_execution_ms', type_=sa.Float(), existing_type=sa.Double(), existing_nullable=True)
        batch_op.alter_column('p95_execution_ms', type_=sa.Float(), existing_type=sa.Double(), existing_nullable=True)

    with op.batch_alter_table('daily_model_metrics', schema=None) as batch_op:
        batch_op.drop_index('ix_daily_model_metrics_date_model')

    op.drop_table('daily_model_metrics')
    op.drop_table('analytics_rollup_queue')
