"""The Jira side's state for one agent, read from the outbox (no Jira call, no core.jira import).

`{"state": "none|queued|sent|retrying|failed", "detail": str}` as in `agents status --json`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.models import JiraOutbox, OutboxKind, OutboxStatus

_LABELS = {
    OutboxKind.CREATE_ISSUE: "issue creation",
    OutboxKind.ATTACH_CODE: "code attachment",
    OutboxKind.ATTACH_SPEC: "specification attachment",
    OutboxKind.POST_COMMENT: "comment",
    OutboxKind.TRANSITION: "status change",
}


def jira_sync(session: Session, *, agent_id: int) -> dict[str, Any]:
    rows = list(
        session.scalars(
            select(JiraOutbox)
            .where(
                JiraOutbox.agent_id == agent_id,
                JiraOutbox.kind != OutboxKind.DEPLOY_NOTICE,
            )
            .order_by(JiraOutbox.id)
        )
    )
    if not rows:
        return {"state": "none", "detail": "nothing sent to Jira"}
    failed = [r for r in rows if r.status == OutboxStatus.FAILED]
    if failed:
        row = failed[0]
        return {
            "state": "failed",
            "detail": f"failed: {_label(row)}: {row.last_error or 'refused by Jira'} "
            f"(outbox #{row.id}; `python -m core jira outbox retry {row.id}`)",
        }
    pending = [r for r in rows if r.status == OutboxStatus.PENDING]
    retrying = [r for r in pending if r.attempts]
    if retrying:
        row = retrying[0]
        until = row.next_attempt_at.isoformat(timespec="seconds").replace("+00:00", "Z")
        return {
            "state": "retrying",
            "detail": f"retrying until {until}: {_label(row)}: {row.last_error or ''}".rstrip(),
        }
    if pending:
        waiting = next((r.last_error for r in pending if r.last_error), None)
        detail = f"queued: {len(pending)} Jira call(s) waiting to be sent"
        return {"state": "queued", "detail": f"{detail} ({waiting})" if waiting else detail}
    last = max(rows, key=lambda r: r.id)
    return {"state": "sent", "detail": f"sent: last {_label(last)} delivered"}


def _label(row: JiraOutbox) -> str:
    return _LABELS.get(row.kind, row.kind.value)
