"""login: failed log-ins per email, for throttling password guessing

Revision ID: 0010_login
Revises: 0008_jira_inbox
"""

from alembic import op
import sqlalchemy as sa
import core.models.types

revision = '0010_login'
down_revision = '0008_jira_inbox'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('login_throttles',
    sa.Column('email', sa.String(length=255), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('last_failure_at', core.models.types.UTCDateTime(), nullable=False),
    sa.Column('locked_until', core.models.types.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('email', name=op.f('pk_login_throttles'))
    )
    with op.batch_alter_table('login_throttles', schema=None) as batch_op:
        batch_op.create_index('ix_login_throttles_last_failure_at', ['last_failure_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('login_throttles', schema=None) as batch_op:
        batch_op.drop_index('ix_login_throttles_last_failure_at')
    op.drop_table('login_throttles')
