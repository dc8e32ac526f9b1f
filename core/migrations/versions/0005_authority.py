"""authority: Jira account links, token expiry, per-version authors (back-filled)

Revision ID: 0005_authority
Revises: 0004_search
"""

from alembic import op
import sqlalchemy as sa
import core.models.types

revision = '0005_authority'
down_revision = '0004_search'
branch_labels = None
depends_on = None

# Authors known from what earlier versions recorded: who submitted each frozen version, who
# created the agent (version 1), and who started a version by editing a rejected or
# production agent (the history row of that move carries the previous version number).
BACKFILL = [
    """
    INSERT INTO agent_version_authors (agent_id, version, user_id, action, at)
    SELECT r.agent_id, r.version, u.id, 'submitted', MIN(r.submitted_at)
    FROM agent_registry r JOIN users u ON lower(u.email) = lower(r.submitted_by)
    GROUP BY r.agent_id, r.version, u.id
    """,
    """
    INSERT INTO agent_version_authors (agent_id, version, user_id, action, at)
    SELECT h.agent_id, COALESCE(h.version, 1), u.id, 'created', MIN(h.created_at)
    FROM agent_status_history h JOIN users u ON lower(u.email) = lower(h.actor)
    WHERE h.from_status IS NULL AND h.to_status = 'draft'
    GROUP BY h.agent_id, COALESCE(h.version, 1), u.id
    """,
    """
    INSERT INTO agent_version_authors (agent_id, version, user_id, action, at)
    SELECT h.agent_id, h.version + 1, u.id, 'edited', MIN(h.created_at)
    FROM agent_status_history h JOIN users u ON lower(u.email) = lower(h.actor)
    WHERE h.from_status IN ('rejected', 'production') AND h.to_status = 'draft'
      AND h.version IS NOT NULL
    GROUP BY h.agent_id, h.version, u.id
    """,
]


def upgrade() -> None:
    op.create_table('agent_version_authors',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agent_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=20), nullable=False),
    sa.Column('at', core.models.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['agent_id'], ['agent_configs.id'], name=op.f('fk_agent_version_authors_agent_id_agent_configs'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_agent_version_authors_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agent_version_authors')),
    sa.UniqueConstraint('agent_id', 'version', 'user_id', 'action', name='uq_agent_version_authors_part')
    )
    op.add_column('users', sa.Column('jira_account_id', sa.String(length=128), nullable=True))
    op.create_index('ix_users_jira_account_id', 'users', ['jira_account_id'], unique=True)
    op.add_column('api_tokens', sa.Column('expires_at', core.models.types.UTCDateTime(), nullable=True))
    for statement in BACKFILL:
        op.execute(sa.text(statement))


def downgrade() -> None:
    op.drop_table('agent_version_authors')
    op.drop_index('ix_users_jira_account_id', table_name='users')
    # Plain DROP COLUMN (SQLite 3.35+): a batch copy of `users` would have to drop a table
    # that other rows reference.
    for table, column in (('api_tokens', 'expires_at'), ('users', 'jira_account_id')):
        op.execute(sa.text(f'ALTER TABLE {table} DROP COLUMN {column}'))
