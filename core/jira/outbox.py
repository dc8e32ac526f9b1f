"""Calls owed to Jira (and deploy notices), delivered in the background, in order per agent.

Rows are queued inside the registry's transaction (by the event subscribers), so the
user's action commits at once and never waits on Jira. After commit the process's
background thread delivers them; the webhook server's periodic job and
`python -m core jira sync` pick up whatever is left.

- Order: an agent's rows go out oldest first; a row that is waiting (throttled, Jira down,
  issue not created yet) holds back that agent's later rows only. Deploy notices have their
  own lane.
- Throttling: a 429 is rescheduled for the time Jira named (`Retry-After` in seconds or as an
  HTTP-date, `X-RateLimit-Reset`), never slept on and never retried earlier; other failures
  back off exponentially with jitter.
- Lost answers: before a call is retried the outbox checks what the earlier attempt did —
  our marker property on comments, the issue's status for transitions, the attachment list,
  and for an issue creation a search by the submission label with back-off over
  JIRA_RECONCILE_SECONDS (Jira's search lags behind writes) before it would create again.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, case, event, or_, select, update
from sqlalchemy.orm import Session

from core import background
from core.config import get_settings
from core.db import get_engine
from core.jira.client import JiraClient, client_from_settings
from core.jira.errors import JiraError, JiraUnavailableError
from core.jira.issue_content import (
    attachment_name,
    comment_bodies,
    issue_fields,
    spec_attachment_name,
    spec_markdown,
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
SCAN_LIMIT = 1000
# After a commit, the caller still renders its answer (a dashboard rerun takes ~100 ms):
# the background delivery starts this much later so it does not slow that answer down.
AFTER_COMMIT_DELAY_SECONDS = 0.05
_PENDING_AGENTS = "jira_outbox_agents"
_settings_state = {"deliver_after_commit": True}


class _Postpone(Exception):
    """Not deliverable yet (no issue yet, or still reconciling); try later, no attempt used."""

    def __init__(self, reason: str, *, delay: float | None = None) -> None:
        super().__init__(reason)
        self.delay = delay


class _Retry(Exception):
    """A non-Jira delivery (deploy webhook) failed in a way worth retrying."""

    def __init__(self, reason: str, *, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


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


# -- queueing ------------------------------------------------------------------------------


def enqueue(
    session: Session,
    *,
    agent_id: int,
    kind: OutboxKind,
    dedupe_key: str,
    version: int | None = None,
    payload: dict[str, Any] | None = None,
) -> None:
    """Queue one call (idempotent by `dedupe_key`); it is attempted once the caller commits."""
    exists = session.scalars(
        select(JiraOutbox.id).where(JiraOutbox.dedupe_key == dedupe_key)
    ).first()
    if exists is None:
        add_row(
            session,
            agent_id=agent_id,
            kind=kind,
            dedupe_key=dedupe_key,
            version=version,
            payload=payload,
        )
    else:
        _deliver_after_commit(session, agent_id)


def add_row(
    session: Session,
    *,
    agent_id: int,
    kind: OutboxKind,
    dedupe_key: str,
    version: int | None = None,
    payload: dict[str, Any] | None = None,
) -> None:
    """`enqueue` for a caller that already knows `dedupe_key` is not queued yet."""
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


def queued_keys(session: Session, *, agent_id: int, version: int | None) -> set[str]:
    """The dedupe keys already queued (in any state) for one submitted version."""
    return set(
        session.scalars(
            select(JiraOutbox.dedupe_key).where(
                JiraOutbox.agent_id == agent_id, JiraOutbox.version == version
            )
        )
    )


def deliver_after_commit(enabled: bool) -> None:
    """Whether this process delivers queued rows in its background thread right after commit.

    Off in short-lived processes (`python -m core …`): their rows are delivered by the
    webhook server's periodic job or `jira sync`, so a command never waits on Jira."""
    _settings_state["deliver_after_commit"] = enabled


def _deliver_after_commit(session: Session, agent_id: int) -> None:
    session.info.setdefault(_PENDING_AGENTS, set()).add(agent_id)


# Listeners on the Session class, registered once: a per-session `event.listen` costs more
# than the rest of an approval's outbox work.
@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    if session.info.get(_PENDING_AGENTS):
        session.info[_PENDING_AGENTS] = set()


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if session.in_nested_transaction():  # a savepoint was released: not committed yet
        return
    agent_ids = session.info.get(_PENDING_AGENTS)
    if not agent_ids:
        return
    session.info[_PENDING_AGENTS] = set()
    if not _settings_state["deliver_after_commit"]:
        return
    # The plain engine for the session's database (not the caller's write-options engine).
    url = session.get_bind().url.render_as_string(hide_password=False)
    background.mark_activity(AFTER_COMMIT_DELAY_SECONDS)  # the user's answer first, then Jira
    for agent_id in sorted(agent_ids):
        background.run_soon(_deliver_in_background, url=url, agent_id=agent_id)


def _deliver_in_background(*, url: str, agent_id: int) -> None:
    deliver(engine=get_engine(url), agent_id=agent_id)


# -- delivery ------------------------------------------------------------------------------


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


def _write_session(engine: Engine) -> Session:
    if engine.dialect.name == "sqlite":
        engine = engine.execution_options(sqlite_immediate=True)
    return Session(engine, expire_on_commit=False)


@dataclass
class _Attempt:
    """What one send needs: the row's id, earlier attempts, and a way to note progress."""

    engine: Engine
    row_id: int
    attempts: int
    payload: dict[str, Any]

    def note(self, **updates: Any) -> None:
        """Store progress on the row at once (survives a crash in the middle of a call)."""
        self.payload = {**self.payload, **updates}
        with _write_session(self.engine) as session, session.begin():
            session.get(JiraOutbox, self.row_id).payload = dict(self.payload)


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


Send = Callable[[JiraClient | None, _Attempt], Any]


def _prepare(session: Session, row: JiraOutbox) -> Send | None:
    """Read what the call needs; return the function doing it, or None if it is moot."""
    version = _version(session, row)
    if row.kind == OutboxKind.DEPLOY_NOTICE:
        return _deploy_notice(row)
    if row.kind == OutboxKind.CREATE_ISSUE:
        if version is None or version.jira_issue_key:
            return None
        agent = session.get(Agent, row.agent_id)
        return _create_issue(
            fields=issue_fields(get_settings(), agent=agent, version=version),
            label=submission_label(row.agent_id, version.version),
            row_id=row.id,
        )
    if row.kind in (OutboxKind.ATTACH_CODE, OutboxKind.ATTACH_SPEC):
        if version is None:
            return None
        key = _issue_key(session, row, version)
        if row.kind == OutboxKind.ATTACH_CODE:
            name, content, mime = attachment_name(version), version.code.encode(), "text/plain"
        else:
            agent = session.get(Agent, row.agent_id)
            name, mime = spec_attachment_name(version), "text/markdown"
            content = spec_markdown(agent=agent, version=version).encode()
        return _attach(key=key, filename=name, content=content, content_type=mime)
    if row.kind == OutboxKind.POST_COMMENT:
        comment = session.get(Comment, row.payload.get("comment_id"))
        if comment is not None:
            if comment.jira_comment_id:
                return None
            author, text = comment.author, comment.body
        elif row.payload.get("text"):
            author, text = str(row.payload.get("author") or "Agent Registry"), row.payload["text"]
        else:
            return None
        key = _issue_key(session, row, version)
        return _post_comment(key=key, documents=comment_bodies(author, text), row_id=row.id)
    if row.kind == OutboxKind.TRANSITION:
        key = _issue_key(session, row, version)
        return _transition(
            key=key,
            statuses=list(row.payload.get("statuses") or []),
            setting=str(row.payload.get("setting") or "the status settings"),
        )
    return None


def _create_issue(*, fields: dict[str, Any], label: str, row_id: int) -> Send:
    def create(client: JiraClient, attempt: _Attempt) -> dict[str, Any]:
        # Look first: an earlier attempt may have created the issue and lost the answer (or
        # the process died before the key was stored).
        found = client.find_issue_by_label(label, reconcile_ids=attempt.payload.get("ids", []))
        if found:
            return {**found, "adopted": True}
        sent_at = attempt.payload.get("create_sent_at")
        if sent_at:
            _keep_reconciling(attempt, sent_at)
        attempt.note(create_sent_at=utcnow().isoformat(), searches=0)
        marker = {"submission": label, "outbox_id": row_id}
        try:
            return client.create_issue(fields, dedupe_label=label, marker=marker)
        except JiraUnavailableError as exc:
            if not exc.maybe_done:  # a 429: Jira did nothing
                attempt.note(create_sent_at=None)
            raise
        except JiraError:
            attempt.note(create_sent_at=None)  # refused: nothing was created
            raise

    return create


def _keep_reconciling(attempt: _Attempt, sent_at: str) -> None:
    """After an ambiguous create, search with back-off for JIRA_RECONCILE_SECONDS before
    ever creating a second issue (Jira's search is eventually consistent)."""
    window = get_settings().jira_reconcile_seconds
    elapsed = (utcnow() - datetime.fromisoformat(sent_at)).total_seconds()
    if elapsed >= window:
        log.warning("no issue found %.0f s after an unanswered create; creating again", elapsed)
        return
    searches = int(attempt.payload.get("searches") or 0)
    attempt.note(searches=searches + 1)
    delay = min(window / 20 * 2**searches, window - elapsed)
    raise _Postpone(
        "an earlier create got no answer; searching Jira for that issue before creating "
        f"another (search {searches + 1}, again in {delay:.0f} s)",
        delay=delay,
    )


def _attach(*, key: str, filename: str, content: bytes, content_type: str) -> Send:
    def attach(client: JiraClient, attempt: _Attempt) -> Any:
        if attempt.attempts:  # an earlier answer may have been lost: is the file there?
            fields = client.get_issue(key, fields="attachment").get("fields") or {}
            for item in fields.get("attachment") or []:
                if item.get("filename") == filename and int(item.get("size", -1)) == len(content):
                    return [item]
        return client.add_attachment(
            key, filename=filename, content=content, content_type=content_type
        )

    return attach


def _post_comment(*, key: str, documents: list[dict[str, Any]], row_id: int) -> Send:
    def post(client: JiraClient, attempt: _Attempt) -> dict[str, Any]:
        posted: dict[int, str] = {}
        if attempt.attempts:  # an earlier answer may have been lost: find our marked parts
            for found in client.find_marked_comments(key, "outbox_id", row_id):
                posted.setdefault(int(found["marker"].get("part", 0)), str(found["id"]))
        for part, body in enumerate(documents):
            if part in posted:
                continue
            marker = {"outbox_id": row_id, "part": part, "parts": len(documents)}
            answer = client.add_comment(key, body, marker=marker)
            posted[part] = str((answer or {}).get("id", ""))
        return {"id": posted.get(0), "ids": [posted[p] for p in sorted(posted)]}

    return post


def _transition(*, key: str, statuses: list[str], setting: str) -> Send:
    wanted = {name.casefold() for name in statuses}

    def move(client: JiraClient, attempt: _Attempt) -> dict[str, Any]:
        # Check first: a transition whose 204 was lost is already done, and a retry of it
        # would be refused (Jira offers no transition to the status the issue is in).
        current = client.current_status(key)
        if current.casefold() in wanted:
            return {"moved_to": current, "already": True}
        moved = client.transition_to(key, statuses)
        if moved is not None:
            return {"moved_to": moved}
        current = client.current_status(key)
        if current.casefold() in wanted:
            return {"moved_to": current, "already": True}
        raise JiraError(
            f"Jira issue {key} in {current!r} has no transition to {', '.join(statuses)} "
            f"({setting}); fix the Jira workflow or the setting (`python -m core jira check`), "
            "then `python -m core jira outbox retry`"
        )

    return move


def _deploy_notice(row: JiraOutbox) -> Send | None:
    from core import deploy_webhook

    settings = get_settings()
    if not settings.deploy_webhook_url:
        return None
    body, message_id = row.payload.get("body") or {}, str(row.payload.get("message_id") or "")

    def notify(_client: JiraClient | None, _attempt: _Attempt) -> dict[str, Any]:
        result = deploy_webhook.send(
            settings.deploy_webhook_url,
            settings.deploy_webhook_secret,
            body,
            message_id=message_id or None,
        )
        if result.ok:
            return {"status": result.status}
        if result.status is not None and 400 <= result.status < 500 and result.status != 429:
            raise JiraError(result.error, status=result.status)
        raise _Retry(result.error, retry_after=result.retry_after)

    return notify


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


# -- operations (CLI `jira outbox`, Admin page) ---------------------------------------------


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
