"""Search index state kept in the database, so every process (dashboard, CLI, server) shares it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import Mapped, mapped_column

from core.models.base import Base
from core.models.types import UTCDateTime, utcnow

# BLOB is 64 KiB on MySQL; a lexical vector of a 100 KB system prompt is larger.
LongBlob = LargeBinary().with_variant(mysql.LONGBLOB(), "mysql")


class SearchFit(Base):
    """One fitted lexical model (document frequencies); its id versions the stored vectors."""

    __tablename__ = "search_fits"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    n_docs: Mapped[int] = mapped_column(Integer)
    state: Mapped[bytes] = mapped_column(LongBlob)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SearchIndexState(Base):
    """A single row: which fit is current and a counter bumped on every index change."""

    __tablename__ = "search_index_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    # Random token set when the row is created: a recreated row never looks like an old one.
    epoch: Mapped[str] = mapped_column(String(32))
    generation: Mapped[int] = mapped_column(Integer, default=0)
    fit_id: Mapped[int | None] = mapped_column(Integer)
    changes_since_fit: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class AgentEmbedding(Base):
    """An agent's stored vectors: sparse lexical (under `fit_id`) and dense semantic."""

    __tablename__ = "agent_embeddings"

    agent_id: Mapped[int] = mapped_column(
        ForeignKey("agent_configs.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    fit_id: Mapped[int] = mapped_column(Integer)
    lexical: Mapped[bytes] = mapped_column(LongBlob)
    semantic: Mapped[bytes | None] = mapped_column(LargeBinary)
    semantic_model: Mapped[str | None] = mapped_column(String(255))
    text_hash: Mapped[str] = mapped_column(String(64))
    # The index generation that wrote this row: readers load rows newer than what they hold.
    generation: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    __table_args__ = (Index("ix_agent_embeddings_generation", "generation"),)
