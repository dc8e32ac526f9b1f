"""The shared index state row: the current fit and a change counter every process can poll."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.models import SearchIndexState

STATE_ID = 1


@dataclass(frozen=True)
class IndexVersion:
    """What an in-process copy of the index must match to be current."""

    epoch: str
    generation: int
    fit_id: int | None


def read_version(session: Session) -> IndexVersion | None:
    row = session.execute(
        select(SearchIndexState.epoch, SearchIndexState.generation, SearchIndexState.fit_id).where(
            SearchIndexState.id == STATE_ID
        )
    ).first()
    return IndexVersion(row.epoch, row.generation, row.fit_id) if row else None


def lock_state(session: Session) -> SearchIndexState:
    """The state row, locked until commit so index writers take turns (created if missing)."""
    query = (
        select(SearchIndexState)
        .where(SearchIndexState.id == STATE_ID)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    state = session.scalars(query).first()
    if state is None:
        try:
            with session.begin_nested():
                session.add(
                    SearchIndexState(
                        id=STATE_ID, epoch=uuid.uuid4().hex, generation=0, changes_since_fit=0
                    )
                )
        except IntegrityError:
            pass  # another process created it first
        state = session.scalars(query).one()
    return state
