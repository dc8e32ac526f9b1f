"""dashboard sessions (server side of the login cookie) and inbox read marks

Revision ID: 0011_sessions
Revises: 0010_login
"""

from alembic import op
import sqlalchemy as sa
import core.models.types

revision = '0011_sessions'
down_revision = '0010_login'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('dashboard_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', core.models.types.UTCDateTime(), nullable=False),
    sa.Column('expires_at', core.models.types.UTCDateTime(), nullable=False),
    sa.Column('ended_at', core.models.types.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_dashboard_sessions_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dashboard_sessions')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_dashboard_sessions_token_hash'))
    )
    with op.batch_alter_table('dashboard_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dashboard_sessions_user_id'), ['user_id'], unique=False)

    op.create_table('inbox_marks',
    sa.Column('user_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('seen_at', core.models.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_inbox_marks_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_inbox_marks'))
    )


def downgrade() -> None:
    op.drop_table('inbox_marks')
    # The index goes with its table (MySQL refuses to drop an index a foreign key uses).
    op.drop_table('dashboard_sessions')
