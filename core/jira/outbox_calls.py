"""The Jira calls (and deploy notices) an outbox row makes, and what one send needs."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from core.config import get_settings
from core.jira.client import JiraClient
from core.jira.errors import JiraError, JiraUnavailableError
from core.jira.issue_content import (
    attachment_name,
    comment_bodies,
    issue_fields,
    spec_attachment_name,
    spec_markdown,
    submission_label,
)
from core.models import Agent, AgentVersion, Comment, JiraOutbox, OutboxKind, utcnow

log = logging.getLogger("core.jira.outbox")  # the logger name the outbox has always used


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
