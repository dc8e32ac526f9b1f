"""search: stored embeddings, fitted lexical models, index state; pgvector HNSW when available

Revision ID: 0004_search
Revises: 0003_analytics
"""

from alembic import op
import sqlalchemy as sa
import core.models.types
from sqlalchemy.dialects import mysql

revision = '0004_search'
down_revision = '0003_analytics'
branch_labels = None
depends_on = None

LONG_BLOB = sa.LargeBinary().with_variant(mysql.LONGBLOB(), 'mysql')
# The dense (sentence-transformers) vectors on PostgreSQL with pgvector. Not an ORM model: the
# table exists only where the extension does; core.search.pgvector_index checks for it.
VECTOR_DIMS = 384


def upgrade() -> None:
    op.create_table('search_fits',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('n_docs', sa.Integer(), nullable=False),
    sa.Column('state', LONG_BLOB, nullable=False),
    sa.Column('created_at', core.models.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_search_fits'))
    )
    op.create_table('search_index_state',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('epoch', sa.String(length=32), nullable=False),
    sa.Column('generation', sa.Integer(), nullable=False),
    sa.Column('fit_id', sa.Integer(), nullable=True),
    sa.Column('changes_since_fit', sa.Integer(), nullable=False),
    sa.Column('updated_at', core.models.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_search_index_state'))
    )
    op.create_table('agent_embeddings',
    sa.Column('agent_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('fit_id', sa.Integer(), nullable=False),
    sa.Column('lexical', LONG_BLOB, nullable=False),
    sa.Column('semantic', sa.LargeBinary(), nullable=True),
    sa.Column('semantic_model', sa.String(length=255), nullable=True),
    sa.Column('text_hash', sa.String(length=64), nullable=False),
    sa.Column('generation', sa.Integer(), nullable=False),
    sa.Column('updated_at', core.models.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['agent_id'], ['agent_configs.id'], name=op.f('fk_agent_embeddings_agent_id_agent_configs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('agent_id', name=op.f('pk_agent_embeddings'))
    )
    with op.batch_alter_table('agent_embeddings', schema=None) as batch_op:
        batch_op.create_index('ix_agent_embeddings_generation', ['generation'], unique=False)

    if _pgvector_available():
        op.execute('CREATE EXTENSION IF NOT EXISTS vector')
        op.execute(
            f'CREATE TABLE IF NOT EXISTS agent_embedding_vectors ('
            f' agent_id integer PRIMARY KEY REFERENCES agent_configs (id) ON DELETE CASCADE,'
            f' model varchar(255) NOT NULL,'
            f' embedding vector({VECTOR_DIMS}) NOT NULL)'
        )
        op.execute(
            'CREATE INDEX IF NOT EXISTS ix_agent_embedding_vectors_hnsw ON agent_embedding_vectors'
            ' USING hnsw (embedding vector_cosine_ops) WITH (m = 16, ef_construction = 64)'
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('DROP TABLE IF EXISTS agent_embedding_vectors')
    with op.batch_alter_table('agent_embeddings', schema=None) as batch_op:
        batch_op.drop_index('ix_agent_embeddings_generation')
    op.drop_table('agent_embeddings')
    op.drop_table('search_index_state')
    op.drop_table('search_fits')


def _pgvector_available() -> bool:
    bind = op.get_bind()
    if bind.dialect.name != 'postgresql':
        return False
    found = bind.execute(
        sa.text("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'")
    ).first()
    return found is not None
