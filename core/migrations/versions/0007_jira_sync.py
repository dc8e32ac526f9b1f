"""domain events (the registry announces, Jira and the deploy webhook subscribe)

Also: descriptions and system prompts become LONGTEXT on MariaDB/MySQL. TEXT holds 65,535
bytes there, less than the 20,000-character description and 100,000-character system prompt
the registry accepts (other databases: TEXT is unbounded, nothing changes).

The outbox gains two kinds, `attach_spec` and `deploy_notice`: `kind` is a VARCHAR(20)
without a CHECK constraint (native_enum=False), so no column change is needed.

Revision ID: 0007_jira_sync
Revises: 0006_audit
"""

from alembic import op
import sqlalchemy as sa
import core.models.types
from sqlalchemy.dialects import mysql, postgresql

revision = '0007_jira_sync'
down_revision = '0006_audit'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('domain_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('agent_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=True),
    sa.Column('actor', sa.String(length=255), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('data', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('created_at', core.models.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['agent_id'], ['agent_configs.id'], name=op.f('fk_domain_events_agent_id_agent_configs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_domain_events'))
    )
    with op.batch_alter_table('domain_events', schema=None) as batch_op:
        batch_op.create_index('ix_domain_events_agent_id', ['agent_id', 'id'], unique=False)


    _long_texts(mysql.LONGTEXT(), sa.Text())


def downgrade() -> None:
    _long_texts(sa.Text(), mysql.LONGTEXT())
    op.drop_table('domain_events')


def _long_texts(new_type, old_type) -> None:  # noqa: ANN001
    if op.get_bind().dialect.name != 'mysql':
        return
    for table in ('agent_configs', 'agent_registry'):
        for column in ('description', 'system_prompt'):
            op.alter_column(
                table, column, type_=new_type, existing_type=old_type, existing_nullable=False
            )
