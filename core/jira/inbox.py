"""Jira webhook deliveries: verify, store before processing, process, retry, replay, list."""

from __future__ import annotations

import enum
import hashlib
import json
import logging
import sqlite3
import time
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, or_, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from core import jsonbody
from core.actors import require_admin
from core.config import get_settings
from core.db import get_engine, session_scope
from core.errors import NotFoundError, ValidationError
from core.jira.events import apply_event, summarise
from core.jira.signature import verify
from core.leases import PROCESS_ID as WORKER_ID
from core.models import WebhookEvent, WebhookStatus, utcnow
from core.pacing import Backlog, batch_done, requests_in_flight, wait_turn
from core.sqlite_turns import sqlite_write_turn

log = logging.getLogger(__name__)

RETRY_LEASE = timedelta(seconds=60)
RECEIVED_GRACE = timedelta(seconds=10)
# One processing batch is one write transaction; the SQLite writer lock is free between
# batches. A batch stops early once BATCH_SECONDS of work are done and a request is being
# answered, so a request's INSERT waits for about one delivery's processing at most.
BATCH_EVENTS = 32
BATCH_SECONDS = 0.004
QUIET_BATCH_SECONDS = 0.05  # the longest batch even when no request is waiting


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
    status = _process_received(session, event_id=event_id)
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


def process_batch(url: str, *, received_before: datetime | None = None) -> int:
    """Process the oldest `received` deliveries in one short write transaction: at most
    BATCH_EVENTS, stopping after BATCH_SECONDS of work if a request is being answered (and
    after QUIET_BATCH_SECONDS anyway). How many this call applied."""
    query = _OLDEST_RECEIVED
    if received_before is not None:
        query = query.where(_EVENTS.c.received_at < received_before)
    with session_scope(url) as session:  # a read first: an empty backlog takes no write lock
        ids = session.connection().execute(query).scalars().all()
    if not ids:
        return 0
    applied = 0
    with sqlite_write_turn(url), session_scope(url, write=True) as session:
        started = time.perf_counter()
        for event_id in ids:
            applied += _process_received(session, event_id=event_id) is not None
            worked = time.perf_counter() - started
            if worked >= QUIET_BATCH_SECONDS or (
                worked >= BATCH_SECONDS and requests_in_flight(url)
            ):
                break
    return applied


PROCESSOR = Backlog("jira-webhooks", process_batch)


def process_received(*, url: str, event_id: int) -> WebhookStatus | None:
    """Process one stored `received` event in its own transaction (None: someone else did)."""
    with sqlite_write_turn(url), session_scope(url, write=True) as session:
        return _process_received(session, event_id=event_id)


def _process_received(session: Session, *, event_id: int) -> WebhookStatus | None:
    # Earlier deliveries for the same issue still waiting go first, so deliveries answered
    # one after the other apply in that order even when different workers received them.
    connection = session.connection()
    status = None
    for waiting_id in connection.execute(_WAITING_UP_TO, {"event_id": event_id}).scalars():
        status = _process_one(session, event_id=waiting_id)
    return status


def _process_one(session: Session, *, event_id: int) -> WebhookStatus | None:
    # The conditional UPDATE is the claim: a second process running it for the same event
    # waits for the first one's row lock (or SQLite's write lock), then matches no row.
    connection = session.connection()
    if connection.execute(_CLAIM_RECEIVED, {"event_id": event_id}).rowcount != 1:
        return None
    delivery_id, attempts, payload = connection.execute(_LOAD_EVENT, {"event_id": event_id}).one()
    result = process_payload(
        session, payload=json.loads(payload), attempts=attempts, delivery_id=delivery_id
    )
    connection.execute(
        _FINISH_EVENT,
        {f"new_{column}": value for column, value in {"processed_at": None, **result}.items()}
        | {"event_id": event_id},
    )
    return result["status"]


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
_ISSUE_OF_EVENT = (
    select(_EVENTS.c.issue_key).where(_EVENTS.c.id == bindparam("event_id")).scalar_subquery()
)
_WAITING_UP_TO = (
    select(_EVENTS.c.id)
    .where(
        _EVENTS.c.status == WebhookStatus.RECEIVED,
        or_(
            _EVENTS.c.id == bindparam("event_id"),
            and_(_EVENTS.c.issue_key == _ISSUE_OF_EVENT, _EVENTS.c.id < bindparam("event_id")),
        ),
    )
    .order_by(_EVENTS.c.id)
)
_OLDEST_RECEIVED = (
    select(_EVENTS.c.id)
    .where(_EVENTS.c.status == WebhookStatus.RECEIVED)
    .order_by(_EVENTS.c.id)
    .limit(BATCH_EVENTS)
)
_CLAIM_RECEIVED = (
    _EVENTS.update()
    .where(_EVENTS.c.id == bindparam("event_id"), _EVENTS.c.status == WebhookStatus.RECEIVED)
    .values(attempts=_EVENTS.c.attempts + 1)
)
_LOAD_EVENT = select(_EVENTS.c.delivery_id, _EVENTS.c.attempts, _EVENTS.c.payload).where(
    _EVENTS.c.id == bindparam("event_id")
)
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
        payload = jsonbody.loads(body)  # strict, and never RecursionError on deep nesting
    except jsonbody.JSONRejected as rejected:
        return {}, f"body is not JSON ({rejected.reason})"
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
