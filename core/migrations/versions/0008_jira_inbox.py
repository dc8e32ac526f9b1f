"""jira inbox: issue ids (Server/DC comment events), deleted issues and deleted comments

Revision ID: 0008_jira_inbox
Revises: 0007_jira_sync
"""

from alembic import op
import sqlalchemy as sa
import core.models.types

revision = '0008_jira_inbox'
down_revision = '0007_jira_sync'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('jira_issue_states', schema=None) as batch_op:
        batch_op.add_column(sa.Column('issue_id', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('deleted_at', core.models.types.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('deleted_by', sa.String(length=255), nullable=True))
        batch_op.create_index(batch_op.f('ix_jira_issue_states_issue_id'), ['issue_id'], unique=False)
    with op.batch_alter_table('agent_configs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('jira_issue_deleted_key', sa.String(length=32), nullable=True))
    with op.batch_alter_table('agent_comments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('deleted_at', core.models.types.UTCDateTime(), nullable=True))
    # Nothing to back-fill: no issue was known deleted before, and issue ids are learnt from
    # the next delivery that names the issue (or from the issue creation of a new submission).


def downgrade() -> None:
    with op.batch_alter_table('agent_comments', schema=None) as batch_op:
        batch_op.drop_column('deleted_at')
    with op.batch_alter_table('agent_configs', schema=None) as batch_op:
        batch_op.drop_column('jira_issue_deleted_key')
    with op.batch_alter_table('jira_issue_states', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_jira_issue_states_issue_id'))
        batch_op.drop_column('deleted_by')
        batch_op.drop_column('deleted_at')
        batch_op.drop_column('issue_id')
