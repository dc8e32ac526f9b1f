"""Jira webhook deliveries: verify, store before processing, process, retry, replay, list."""

from __future__ import annotations

import enum
import hashlib
import json
import logging
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import bindparam, or_, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from core.config import get_settings
from core.db import session_scope
from core.errors import NotFoundError, ValidationError
from core.jira.events import apply_event, summarise
from core.jira.signature import verify
from core.leases import PROCESS_ID as WORKER_ID
from core.models import WebhookEvent, WebhookStatus, utcnow
from core.sqlite_turns import sqlite_write_turn

log = logging.getLogger(__name__)

RETRY_LEASE = timedelta(seconds=60)


class Verdict(enum.StrEnum):
    ACCEPTED = "accepted"  # stored (and processed, or scheduled for a retry)
    DUPLICATE = "duplicate"  # this delivery id was stored before
    UNAUTHORIZED = "unauthorized"  # missing/bad signature, or no secret configured
    INVALID = "invalid"  # signed but not a JSON object; stored as invalid
    UNAVAILABLE = "unavailable"  # could not be stored; Jira should retry


@dataclass(frozen=True)
class Receipt:
    verdict: Verdict
    message: str
    delivery_id: str = ""
    status: WebhookStatus | None = None


def handle_delivery(*, body: bytes, signature: str | None, delivery_id: str | None) -> Receipt:
    """Everything the HTTP endpoint does, in one transaction; never raises for bad input."""
    try:
        with sqlite_write_turn(get_settings().sqlalchemy_url), session_scope(write=True) as session:
            return receive(session, body=body, signature=signature, delivery_id=delivery_id)
    except SQLAlchemyError as exc:
        log.error("webhook delivery %s not stored: %s", delivery_id, type(exc).__name__)
        return Receipt(Verdict.UNAVAILABLE, "could not store the event; retry later")


def receive(
    session: Session, *, body: bytes, signature: str | None, delivery_id: str | None
) -> Receipt:
    """Verify and store one delivery, then process it; a duplicate id is not processed again."""
    settings = get_settings()
    if settings.jira_webhook_secret:
        if not verify(settings.jira_webhook_secret, body, signature):
            return Receipt(Verdict.UNAUTHORIZED, "missing or invalid X-Hub-Signature")
    elif not settings.webhook_allow_unsigned:
        return Receipt(
            Verdict.UNAUTHORIZED,
            "JIRA_WEBHOOK_SECRET is not configured; refusing unsigned webhooks",
        )
    delivery_id = (delivery_id or "").strip()[:128] or "sha256:" + hashlib.sha256(body).hexdigest()
    payload, problem = _parse(body)
    summary = summarise(payload)
    values = {
        "delivery_id": delivery_id,
        "event_type": summary.event_type,
        "issue_key": summary.issue_key,
        "event_timestamp_ms": summary.timestamp_ms,
        # PostgreSQL text cannot hold NUL; only junk (never valid JSON) contains one raw.
        "payload": body.decode("utf-8", errors="replace").replace("\x00", "\ufffd"),
        "status": WebhookStatus.INVALID if problem else WebhookStatus.RECEIVED,
        "error": problem,
        "attempts": 0 if problem else 1,
        "received_at": utcnow(),
    }
    # Pre-built Core statements on the hot path: building and caching ORM statements per
    # request cost more than the SQL itself (see bench/webhook_throughput.py).
    connection = session.connection()
    # A failed INSERT aborts a PostgreSQL transaction unless it ran in a savepoint; SQLite
    # (whose writers are serialised anyway) only undoes the statement, so it skips the cost.
    guard = nullcontext() if connection.dialect.name == "sqlite" else connection.begin_nested()
    try:
        with guard:
            event_id = connection.execute(_INSERT_EVENT, values).inserted_primary_key[0]
    except IntegrityError:
        return Receipt(Verdict.DUPLICATE, "duplicate delivery; already stored", delivery_id)
    if problem:
        return Receipt(Verdict.INVALID, problem, delivery_id, WebhookStatus.INVALID)
    result = process_payload(session, payload=payload, attempts=1, delivery_id=delivery_id)
    connection.execute(
        _FINISH_EVENT,
        {f"new_{column}": value for column, value in {"processed_at": None, **result}.items()}
        | {"event_id": event_id},
    )
    return Receipt(Verdict.ACCEPTED, "stored", delivery_id, result["status"])


_EVENTS = WebhookEvent.__table__
_INSERT_EVENT = _EVENTS.insert()
_FINISH_EVENT = (
    _EVENTS.update()
    .where(_EVENTS.c.id == bindparam("event_id"))
    .values(
        status=bindparam("new_status"),
        error=bindparam("new_error"),
        processed_at=bindparam("new_processed_at"),
        next_attempt_at=bindparam("new_next_attempt_at"),
    )
)


def _parse(body: bytes) -> tuple[dict[str, Any], str | None]:
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return {}, "body is not JSON"
    if not isinstance(payload, dict):
        return {}, "body is not a JSON object"
    return payload, None


def process_payload(
    session: Session, *, payload: dict[str, Any], attempts: int, delivery_id: str
) -> dict[str, Any]:
    """Apply a stored event inside a savepoint; return the event's new column values.

    On failure the savepoint is rolled back and a retry is scheduled (1 s → 2 s → 4 s), or,
    once the retries are used up, the event becomes `failed` (the dead letter).
    """
    settings = get_settings()
    try:
        with session.begin_nested():
            outcome = apply_event(session, payload=payload)
    except Exception as exc:  # database trouble and bugs alike: retried, then dead-lettered
        error = f"{type(exc).__name__}: {str(exc).splitlines()[0][:300] if str(exc) else ''}"
        if attempts > settings.webhook_max_retries:
            log.error("webhook %s failed for good: %s", delivery_id, error)
            return {"status": WebhookStatus.FAILED, "error": error, "next_attempt_at": None}
        delay = settings.webhook_retry_base_seconds * 2 ** (attempts - 1)
        log.warning("webhook %s failed (%s); retry in %.1f s", delivery_id, error, delay)
        return {
            "status": WebhookStatus.RETRYING,
            "error": error,
            "next_attempt_at": utcnow() + timedelta(seconds=delay),
        }
    return {
        "status": outcome.status,
        "error": None if outcome.status == WebhookStatus.PROCESSED else outcome.note,
        "processed_at": utcnow(),
        "next_attempt_at": None,
    }


def process_stored(session: Session, *, event: WebhookEvent) -> None:
    """Process an already stored event again (retries and replays)."""
    event.attempts = (event.attempts or 0) + 1
    result = process_payload(
        session,
        payload=json.loads(event.payload),
        attempts=event.attempts,
        delivery_id=event.delivery_id,
    )
    for column, value in result.items():
        setattr(event, column, value)


def retry_due_events(*, limit: int = 50) -> int:
    """Re-process events whose retry time has come; each claimed by one worker via a lease."""
    now = utcnow()
    with session_scope() as session:
        ids = session.scalars(
            select(WebhookEvent.id)
            .where(
                WebhookEvent.status == WebhookStatus.RETRYING,
                WebhookEvent.next_attempt_at <= now,
                or_(WebhookEvent.locked_until.is_(None), WebhookEvent.locked_until < now),
            )
            .order_by(WebhookEvent.next_attempt_at, WebhookEvent.id)
            .limit(limit)
        ).all()
    handled = 0
    for event_id in ids:
        if not _claim(event_id):
            continue
        with session_scope(write=True) as session:
            event = session.get(WebhookEvent, event_id)
            if event is None or event.status != WebhookStatus.RETRYING:
                continue
            process_stored(session, event=event)
            event.locked_by = event.locked_until = None
        handled += 1
    return handled


def _claim(event_id: int) -> bool:
    now = utcnow()
    with session_scope(write=True) as session:
        claimed = session.execute(
            update(WebhookEvent)
            .where(
                WebhookEvent.id == event_id,
                WebhookEvent.status == WebhookStatus.RETRYING,
                or_(WebhookEvent.locked_until.is_(None), WebhookEvent.locked_until < now),
            )
            .values(locked_by=WORKER_ID, locked_until=now + RETRY_LEASE)
            .execution_options(synchronize_session=False)
        ).rowcount
    return claimed == 1


def find_event(session: Session, *, ref: str) -> WebhookEvent:
    """By delivery id, or by the numeric row id."""
    event = session.scalars(select(WebhookEvent).where(WebhookEvent.delivery_id == ref)).first()
    if event is None and ref.isdigit():
        event = session.get(WebhookEvent, int(ref))
    if event is None:
        raise NotFoundError(f"no webhook delivery {ref!r}; see `python -m core webhooks list`")
    return event


def replay_delivery(session: Session, *, ref: str) -> dict[str, Any]:
    """Process a stored delivery again now, with a fresh retry budget."""
    event = find_event(session, ref=ref)
    if event.status == WebhookStatus.INVALID:
        raise ValidationError(f"delivery {event.delivery_id} is not JSON and cannot be replayed")
    event.attempts = 0
    event.locked_by = event.locked_until = None
    process_stored(session, event=event)
    return _row(event)


def replay_failed_deliveries() -> list[dict[str, Any]]:
    """Replay every dead-lettered delivery, oldest first, each in its own transaction."""
    with session_scope() as session:
        ids = list(
            session.scalars(
                select(WebhookEvent.id)
                .where(WebhookEvent.status == WebhookStatus.FAILED)
                .order_by(WebhookEvent.received_at, WebhookEvent.id)
            )
        )
    results = []
    for event_id in ids:
        with session_scope(write=True) as session:
            results.append(replay_delivery(session, ref=str(event_id)))
    return results


def _row(e: WebhookEvent) -> dict[str, Any]:
    return {
        "delivery_id": e.delivery_id,
        "event_type": e.event_type,
        "issue_key": e.issue_key,
        "status": e.status.value,
        "attempts": e.attempts,
        "error": e.error,
        "received_at": e.received_at.isoformat().replace("+00:00", "Z"),
    }


def list_events(
    session: Session, *, status: WebhookStatus | None = None, limit: int = 50
) -> list[dict[str, Any]]:
    """Newest first, in the shape `webhooks list --json` prints."""
    query = select(WebhookEvent).order_by(WebhookEvent.received_at.desc(), WebhookEvent.id.desc())
    if status is not None:
        query = query.where(WebhookEvent.status == status)
    return [_row(e) for e in session.scalars(query.limit(limit))]
