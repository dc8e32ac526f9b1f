"""Processing of stored Jira deliveries: the paced backlog (per-issue batches), the single
delivery path, and applying one payload with its retry bookkeeping (core.jira.inbox stores)."""

from __future__ import annotations

import json
import logging
import time
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, or_, select
from sqlalchemy.orm import Session

from core.config import get_settings
from core.db import session_scope
from core.jira.events import apply_event
from core.models import WebhookEvent, WebhookStatus, utcnow
from core.pacing import Backlog, requests_in_flight
from core.sqlite_turns import sqlite_write_turn

log = logging.getLogger(__name__)

# One processing batch is one write transaction; the SQLite writer lock is free between
# batches. A batch stops early once BATCH_SECONDS of work are done and a request is being
# answered, so a request's INSERT waits for about one delivery's processing at most.
BATCH_EVENTS = 32
BATCH_SECONDS = 0.004
QUIET_BATCH_SECONDS = 0.05  # the longest batch even when no request is waiting


def process_batch(url: str, *, received_before: datetime | None = None) -> int:
    """Process the oldest `received` deliveries in one short write transaction, grouped per
    issue: at most BATCH_EVENTS, stopping after BATCH_SECONDS of work if a request is being
    answered (and after QUIET_BATCH_SECONDS anyway). How many this call applied; 0 only
    when none is left.

    A window another process (the other worker's backlog, the periodic job) finished while
    this one waited for the write lock is not "nothing left": the next oldest are read
    again. Counting it as the end stopped the backlog threads while thousands still waited,
    leaving them to the periodic job's 200 per run (issue 13's slow drain of ~87/s)."""
    query = _OLDEST_RECEIVED
    if received_before is not None:
        query = query.where(_EVENTS.c.received_at < received_before)
    while True:  # each round that applies nothing saw another process make progress
        with session_scope(url) as session:  # a read first: an empty backlog takes no write lock
            ids = session.connection().execute(query).scalars().all()
        if not ids:
            return 0
        applied = _process_window(url, ids)
        if applied:
            return applied


def _process_window(url: str, ids: list[int]) -> int:
    """Lock and process the deliveries among `ids` still `received`, issue by issue."""
    applied = 0
    with sqlite_write_turn(url), session_scope(url, write=True) as session:
        connection = session.connection()
        # The claim: every row of the window still `received`, locked in id order (so two
        # processes never wait on each other crosswise); one another process finished
        # meanwhile no longer matches. SQLite: the write lock taken at BEGIN is the claim.
        waiting = connection.execute(_LOCK_RECEIVED, {"ids": ids}).all()
        finished = []
        started = time.perf_counter()
        for row in _per_issue(waiting):
            finished.append(_apply_one(session, row))
            worked = time.perf_counter() - started
            if worked >= QUIET_BATCH_SECONDS or (
                worked >= BATCH_SECONDS and requests_in_flight(url)
            ):
                break  # the rest stay `received`, each issue's oldest first
        if finished:
            connection.execute(_FINISH_CLAIMED, finished)
        applied = len(finished)
    return applied


def _per_issue(rows: list[Any]) -> list[Any]:
    """`rows` (in id order) regrouped so each issue's deliveries follow one another, in
    arrival order within the issue; issues in the order of their oldest delivery. A
    delivery naming no issue is a group of its own."""
    groups: dict[Any, list[Any]] = {}
    for row in rows:
        groups.setdefault(row.issue_key or ("no issue", row.id), []).append(row)
    return [row for group in groups.values() for row in group]


def _apply_one(session: Session, row: Any) -> dict[str, Any]:
    """Apply one claimed delivery (in its own savepoint: a failure leaves the others of the
    batch applied and this one retrying); its finishing column values."""
    attempts = row.attempts + 1
    result = process_payload(
        session, payload=json.loads(row.payload), attempts=attempts, delivery_id=row.delivery_id
    )
    return {
        f"new_{column}": value for column, value in {"processed_at": None, **result}.items()
    } | {
        "event_id": row.id,
        "new_attempts": attempts,
    }


PROCESSOR = Backlog("jira-webhooks", process_batch)


def process_received(*, url: str, event_id: int) -> WebhookStatus | None:
    """Process one stored `received` event in its own transaction (None: someone else did)."""
    with sqlite_write_turn(url), session_scope(url, write=True) as session:
        return process_waiting(session, event_id=event_id)


def process_waiting(session: Session, *, event_id: int) -> WebhookStatus | None:
    """Process `event_id` in `session`, after its issue's earlier deliveries still waiting
    (the single-delivery path; the backlog takes whole per-issue batches)."""
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


# Pre-built Core statements: building ORM statements per delivery cost more than the SQL.
_EVENTS = WebhookEvent.__table__
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
# `received` rows never have a retry time: naming it lets SQLite walk the (status,
# next_attempt_at) index in id order and stop after BATCH_EVENTS rows, instead of sorting
# every waiting delivery (milliseconds per batch with tens of thousands waiting).
_OLDEST_RECEIVED = (
    select(_EVENTS.c.id)
    .where(_EVENTS.c.status == WebhookStatus.RECEIVED, _EVENTS.c.next_attempt_at.is_(None))
    .order_by(_EVENTS.c.id)
    .limit(BATCH_EVENTS)
)
_LOCK_RECEIVED = (
    select(
        _EVENTS.c.id,
        _EVENTS.c.issue_key,
        _EVENTS.c.delivery_id,
        _EVENTS.c.attempts,
        _EVENTS.c.payload,
    )
    .where(_EVENTS.c.id.in_(bindparam("ids", expanding=True)))
    .where(_EVENTS.c.status == WebhookStatus.RECEIVED)
    .order_by(_EVENTS.c.id)
    .with_for_update()
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
# The backlog counts the attempt when it finishes (its claim is the row lock it holds).
_FINISH_CLAIMED = _FINISH_EVENT.values(attempts=bindparam("new_attempts"))


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
