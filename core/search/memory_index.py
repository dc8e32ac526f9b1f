"""The in-process index: every agent's stored vectors held in memory, refreshed from the database.

Each search reads the shared state row (one small query); when its generation moved on, only
rows written since are loaded, so an edit made by another process is seen on the next search.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.models import AgentEmbedding
from core.search import lexical
from core.search.index_state import IndexVersion


@dataclass
class _Row:
    lexical: tuple[np.ndarray, np.ndarray]
    semantic: np.ndarray | None
    semantic_model: str | None


@dataclass
class Snapshot:
    """Matrices over the agents indexed at `version`; row i belongs to `ids[i]`."""

    version: IndexVersion
    ids: np.ndarray
    lexical_by_term: sparse.csc_matrix
    lexical_rows: sparse.csr_matrix
    semantic: np.ndarray | None  # (n, d) float32; zero rows where an agent has none
    semantic_model: str | None
    position: dict[int, int] = field(default_factory=dict)

    def lexical_scores(self, query: sparse.csr_matrix) -> np.ndarray:
        """Cosine of the query with every agent's whole text: only the query's columns are read.

        `query` is a query vector or a stored agent row (its field blocks are ignored).
        """
        whole = query.indices < lexical.GROUP
        if not whole.any() or len(self.ids) == 0:
            return np.zeros(len(self.ids), dtype=np.float32)
        columns = self.lexical_by_term[:, query.indices[whole]]
        return np.asarray(columns @ query.data[whole], dtype=np.float32).ravel()

    def semantic_scores(self, vector: np.ndarray, model: str) -> np.ndarray:
        if self.semantic is None or self.semantic_model != model:
            return np.zeros(len(self.ids), dtype=np.float32)
        return self.semantic @ vector.astype(np.float32)


class MemoryIndex:
    """The index of one database; thread-safe, shared by every session on that database."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rows: dict[int, _Row] = {}
        self._snapshot: Snapshot | None = None

    def current(self, session: Session, version: IndexVersion) -> Snapshot:
        with self._lock:
            snapshot = self._snapshot
            if snapshot is not None and snapshot.version == version:
                return snapshot
            full = (
                snapshot is None
                or snapshot.version.epoch != version.epoch
                or snapshot.version.fit_id != version.fit_id
                or snapshot.version.generation > version.generation
            )
            if full:
                self._rows = {}
            query = select(
                AgentEmbedding.agent_id,
                AgentEmbedding.fit_id,
                AgentEmbedding.lexical,
                AgentEmbedding.semantic,
                AgentEmbedding.semantic_model,
            )
            if not full:
                query = query.where(AgentEmbedding.generation > snapshot.version.generation)
            for agent_id, fit_id, lex, sem, model in session.execute(query):
                if fit_id != version.fit_id:
                    continue  # written under another fit; a rebuild is replacing it
                self._rows[agent_id] = _Row(
                    lexical=lexical.unpack(lex),
                    semantic=np.frombuffer(sem, dtype="<f4") if sem is not None else None,
                    semantic_model=model,
                )
            self._snapshot = _build(version, self._rows)
            return self._snapshot


def _build(version: IndexVersion, rows: dict[int, _Row]) -> Snapshot:
    ids = np.fromiter(rows.keys(), dtype=np.int64, count=len(rows))
    values = list(rows.values())
    by_row = lexical.stack([row.lexical for row in values])
    models = {row.semantic_model for row in values if row.semantic is not None}
    semantic = model = None
    if len(models) == 1:
        model = models.pop()
        dims = next(len(row.semantic) for row in values if row.semantic is not None)
        semantic = np.zeros((len(values), dims), dtype=np.float32)
        for i, row in enumerate(values):
            if row.semantic is not None and row.semantic_model == model:
                semantic[i] = row.semantic
    return Snapshot(
        version=version,
        ids=ids,
        lexical_by_term=by_row.tocsc(),
        lexical_rows=by_row,
        semantic=semantic,
        semantic_model=model,
        position={int(agent_id): i for i, agent_id in enumerate(ids)},
    )


_indexes: dict[str, MemoryIndex] = {}
_indexes_lock = threading.Lock()


def memory_index_for(session: Session) -> MemoryIndex:
    key = session.get_bind().url.render_as_string(hide_password=False)
    with _indexes_lock:
        index = _indexes.get(key)
        if index is None:
            index = _indexes[key] = MemoryIndex()
        return index


def forget_memory_indexes() -> None:
    """Drop every in-process index (tests whose databases come and go); rebuilt on demand."""
    with _indexes_lock:
        _indexes.clear()
