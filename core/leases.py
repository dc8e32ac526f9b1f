"""Database leases: at most one process (of many gunicorn workers or hosts) holds a lease."""

from __future__ import annotations

import os
import socket
import uuid
from datetime import timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.models import JobLease, utcnow

PROCESS_ID = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"[:64]


def try_acquire(
    session: Session,
    *,
    name: str,
    ttl_seconds: float,
    min_interval_seconds: float = 0.0,
    owner: str = PROCESS_ID,
) -> bool:
    """Take lease `name` unless another owner holds it or it ran less than the interval ago."""
    now = utcnow()
    locked_until = now + timedelta(seconds=ttl_seconds)
    result = session.execute(
        update(JobLease)
        .where(
            JobLease.name == name,
            or_(JobLease.locked_until.is_(None), JobLease.locked_until < now),
            or_(
                JobLease.last_run_at.is_(None),
                JobLease.last_run_at <= now - timedelta(seconds=min_interval_seconds),
            ),
        )
        .values(owner=owner, locked_until=locked_until)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount == 1:
        return True
    if session.get(JobLease, name) is not None:
        return False
    # First use of this lease: whoever inserts the row holds it. The loser of an insert race
    # gives up at once (no UPDATE after a duplicate-key wait, which deadlocks on InnoDB).
    try:
        with session.begin_nested():
            session.add(JobLease(name=name, owner=owner, locked_until=locked_until))
    except IntegrityError:
        return False
    return True


def release(session: Session, *, name: str, owner: str = PROCESS_ID, ran: bool = True) -> None:
    values: dict = {"owner": None, "locked_until": None}
    if ran:
        values["last_run_at"] = utcnow()
    session.execute(
        update(JobLease)
        .where(JobLease.name == name, JobLease.owner == owner)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


def holder(session: Session, *, name: str) -> str | None:
    return session.scalar(select(JobLease.owner).where(JobLease.name == name))
