"""Binding a deploy to the content that was approved."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.audit.content import content_hash_of
from core.errors import ConflictError
from core.models import AgentStatus, AgentVersion, StatusChange


def approved_hash(session: Session, *, agent_id: int, version: int) -> str | None:
    """The content hash recorded (in the hash-chained history) when `version` was approved."""
    recorded = session.scalar(
        select(StatusChange.content_hash)
        .where(
            StatusChange.agent_id == agent_id,
            StatusChange.version == version,
            StatusChange.to_status == AgentStatus.APPROVED.value,
        )
        .order_by(StatusChange.id.desc())
        .limit(1)
    )
    return recorded


def require_approved_content(session: Session, *, snapshot: AgentVersion) -> str:
    """The snapshot's hash, recomputed now; refused if it is not the hash that was approved."""
    current = content_hash_of(snapshot)
    approved = approved_hash(session, agent_id=snapshot.agent_id, version=snapshot.version)
    approved = approved or snapshot.content_hash
    if approved != current:
        raise ConflictError(
            f"cannot deploy agent {snapshot.agent_id} version {snapshot.version}: its content "
            f"hash is now {current[:12]}… but {(approved or 'none')[:12]}… was approved; the "
            "snapshot changed after approval, so submit it again for review"
        )
    return current
