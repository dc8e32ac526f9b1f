"""The delivery loop: claim due outbox rows, send them in order per lane, record the outcome."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, case, or_, select, update
from sqlalchemy.orm import Session

from core.config import get_settings
from core.db import get_engine
from core.jira.client import JiraClient, client_from_settings
from core.jira.errors import JiraError, JiraUnavailableError
from core.jira.issue_states import remember_issue_id
from core.jira.outbox_calls import _Attempt, _Postpone, _prepare, _Retry, _version, _write_session
from core.leases import PROCESS_ID as WORKER_ID
from core.models import Agent, Comment, JiraOutbox, OutboxKind, OutboxStatus, utcnow

LEASE = timedelta(minutes=5)
MAX_DELAY = timedelta(hours=1)
SCAN_LIMIT = 1000


@dataclass
class SyncReport:
    done: list[str] = field(default_factory=list)
    retrying: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, list[str]]:
        return {
            "done": self.done,
            "retrying": self.retrying,
            "failed": self.failed,
            "waiting": self.waiting,
        }


def deliver(
    *,
    engine: Engine | None = None,
    agent_id: int | None = None,
    include_failed: bool = False,
    client: JiraClient | None = None,
    limit: int = 100,
) -> SyncReport:
    """Deliver the rows now due (of `agent_id` only, if given), oldest first per agent."""
    report = SyncReport()
    engine = engine or get_engine()
    ids = _due_rows(engine, agent_id=agent_id, include_failed=include_failed)[:limit]
    if not ids:
        return report
    statuses = _statuses(include_failed)
    clients: dict[str, JiraClient] = {}
    if client is not None:
        clients["jira"] = client
    blocked: set[tuple[int, str]] = set()
    for row_id, lane in ids:
        if lane in blocked or not _claim(engine, row_id, statuses):
            continue
        if not _deliver_one(engine, clients, row_id, report):
            blocked.add(lane)  # this agent's later rows wait for this one
    return report


def _statuses(include_failed: bool) -> list[OutboxStatus]:
    return [OutboxStatus.PENDING] + ([OutboxStatus.FAILED] if include_failed else [])


def _lane(agent_id: int, kind: OutboxKind) -> tuple[int, str]:
    return (agent_id, "deploy" if kind == OutboxKind.DEPLOY_NOTICE else "jira")


def _due_rows(
    engine: Engine, *, agent_id: int | None, include_failed: bool
) -> list[tuple[int, tuple[int, str]]]:
    """Ids of rows due now whose lane has nothing older still waiting, oldest first."""
    now = utcnow()
    jira_on = get_settings().jira_enabled
    with Session(engine) as session:
        query = select(
            JiraOutbox.id,
            JiraOutbox.agent_id,
            JiraOutbox.kind,
            JiraOutbox.status,
            JiraOutbox.next_attempt_at,
            JiraOutbox.locked_until,
        ).where(JiraOutbox.status.in_(_statuses(include_failed)))
        if agent_id is not None:
            query = query.where(JiraOutbox.agent_id == agent_id)
        rows = session.execute(query.order_by(JiraOutbox.id).limit(SCAN_LIMIT)).all()
    blocked: set[tuple[int, str]] = set()
    due: list[tuple[int, tuple[int, str]]] = []
    for row_id, row_agent, kind, status, next_at, locked_until in rows:
        lane = _lane(row_agent, kind)
        if lane in blocked:
            continue
        waiting = status == OutboxStatus.PENDING and _aware(next_at) > now
        locked = locked_until is not None and _aware(locked_until) > now
        if waiting or locked or (lane[1] == "jira" and not jira_on):
            if status == OutboxStatus.PENDING:
                blocked.add(lane)
            continue
        due.append((row_id, lane))
    return due


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _claim(engine: Engine, row_id: int, statuses: list[OutboxStatus]) -> bool:
    """Lease the row to this process. Taking over a lease left by a dead process counts as
    an attempt (it may have sent the call), so the next send checks Jira first."""
    now = utcnow()
    with _write_session(engine) as session, session.begin():
        return (
            session.execute(
                update(JiraOutbox)
                .where(
                    JiraOutbox.id == row_id,
                    JiraOutbox.status.in_(statuses),
                    or_(JiraOutbox.locked_until.is_(None), JiraOutbox.locked_until < now),
                )
                .values(
                    locked_by=WORKER_ID,
                    locked_until=now + LEASE,
                    attempts=JiraOutbox.attempts
                    + case((JiraOutbox.locked_by.is_not(None), 1), else_=0),
                )
                .execution_options(synchronize_session=False)
            ).rowcount
            == 1
        )


def _deliver_one(
    engine: Engine, clients: dict[str, JiraClient], row_id: int, report: SyncReport
) -> bool:
    """Attempt one claimed row; True if it is done (delivered or moot)."""
    with Session(engine, expire_on_commit=False) as session:
        row = session.get(JiraOutbox, row_id)
        label = f"{row.kind.value} #{row.id} (agent {row.agent_id})"
        attempt = _Attempt(engine, row.id, row.attempts, dict(row.payload or {}))
        try:
            send = _prepare(session, row)
        except _Postpone as postponed:
            _finish(engine, row_id, postpone=postponed)
            report.waiting.append(f"{label}: {postponed}")
            return False
    try:
        if send is None:
            result = None
        else:
            client = None
            if row.kind != OutboxKind.DEPLOY_NOTICE:
                client = clients.setdefault("jira", client_from_settings(max_retries=0))
            result = send(client, attempt)
    except _Postpone as postponed:
        _finish(engine, row_id, postpone=postponed)
        report.waiting.append(f"{label}: {postponed}")
        return False
    except (JiraUnavailableError, _Retry) as exc:
        _finish(engine, row_id, retry=exc)
        report.retrying.append(f"{label}: {exc}")
        return False
    except JiraError as exc:
        _finish(engine, row_id, fail=str(exc))
        report.failed.append(f"{label}: {exc}")
        return False
    _finish(engine, row_id, result=result)
    report.done.append(label)
    return True


def retry_delay(attempts: int, *, rng: Callable[[], float] = random.random) -> timedelta:
    """Exponential back-off from JIRA_OUTBOX_RETRY_SECONDS, ±25% jitter, at most an hour."""
    base = get_settings().jira_outbox_retry_seconds * 2 ** max(attempts - 1, 0)
    return min(timedelta(seconds=base * (0.75 + 0.5 * rng())), MAX_DELAY)


def _finish(
    engine: Engine,
    row_id: int,
    *,
    result: Any = None,
    retry: Exception | None = None,
    fail: str | None = None,
    postpone: _Postpone | None = None,
) -> None:
    settings = get_settings()
    now = utcnow()
    with _write_session(engine) as session, session.begin():
        row = session.get(JiraOutbox, row_id)
        row.locked_by = row.locked_until = None
        if postpone is not None:
            delay = postpone.delay
            if delay is None:
                delay = settings.jira_outbox_retry_seconds
            row.status = OutboxStatus.PENDING
            row.last_error = f"waiting: {postpone}"[:2000]
            row.next_attempt_at = now + timedelta(seconds=delay)
            return
        row.attempts += 1
        if fail is not None:
            row.status, row.last_error = OutboxStatus.FAILED, fail[:2000]
            return
        if retry is not None:
            asked = getattr(retry, "retry_after", None)
            # Jira's own time is honoured in full (no cap); otherwise back off with jitter.
            delay = timedelta(seconds=asked) if asked is not None else retry_delay(row.attempts)
            row.status = OutboxStatus.PENDING
            row.last_error = str(retry)[:2000]
            row.next_attempt_at = now + delay
            return
        _record_result(session, row, result)
        row.status, row.done_at, row.last_error = OutboxStatus.DONE, now, None


def _record_result(session: Session, row: JiraOutbox, result: Any) -> None:
    """Store what Jira gave back: the issue key at once, the Jira id of a posted comment."""
    if row.kind == OutboxKind.CREATE_ISSUE and isinstance(result, dict) and result.get("key"):
        version = _version(session, row)
        key = str(result["key"])
        if version is not None and not version.jira_issue_key:
            version.jira_issue_key = key
        agent = session.get(Agent, row.agent_id)
        if agent is not None and agent.version == row.version:
            agent.jira_issue_key = key
        remember_issue_id(session, key=key, issue_id=result.get("id"))  # for Server/DC events
        row.payload = {**row.payload, "issue_key": key, "issue_id": result.get("id")}
    elif row.kind == OutboxKind.POST_COMMENT and isinstance(result, dict) and result.get("id"):
        jira_id = str(result["id"])
        row.payload = {**row.payload, "jira_comment_ids": result.get("ids") or [jira_id]}
        comment = session.get(Comment, row.payload.get("comment_id"))
        echo = session.scalars(select(Comment).where(Comment.jira_comment_id == jira_id)).first()
        if echo is not None and comment is not None and echo.id != comment.id:
            session.delete(echo)  # the webhook echo got in first as a separate comment
            session.flush()
        if comment is not None and comment.jira_comment_id is None:
            comment.jira_comment_id = jira_id
    elif row.kind == OutboxKind.TRANSITION and isinstance(result, dict):
        row.payload = {**row.payload, "moved_to": result.get("moved_to")}
