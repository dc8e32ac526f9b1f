"""Jira webhook deliveries: verify, store before processing, retry, replay, list.

Processing itself (the paced per-issue batches, one payload's retry bookkeeping) is in
core.jira.processing."""

from __future__ import annotations

import enum
import hashlib
import logging
import sqlite3
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from core import jsonbody
from core.actors import require_admin
from core.config import get_settings
from core.db import get_engine, session_scope
from core.errors import NotFoundError, ValidationError
from core.jira.events import summarise
from core.jira.processing import PROCESSOR, process_batch, process_stored, process_waiting
from core.jira.signature import verify
from core.leases import PROCESS_ID as WORKER_ID
from core.models import WebhookEvent, WebhookStatus, utcnow
from core.pacing import batch_done, wait_turn
from core.sqlite_turns import sqlite_write_turn

log = logging.getLogger(__name__)

RETRY_LEASE = timedelta(seconds=60)
RECEIVED_GRACE = timedelta(seconds=10)


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
    """The HTTP endpoint's work: verify, store durably, wake this process's processor.

    Only one INSERT, committed, runs inside the request; processing follows in a background
    thread paced to yield to requests (`PROCESSOR`), and the periodic job picks up anything a
    stopped process left `received`. Never raises for bad input.
    """
    receipt, values = _check(body=body, signature=signature, delivery_id=delivery_id)
    if values is None:
        return receipt
    url = get_settings().sqlalchemy_url
    try:
        event_id = _store(url, values)
    except (IntegrityError, sqlite3.IntegrityError):
        return Receipt(Verdict.DUPLICATE, "duplicate delivery; already stored", receipt.delivery_id)
    except (SQLAlchemyError, sqlite3.Error) as exc:
        log.error("webhook delivery %s not stored: %s", receipt.delivery_id, type(exc).__name__)
        return Receipt(Verdict.UNAVAILABLE, "could not store the event; retry later")
    if receipt.verdict == Verdict.ACCEPTED:
        process_soon(url=url, event_id=event_id)
    return receipt


def process_soon(*, url: str, event_id: int) -> None:
    """Hand a stored delivery to this process's processor (it takes the oldest first)."""
    PROCESSOR.notify(url)


def _store(url: str, values: dict[str, Any]) -> int:
    """INSERT one delivery in its own transaction; the new row id."""
    engine = get_engine(url)
    if engine.dialect.name != "sqlite":
        with engine.begin() as connection:
            return connection.execute(_INSERT_EVENT, values).inserted_primary_key[0]
    # Every SQLite writer of every process queues for one lock, so the time it is held is
    # what limits throughput: a single autocommit INSERT on the driver connection (with
    # its parameters prepared before the turn) holds it a fraction of a Core round trip.
    params = [values[column] for column in _SQLITE_INSERT_COLUMNS]
    params[-1] = params[-1].replace(tzinfo=None).isoformat(" ", "microseconds")  # as SQLAlchemy
    connection = engine.raw_connection()
    try:
        with sqlite_write_turn(url):
            cursor = connection.cursor()
            cursor.execute(_SQLITE_INSERT, params)
            return cursor.lastrowid
    finally:
        connection.close()


def receive(
    session: Session, *, body: bytes, signature: str | None, delivery_id: str | None
) -> Receipt:
    """Verify and store one delivery, then process it now in `session` (no background step)."""
    receipt, values = _check(body=body, signature=signature, delivery_id=delivery_id)
    if values is None:
        return receipt
    connection = session.connection()
    # A failed INSERT aborts a PostgreSQL transaction unless it ran in a savepoint; SQLite
    # (whose writers are serialised anyway) only undoes the statement, so it skips the cost.
    guard = nullcontext() if connection.dialect.name == "sqlite" else connection.begin_nested()
    try:
        with guard:
            event_id = connection.execute(_INSERT_EVENT, values).inserted_primary_key[0]
    except IntegrityError:
        return Receipt(Verdict.DUPLICATE, "duplicate delivery; already stored", receipt.delivery_id)
    if receipt.verdict != Verdict.ACCEPTED:
        return receipt
    status = process_waiting(session, event_id=event_id)
    return Receipt(Verdict.ACCEPTED, "stored", receipt.delivery_id, status)


def _check(
    *, body: bytes, signature: str | None, delivery_id: str | None
) -> tuple[Receipt, dict[str, Any] | None]:
    """The receipt to answer and the row to store (None: store nothing). No database work."""
    settings = get_settings()
    if settings.jira_webhook_secret:
        if not verify(settings.jira_webhook_secret, body, signature):
            return Receipt(Verdict.UNAUTHORIZED, "missing or invalid X-Hub-Signature"), None
    elif not settings.webhook_allow_unsigned:
        message = "JIRA_WEBHOOK_SECRET is not configured; refusing unsigned webhooks"
        return Receipt(Verdict.UNAUTHORIZED, message), None
    delivery_id = (delivery_id or "").strip()[:128] or "sha256:" + hashlib.sha256(body).hexdigest()
    payload, problem = _parse(body)
    summary = summarise(payload)
    status = WebhookStatus.INVALID if problem else WebhookStatus.RECEIVED
    values = {
        "delivery_id": delivery_id,
        "event_type": summary.event_type,
        "issue_key": summary.issue_key,
        "event_timestamp_ms": summary.timestamp_ms,
        # PostgreSQL text cannot hold NUL; only junk (never valid JSON) contains one raw.
        "payload": body.decode("utf-8", errors="replace").replace("\x00", "\ufffd"),
        "status": status,
        "error": problem,
        "attempts": 0,
        "received_at": utcnow(),
    }
    if problem:
        return Receipt(Verdict.INVALID, problem, delivery_id, status), values
    return Receipt(Verdict.ACCEPTED, "stored", delivery_id, status), values


# Pre-built Core statements on the hot path: building and caching ORM statements per
# request cost more than the SQL itself (see bench/webhook_throughput.py).
_EVENTS = WebhookEvent.__table__
_INSERT_EVENT = _EVENTS.insert()
_SQLITE_INSERT_COLUMNS = (
    "delivery_id",
    "event_type",
    "issue_key",
    "event_timestamp_ms",
    "payload",
    "status",
    "error",
    "attempts",
    "received_at",  # last: converted to SQLAlchemy's SQLite text form
)
# The connection is in autocommit mode (core.db sets isolation_level=None), so this one
# statement is its own durable transaction.
_SQLITE_INSERT = (
    f"INSERT INTO {_EVENTS.name} ({', '.join(_SQLITE_INSERT_COLUMNS)}) "
    f"VALUES ({', '.join('?' * len(_SQLITE_INSERT_COLUMNS))})"
)


def _parse(body: bytes) -> tuple[dict[str, Any], str | None]:
    try:
        payload = jsonbody.loads(body)  # strict, and never RecursionError on deep nesting
    except jsonbody.JSONRejected as rejected:
        return {}, f"body is not JSON ({rejected.reason})"
    if not isinstance(payload, dict):
        return {}, "body is not a JSON object"
    return payload, None


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


def process_left_received(*, limit: int = 200) -> int:
    """Process `received` events nobody processed (the process stopped before it could),
    in paced batches like the processor's, so a big leftover backlog does not stall answers."""
    url = get_settings().sqlalchemy_url
    # The grace keeps this job from racing the receiving process's own prompt processing
    # (harmless if it does: the claim lets only one of them process an event).
    cutoff = utcnow() - RECEIVED_GRACE
    applied = 0
    last_batch_end = 0.0
    while applied < limit:
        wait_turn(url, last_batch_end=last_batch_end)
        done = process_batch(url, received_before=cutoff)
        last_batch_end = batch_done(url)
        if not done:
            break
        applied += done
    return applied


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
    if event is None and ref.isascii() and ref.isdigit() and len(ref) <= 10 and int(ref) < 2**31:
        event = session.get(WebhookEvent, int(ref))  # ids are 32-bit: a longer number is no row
    if event is None:
        raise NotFoundError(f"no webhook delivery {ref!r}; see `python -m core webhooks list`")
    return event


def replay_delivery(
    session: Session, *, ref: str, actor_email: str | None = None
) -> dict[str, Any]:
    """Process a stored delivery again now, with a fresh retry budget."""
    require_admin(session, actor_email=actor_email, action="replay webhook deliveries")
    event = find_event(session, ref=ref)
    if event.status == WebhookStatus.INVALID:
        raise ValidationError(f"delivery {event.delivery_id} is not JSON and cannot be replayed")
    event.attempts = 0
    event.locked_by = event.locked_until = None
    process_stored(session, event=event)
    return _row(event)


def replay_failed_deliveries(*, actor_email: str | None = None) -> list[dict[str, Any]]:
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
            results.append(replay_delivery(session, ref=str(event_id), actor_email=actor_email))
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
