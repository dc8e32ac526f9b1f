"""jira outbox and issue states

Revision ID: 0002_jira
Revises: 0001
Create Date: 2026-11-26 00:24:22.516338
"""

from alembic import op
import sqlalchemy as sa
import core.models.types
from sqlalchemy.dialects import postgresql

revision = '0002_jira'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('jira_issue_states',
    sa.Column('issue_key', sa.String(length=32), nullable=False),
    sa.Column('last_status', sa.String(length=120), nullable=True),
    sa.Column('last_status_event_ms', sa.BigInteger(), nullable=True),
    sa.Column('updated_at', core.models.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('issue_key', name=op.f('pk_jira_issue_states'))
    )
    op.create_table('jira_outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agent_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=True),
    sa.Column('kind', sa.Enum('create_issue', 'attach_code', 'post_comment', 'transition', name='outboxkind', native_enum=False, length=20), nullable=False),
    sa.Column('payload', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('dedupe_key', sa.String(length=128), nullable=False),
    sa.Column('status', sa.Enum('pending', 'done', 'failed', name='outboxstatus', native_enum=False, length=20), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('next_attempt_at', core.models.types.UTCDateTime(), nullable=False),
    sa.Column('locked_by', sa.String(length=64), nullable=True),
    sa.Column('locked_until', core.models.types.UTCDateTime(), nullable=True),
    sa.Column('created_at', core.models.types.UTCDateTime(), nullable=False),
    sa.Column('done_at', core.models.types.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['agent_id'], ['agent_configs.id'], name=op.f('fk_jira_outbox_agent_id_agent_configs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_jira_outbox')),
    sa.UniqueConstraint('dedupe_key', name=op.f('uq_jira_outbox_dedupe_key'))
    )
    with op.batch_alter_table('jira_outbox', schema=None) as batch_op:
        batch_op.create_index('ix_jira_outbox_agent_id', ['agent_id'], unique=False)
        batch_op.create_index('ix_jira_outbox_status_next', ['status', 'next_attempt_at'], unique=False)



def downgrade() -> None:
    # Dropping the table drops its indexes (MySQL refuses to drop the FK's index first).
    op.drop_table('jira_outbox')
    op.drop_table('jira_issue_states')
