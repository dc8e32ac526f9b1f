"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-26 00:19:58.862442
"""

from alembic import op
import sqlalchemy as sa
import core.models.types
from sqlalchemy.dialects import mysql
from sqlalchemy.dialects import postgresql

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    
    op.create_table('job_leases',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('owner', sa.String(length=64), nullable=True),
    sa.Column('locked_until', core.models.types.UTCDateTime(), nullable=True),
    sa.Column('last_run_at', core.models.types.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_job_leases'))
    )
    op.create_table('model_prices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('model_pattern', sa.String(length=120), nullable=False),
    sa.Column('usd_per_1k_tokens', sa.Numeric(precision=12, scale=6), nullable=False),
    sa.Column('effective_from', sa.Date(), nullable=False),
    sa.Column('created_at', core.models.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_model_prices')),
    sa.UniqueConstraint('model_pattern', 'effective_from', name='uq_model_prices_pattern_from')
    )
    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=255), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('role', sa.Enum('analyst', 'developer', 'approver', 'admin', name='role', native_enum=False, length=20), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=True),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('created_at', core.models.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('email', name=op.f('uq_users_email'))
    )
    op.create_table('webhook_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('delivery_id', sa.String(length=128), nullable=False),
    sa.Column('event_type', sa.String(length=64), nullable=True),
    sa.Column('issue_key', sa.String(length=32), nullable=True),
    sa.Column('status', sa.Enum('received', 'processed', 'ignored', 'unmatched', 'stale', 'invalid', 'retrying', 'failed', name='webhookstatus', native_enum=False, length=20), nullable=False),
    sa.Column('payload', sa.Text().with_variant(mysql.LONGTEXT(), 'mysql'), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('event_timestamp_ms', sa.BigInteger(), nullable=True),
    sa.Column('received_at', core.models.types.UTCDateTime(), nullable=False),
    sa.Column('processed_at', core.models.types.UTCDateTime(), nullable=True),
    sa.Column('next_attempt_at', core.models.types.UTCDateTime(), nullable=True),
    sa.Column('locked_by', sa.String(length=64), nullable=True),
    sa.Column('locked_until', core.models.types.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_events')),
    sa.UniqueConstraint('delivery_id', name=op.f('uq_webhook_events_delivery_id'))
    )
    with op.batch_alter_table('webhook_events', schema=None) as batch_op:
        batch_op.create_index('ix_webhook_events_issue_key', ['issue_key'], unique=False)
        batch_op.create_index('ix_webhook_events_received_at', ['received_at'], unique=False)
        batch_op.create_index('ix_webhook_events_status_next', ['status', 'next_attempt_at'], unique=False)

    op.create_table('agent_configs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('model', sa.String(length=120), nullable=False),
    sa.Column('system_prompt', sa.Text(), nullable=False),
    sa.Column('tools', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('code', sa.Text().with_variant(mysql.LONGTEXT(), 'mysql'), nullable=False),
    sa.Column('code_filename', sa.String(length=255), nullable=True),
    sa.Column('status', sa.Enum('draft', 'pending', 'approved', 'rejected', 'production', name='agentstatus', native_enum=False, length=20), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('production_version', sa.Integer(), nullable=True),
    sa.Column('jira_issue_key', sa.String(length=32), nullable=True),
    sa.Column('approved_by', sa.String(length=255), nullable=True),
    sa.Column('approved_at', core.models.types.UTCDateTime(), nullable=True),
    sa.Column('created_at', core.models.types.UTCDateTime(), nullable=False),
    sa.Column('updated_at', core.models.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_agent_configs_owner_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agent_configs'))
    )
    with op.batch_alter_table('agent_configs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agent_configs_jira_issue_key'), ['jira_issue_key'], unique=False)
        batch_op.create_index('ix_agent_configs_status', ['status'], unique=False)

    op.create_table('api_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', core.models.types.UTCDateTime(), nullable=False),
    sa.Column('last_used_at', core.models.types.UTCDateTime(), nullable=True),
    sa.Column('revoked_at', core.models.types.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_api_tokens_created_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_tokens_token_hash'))
    )
    op.create_table('agent_comments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agent_id', sa.Integer(), nullable=False),
    sa.Column('author', sa.String(length=255), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('source', sa.Enum('dashboard', 'cli', 'jira', 'api', 'system', name='source', native_enum=False, length=20), nullable=False),
    sa.Column('jira_comment_id', sa.String(length=64), nullable=True),
    sa.Column('created_at', core.models.types.UTCDateTime(), nullable=False),
    sa.Column('updated_at', core.models.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['agent_id'], ['agent_configs.id'], name=op.f('fk_agent_comments_agent_id_agent_configs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agent_comments')),
    sa.UniqueConstraint('jira_comment_id', name=op.f('uq_agent_comments_jira_comment_id'))
    )
    with op.batch_alter_table('agent_comments', schema=None) as batch_op:
        batch_op.create_index('ix_agent_comments_agent_created', ['agent_id', 'created_at'], unique=False)

    op.create_table('agent_registry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agent_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('model', sa.String(length=120), nullable=False),
    sa.Column('system_prompt', sa.Text(), nullable=False),
    sa.Column('tools', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('code', sa.Text().with_variant(mysql.LONGTEXT(), 'mysql'), nullable=False),
    sa.Column('code_filename', sa.String(length=255), nullable=True),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('status', sa.Enum('pending', 'approved', 'rejected', 'cancelled', 'production', 'retired', name='versionstatus', native_enum=False, length=20), nullable=False),
    sa.Column('submitted_by', sa.String(length=255), nullable=False),
    sa.Column('submitted_at', core.models.types.UTCDateTime(), nullable=False),
    sa.Column('jira_issue_key', sa.String(length=32), nullable=True),
    sa.Column('approved_by', sa.String(length=255), nullable=True),
    sa.Column('approved_at', core.models.types.UTCDateTime(), nullable=True),
    sa.Column('deployed_at', core.models.types.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['agent_id'], ['agent_configs.id'], name=op.f('fk_agent_registry_agent_id_agent_configs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agent_registry')),
    sa.UniqueConstraint('agent_id', 'version', name='uq_agent_registry_agent_version')
    )
    with op.batch_alter_table('agent_registry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agent_registry_jira_issue_key'), ['jira_issue_key'], unique=False)

    op.create_table('agent_status_history',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agent_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=True),
    sa.Column('from_status', sa.String(length=40), nullable=True),
    sa.Column('to_status', sa.String(length=40), nullable=False),
    sa.Column('actor', sa.String(length=255), nullable=False),
    sa.Column('source', sa.Enum('dashboard', 'cli', 'jira', 'api', 'system', name='source', native_enum=False, length=20), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('created_at', core.models.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['agent_id'], ['agent_configs.id'], name=op.f('fk_agent_status_history_agent_id_agent_configs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agent_status_history'))
    )
    with op.batch_alter_table('agent_status_history', schema=None) as batch_op:
        batch_op.create_index('ix_agent_status_history_agent_created', ['agent_id', 'created_at'], unique=False)

    op.create_table('daily_metrics',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('agent_id', sa.Integer(), nullable=False),
    sa.Column('executions', sa.Integer(), nullable=False),
    sa.Column('views', sa.Integer(), nullable=False),
    sa.Column('creations', sa.Integer(), nullable=False),
    sa.Column('deletions', sa.Integer(), nullable=False),
    sa.Column('total_tokens', sa.BigInteger(), nullable=False),
    sa.Column('unique_users', sa.Integer(), nullable=False),
    sa.Column('avg_execution_ms', sa.Float(), nullable=True),
    sa.Column('p95_execution_ms', sa.Float(), nullable=True),
    sa.Column('cost_usd', sa.Numeric(precision=18, scale=6), nullable=False),
    sa.Column('updated_at', core.models.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['agent_id'], ['agent_configs.id'], name=op.f('fk_daily_metrics_agent_id_agent_configs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_daily_metrics')),
    sa.UniqueConstraint('date', 'agent_id', name='uq_daily_metrics_date_agent')
    )
    op.create_table('usage_logs',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('agent_id', sa.Integer(), nullable=False),
    sa.Column('event_type', sa.String(length=16), nullable=False),
    sa.Column('user_id', sa.String(length=255), nullable=False),
    sa.Column('model_name', sa.String(length=120), nullable=True),
    sa.Column('tokens_used', sa.Integer(), nullable=False),
    sa.Column('execution_time_ms', sa.Integer(), nullable=False),
    sa.Column('created_at', core.models.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['agent_id'], ['agent_configs.id'], name=op.f('fk_usage_logs_agent_id_agent_configs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_usage_logs'))
    )
    with op.batch_alter_table('usage_logs', schema=None) as batch_op:
        batch_op.create_index('ix_usage_logs_agent_created', ['agent_id', 'created_at'], unique=False)
        batch_op.create_index('ix_usage_logs_created_at', ['created_at'], unique=False)

    


def downgrade() -> None:
    # Dropping a table drops its indexes (MySQL refuses to drop an index an FK needs).
    op.drop_table('usage_logs')
    op.drop_table('daily_metrics')
    op.drop_table('agent_status_history')
    op.drop_table('agent_registry')
    op.drop_table('agent_comments')
    op.drop_table('api_tokens')
    op.drop_table('agent_configs')
    op.drop_table('webhook_events')
    op.drop_table('users')
    op.drop_table('model_prices')
    op.drop_table('job_leases')
