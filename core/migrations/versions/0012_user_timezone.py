"""users.timezone: the IANA zone a person reads analytics in (NULL = UTC)

Revision ID: 0012_user_timezone
Revises: 0011_sessions
"""

from alembic import op
import sqlalchemy as sa

revision = '0012_user_timezone'
down_revision = '0011_sessions'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('timezone', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('timezone')
