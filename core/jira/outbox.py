"""Jira calls owed by the registry, delivered at most once each and retried until done.

Rows are queued inside the caller's transaction, delivered right after it commits, and
retried by the webhook server's background job and by `python -m core jira sync`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine, event, or_, select, update
from sqlalchemy.orm import Session

from core.config import get_settings
from core.db import get_engine
from core.jira.client import JiraClient, client_from_settings
from core.jira.errors import JiraError, JiraUnavailableError
from core.jira.issue_content import (
    attachment_name,
    comment_body,
    issue_fields,
    submission_label,
)
from core.jira.issue_states import remember_issue_id
from core.leases import PROCESS_ID as WORKER_ID
from core.models import (
    Agent,
    AgentVersion,
    Comment,
    JiraOutbox,
    OutboxKind,
    OutboxStatus,
    utcnow,
)

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=5)
MAX_DELAY = timedelta(hours=1)
_PENDING_AGENTS = "jira_outbox_agents"


class _Postpone(Exception):
    """Not deliverable yet (the issue does not exist yet); try later without an attempt."""


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


def enqueue(
    session: Session,
    *,
    agent_id: int,
    kind: OutboxKind,
    dedupe_key: str,
    version: int | None = None,
    payload: dict[str, Any] | None = None,
) -> None:
    """Queue one Jira call (idempotent by `dedupe_key`); it is attempted once the caller commits."""
    exists = session.scalars(
        select(JiraOutbox.id).where(JiraOutbox.dedupe_key == dedupe_key)
    ).first()
    if exists is None:
        session.add(
            JiraOutbox(
                agent_id=agent_id,
                version=version,
                kind=kind,
                dedupe_key=dedupe_key,
                payload=payload or {},
                next_attempt_at=utcnow(),
            )
        )
    _deliver_after_commit(session, agent_id)


def _deliver_after_commit(session: Session, agent_id: int) -> None:
    if _PENDING_AGENTS not in session.info:
        session.info[_PENDING_AGENTS] = set()
        event.listen(session, "after_commit", _after_commit)
    session.info[_PENDING_AGENTS].add(agent_id)


def _after_commit(session: Session) -> None:
    if session.in_nested_transaction():  # a savepoint was released: not committed yet
        return
    agent_ids = session.info.get(_PENDING_AGENTS) or set()
    session.info[_PENDING_AGENTS] = set()
    # The plain engine for the session's database (not the caller's write-options engine).
    engine = get_engine(session.get_bind().url.render_as_string(hide_password=False))
    for agent_id in sorted(agent_ids):
        try:
            deliver(engine=engine, agent_id=agent_id)
        except Exception:  # the job retries; the user's action already committed
            log.exception("delivering Jira calls for agent %s failed; will retry", agent_id)


def deliver(
    *,
    engine: Engine | None = None,
    agent_id: int | None = None,
    include_failed: bool = False,
    client: JiraClient | None = None,
    limit: int = 100,
) -> SyncReport:
    """Deliver due rows (all pending rows of `agent_id` if given), oldest first."""
    report = SyncReport()
    if not get_settings().jira_enabled:
        return report
    engine = engine or get_engine()
    now = utcnow()
    with Session(engine) as session:
        statuses = [OutboxStatus.PENDING] + ([OutboxStatus.FAILED] if include_failed else [])
        query = select(JiraOutbox.id).where(
            JiraOutbox.status.in_(statuses),
            or_(JiraOutbox.locked_until.is_(None), JiraOutbox.locked_until < now),
        )
        if agent_id is not None:
            query = query.where(JiraOutbox.agent_id == agent_id)
        else:
            query = query.where(JiraOutbox.next_attempt_at <= now)
        ids = list(session.scalars(query.order_by(JiraOutbox.id).limit(limit)))
    if not ids:
        return report
    client = client or client_from_settings()
    for row_id in ids:
        if _claim(engine, row_id, statuses):
            _deliver_one(engine, client, row_id, report)
    return report


def _claim(engine: Engine, row_id: int, statuses: list[OutboxStatus]) -> bool:
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
                .values(locked_by=WORKER_ID, locked_until=now + LEASE)
                .execution_options(synchronize_session=False)
            ).rowcount
            == 1
        )


def _write_session(engine: Engine) -> Session:
    if engine.dialect.name == "sqlite":
        engine = engine.execution_options(sqlite_immediate=True)
    return Session(engine, expire_on_commit=False)


def _deliver_one(engine: Engine, client: JiraClient, row_id: int, report: SyncReport) -> None:
    with Session(engine, expire_on_commit=False) as session:
        row = session.get(JiraOutbox, row_id)
        label = f"{row.kind.value} #{row.id} (agent {row.agent_id})"
        try:
            send, waiting = _prepare(session, row), None
        except _Postpone as postponed:
            send, waiting = None, str(postponed)
    if waiting is not None:
        _finish(engine, row_id, postpone=waiting)
        report.waiting.append(f"{label}: {waiting}")
        return
    try:
        result = send(client) if send else None
    except JiraUnavailableError as exc:
        _finish(engine, row_id, retry=str(exc))
        report.retrying.append(f"{label}: {exc}")
        return
    except JiraError as exc:
        _finish(engine, row_id, fail=str(exc))
        report.failed.append(f"{label}: {exc}")
        return
    _finish(engine, row_id, result=result)
    report.done.append(label)


def _prepare(session: Session, row: JiraOutbox) -> Any:
    """Read what the call needs; return a function doing the Jira call, or None if moot."""
    version = _version(session, row)
    if row.kind == OutboxKind.CREATE_ISSUE:
        if version is None or version.jira_issue_key:
            return None
        agent = session.get(Agent, row.agent_id)
        fields = issue_fields(get_settings(), agent=agent, version=version)
        label = submission_label(row.agent_id, version.version)

        def create(client: JiraClient) -> dict[str, Any]:
            # Always look first: an earlier attempt may have created the issue and then died
            # (process killed, database write failed) before the key was stored.
            return client.find_issue_by_label(label) or client.create_issue(
                fields, dedupe_label=label
            )

        return create
    if row.kind == OutboxKind.ATTACH_CODE:
        key = _issue_key(session, row, version)
        filename, content = attachment_name(version), version.code.encode()
        return lambda client: client.add_attachment(key, filename=filename, content=content)
    if row.kind == OutboxKind.POST_COMMENT:
        comment = session.get(Comment, row.payload.get("comment_id"))
        if comment is None or comment.jira_comment_id:
            return None
        key = _issue_key(session, row, version)
        body = comment_body(comment)
        return lambda client: client.add_comment(key, body)
    if row.kind == OutboxKind.TRANSITION:
        key = _issue_key(session, row, version)
        statuses = list(row.payload.get("statuses") or [])
        return lambda client: {"moved_to": client.transition_to(key, statuses)}
    return None


def _version(session: Session, row: JiraOutbox) -> AgentVersion | None:
    if row.version is None:
        return None
    return session.scalars(
        select(AgentVersion).where(
            AgentVersion.agent_id == row.agent_id, AgentVersion.version == row.version
        )
    ).first()


def _issue_key(session: Session, row: JiraOutbox, version: AgentVersion | None) -> str:
    key = version.jira_issue_key if version is not None else None
    if key is None and version is None:
        agent = session.get(Agent, row.agent_id)
        key = agent.jira_issue_key if agent else None
    if key is None:
        raise _Postpone("waiting for the Jira issue to be created")
    return key


def _finish(
    engine: Engine,
    row_id: int,
    *,
    result: Any = None,
    retry: str | None = None,
    fail: str | None = None,
    postpone: str | None = None,
) -> None:
    settings = get_settings()
    now = utcnow()
    with _write_session(engine) as session, session.begin():
        row = session.get(JiraOutbox, row_id)
        row.locked_by = row.locked_until = None
        if postpone is not None:
            row.status = OutboxStatus.PENDING
            row.last_error = postpone
            row.next_attempt_at = now + timedelta(seconds=settings.jira_outbox_retry_seconds)
            return
        row.attempts += 1
        if retry is not None or fail is not None:
            row.last_error = (retry or fail or "")[:2000]
            if fail is not None:
                row.status = OutboxStatus.FAILED
                return
            row.status = OutboxStatus.PENDING
            delay = timedelta(seconds=settings.jira_outbox_retry_seconds * 2 ** (row.attempts - 1))
            row.next_attempt_at = now + min(delay, MAX_DELAY)
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
        row.payload = {**row.payload, "issue_key": key}
    elif row.kind == OutboxKind.POST_COMMENT and isinstance(result, dict) and result.get("id"):
        jira_id = str(result["id"])
        comment = session.get(Comment, row.payload.get("comment_id"))
        echo = session.scalars(select(Comment).where(Comment.jira_comment_id == jira_id)).first()
        if echo is not None and comment is not None and echo.id != comment.id:
            session.delete(echo)  # the webhook echo got in first as a separate comment
            session.flush()
        if comment is not None and comment.jira_comment_id is None:
            comment.jira_comment_id = jira_id
    elif row.kind == OutboxKind.TRANSITION and isinstance(result, dict):
        row.payload = {**row.payload, "moved_to": result.get("moved_to")}


def outbox_counts(session: Session) -> dict[str, int]:
    """Rows by status, for `jira sync`."""
    counts = {status.value: 0 for status in OutboxStatus}
    for status in session.scalars(select(JiraOutbox.status)):
        counts[status.value] += 1
    return counts
