"""The outbox's read side and retries, for the CLI (`jira outbox`, `jira sync`) and Admin page."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.jira.outbox_delivery import _aware
from core.jira.outbox_queue import _deliver_after_commit
from core.models import JiraOutbox, OutboxStatus, utcnow


def outbox_counts(session: Session) -> dict[str, int]:
    """Rows by status, for `jira sync`."""
    counts = {status.value: 0 for status in OutboxStatus}
    for status in session.scalars(select(JiraOutbox.status)):
        counts[status.value] += 1
    return counts


def row_state(row: JiraOutbox) -> str:
    """queued | retrying | sent | failed (a refused row stays failed until retried)."""
    if row.status == OutboxStatus.DONE:
        return "sent"
    if row.status == OutboxStatus.FAILED:
        return "failed"
    return "retrying" if row.attempts else "queued"


def row_view(row: JiraOutbox) -> dict[str, Any]:
    return {
        "id": row.id,
        "agent_id": row.agent_id,
        "version": row.version,
        "kind": row.kind.value,
        "state": row_state(row),
        "attempts": row.attempts,
        "next_attempt_at": _iso(row.next_attempt_at) if row.status != OutboxStatus.DONE else None,
        "last_error": row.last_error,
        "created_at": _iso(row.created_at),
        "done_at": _iso(row.done_at),
    }


def _iso(value: datetime | None) -> str | None:
    return _aware(value).isoformat().replace("+00:00", "Z") if value else None


def list_rows(
    session: Session, *, include_sent: bool = False, limit: int = 200
) -> list[dict[str, Any]]:
    """Rows not yet delivered (and the newest delivered ones with `include_sent`), oldest
    undelivered first."""
    query = select(JiraOutbox)
    if not include_sent:
        query = query.where(JiraOutbox.status != OutboxStatus.DONE)
    rows = session.scalars(query.order_by(JiraOutbox.id.desc()).limit(limit))
    return [row_view(row) for row in sorted(rows, key=lambda r: r.id)]


def retry_rows(session: Session, *, row_id: int | None = None, failed: bool = False) -> list[int]:
    """Make a row (or every failed row) due now; returns the agent ids concerned."""
    from core.errors import NotFoundError, ValidationError

    query = select(JiraOutbox)
    if row_id is not None:
        query = query.where(JiraOutbox.id == row_id)
    elif failed:
        query = query.where(JiraOutbox.status == OutboxStatus.FAILED)
    else:
        raise ValidationError("name an outbox row id or --failed", field="id")
    rows = list(session.scalars(query))
    if row_id is not None and not rows:
        raise NotFoundError(f"no outbox row {row_id}; see `python -m core jira outbox list`")
    agents: set[int] = set()
    for row in rows:
        if row.status == OutboxStatus.DONE:
            continue
        row.status, row.next_attempt_at = OutboxStatus.PENDING, utcnow()
        agents.add(row.agent_id)
        _deliver_after_commit(session, row.agent_id)
    session.flush()
    return sorted(agents)
