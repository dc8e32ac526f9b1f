"""audit: content hashes on versions and decision/deploy history; the history hash chain

Revision ID: 0006_audit
Revises: 0005_authority

Back-fills existing rows: every version's content hash, the hash on each past decision and
deploy (from its version), and the chain over the whole history, so `audit verify` passes on
an upgraded database.
"""

from alembic import op
import sqlalchemy as sa
import core.models.types

revision = '0006_audit'
down_revision = '0005_authority'
branch_labels = None
depends_on = None

HASHED_MOVES = ('approved', 'rejected', 'production')


def upgrade() -> None:
    op.create_table('audit_chain_head',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('entries', sa.Integer(), nullable=False),
    sa.Column('last_id', sa.Integer(), nullable=True),
    sa.Column('last_hash', sa.String(length=64), nullable=False),
    sa.Column('updated_at', core.models.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_chain_head'))
    )
    with op.batch_alter_table('agent_registry', schema=None) as batch_op:
        batch_op.add_column(sa.Column('content_hash', sa.String(length=64), nullable=True))
    with op.batch_alter_table('agent_status_history', schema=None) as batch_op:
        batch_op.add_column(sa.Column('content_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('prev_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('row_hash', sa.String(length=64), nullable=True))
        batch_op.create_index('ix_agent_status_history_to_status_created', ['to_status', 'created_at'], unique=False)
    _backfill()


def _backfill() -> None:
    from core.audit.chain import rechain
    from core.audit.content import content_hash_of
    from core.models.types import PortableJSON

    bind = op.get_bind()
    versions = sa.table(
        'agent_registry',
        sa.column('id', sa.Integer), sa.column('name', sa.String), sa.column('description', sa.Text),
        sa.column('model', sa.String), sa.column('system_prompt', sa.Text),
        sa.column('tools', PortableJSON), sa.column('code', sa.Text),
        sa.column('content_hash', sa.String),
    )
    hashes = [
        {'row_id': row.id, 'hash': content_hash_of(row)}
        for row in bind.execute(sa.select(versions))
    ]
    if hashes:
        bind.execute(
            versions.update().where(versions.c.id == sa.bindparam('row_id'))
            .values(content_hash=sa.bindparam('hash')),
            hashes,
        )
    bind.execute(sa.text(
        'UPDATE agent_status_history SET content_hash = ('
        ' SELECT v.content_hash FROM agent_registry v'
        ' WHERE v.agent_id = agent_status_history.agent_id'
        ' AND v.version = agent_status_history.version)'
        ' WHERE to_status IN :moves'
    ).bindparams(sa.bindparam('moves', HASHED_MOVES, expanding=True)))
    rechain(bind)


def downgrade() -> None:
    with op.batch_alter_table('agent_status_history', schema=None) as batch_op:
        batch_op.drop_index('ix_agent_status_history_to_status_created')
        batch_op.drop_column('row_hash')
        batch_op.drop_column('prev_hash')
        batch_op.drop_column('content_hash')
    with op.batch_alter_table('agent_registry', schema=None) as batch_op:
        batch_op.drop_column('content_hash')
    op.drop_table('audit_chain_head')
