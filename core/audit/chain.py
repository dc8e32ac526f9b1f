"""The history hash chain: every `agent_status_history` row links to the one before it.

    row_hash = sha256(prev_hash + json([id, agent_id, version, from_status, to_status, actor,
                                        source, comment, created_at, content_hash]))

with `created_at` as naive UTC text `YYYY-MM-DD HH:MM:SS.ffffff`, JSON without whitespace and
non-ASCII kept (`ensure_ascii=False`), and the first row linking to `GENESIS`. The chain's end
(entry count, last id, last hash) is kept in `audit_chain_head` row 1.

Appends are serialised: the first flush of a transaction that writes history locks the head row
(`SELECT … FOR UPDATE` on PostgreSQL and MariaDB; SQLite allows one writer at a time anyway), so
ids are handed out in chain order. The hashes are computed after the INSERT (they cover the id)
and written in the same transaction. This runs for every ORM session (listeners on `Session`),
so no writer of history can forget it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, bindparam, event, func, insert, select, text, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from core.models.agents import AuditChainHead, StatusChange
from core.models.types import utcnow

GENESIS = "0" * 64
HEAD_ID = 1
_HEAD_KEY = "audit_chain_head"

_history = StatusChange.__table__
_head = AuditChainHead.__table__

# The columns hashed, in order (the SELECT used by verification and re-chaining).
CHAIN_SELECT = text(
    "SELECT id, agent_id, version, from_status, to_status, actor, source, comment, created_at,"
    " content_hash, prev_hash, row_hash FROM agent_status_history"
)

_json = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
try:  # the C encoder, built once (JSONEncoder.encode builds one per call: 2x slower here)
    from json.encoder import c_encode_basestring, c_make_encoder

    _c_encode = c_make_encoder(None, None, c_encode_basestring, None, ":", ",", False, False, True)

    def encode(fields: Sequence[Any]) -> str:
        """Compact JSON array of str/int/None values (what `_json.encode` gives, faster)."""
        return "".join(_c_encode(fields, 0))

except ImportError:  # pragma: no cover - CPython ships the C accelerator
    encode = _json.encode


def stamp(value: datetime | str) -> str:
    """A stored timestamp as the chain's text: naive UTC with microseconds."""
    if isinstance(value, str):  # SQLite returns its stored text; SQLAlchemy writes 26 chars
        if len(value) == 26:
            return value
        value = datetime.fromisoformat(value)
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return f"{value:%Y-%m-%d %H:%M:%S.%f}"


def row_digest(prev_hash: str, fields: Sequence[Any]) -> str:
    """`fields`: id, agent_id, version, from_status, to_status, actor, source, comment,
    created_at text, content_hash."""
    return hashlib.sha256((prev_hash + encode(fields)).encode("utf-8")).hexdigest()


def _fields(row: StatusChange) -> list[Any]:
    source = row.source
    return [
        row.id,
        row.agent_id,
        row.version,
        row.from_status,
        row.to_status,
        row.actor,
        getattr(source, "value", source),
        row.comment,
        stamp(row.created_at),
        row.content_hash,
    ]


def lock_head(connection: Connection) -> list[Any]:
    """Lock the chain head for this transaction; [entries, last_id, last_hash]."""
    found = connection.execute(
        select(_head.c.entries, _head.c.last_id, _head.c.last_hash)
        .where(_head.c.id == HEAD_ID)
        .with_for_update()
    ).first()
    if found is not None:
        return list(found)
    # Only on a database whose head row was removed (a new, empty one has it from migration).
    connection.execute(
        insert(_head).values(
            id=HEAD_ID, entries=0, last_id=None, last_hash=GENESIS, updated_at=utcnow()
        )
    )
    return [0, None, GENESIS]


def _save_head(connection: Connection, head: list[Any]) -> None:
    entries, last_id, last_hash = head
    connection.execute(
        update(_head)
        .where(_head.c.id == HEAD_ID)
        .values(entries=entries, last_id=last_id, last_hash=last_hash, updated_at=utcnow())
    )


_set_hashes = (
    update(_history)
    .where(_history.c.id == bindparam("row_id"))
    .values(prev_hash=bindparam("prev"), row_hash=bindparam("hash"))
)


def _new_history(session: Session) -> list[StatusChange]:
    return [obj for obj in session.new if isinstance(obj, StatusChange)]


@event.listens_for(Session, "before_flush")
def _lock_before_insert(session: Session, _flush_context, _instances) -> None:  # noqa: ANN001
    session.info.pop(_HEAD_KEY, None)
    rows = _new_history(session)
    if not rows:
        return
    for row in rows:
        if row.created_at is None:
            row.created_at = utcnow()
        if row.comment is None:
            row.comment = ""
    session.info[_HEAD_KEY] = lock_head(session.connection())


@event.listens_for(Session, "after_flush")
def _chain_inserted(session: Session, _flush_context) -> None:  # noqa: ANN001
    head = session.info.pop(_HEAD_KEY, None)
    if head is None:
        return
    rows = sorted(_new_history(session), key=lambda row: row.id)
    entries, last_id, prev = head
    params = []
    for row in rows:
        digest = row_digest(prev, _fields(row))
        params.append({"row_id": row.id, "prev": prev, "hash": digest})
        set_committed_value(row, "prev_hash", prev)
        set_committed_value(row, "row_hash", digest)
        entries, last_id, prev = entries + 1, row.id, digest
    connection = session.connection()
    connection.execute(_set_hashes, params)
    _save_head(connection, [entries, last_id, prev])


def stream_rows(connection: Connection, *, after_id: int | None = None) -> Iterator[tuple]:
    """History rows in chain order, as stored (raw driver values), without loading them all."""
    sql = CHAIN_SELECT.text
    if after_id is not None:
        sql += f" WHERE id > {int(after_id)}"
    result = connection.exec_driver_sql(
        sql + " ORDER BY id", execution_options={"stream_results": True, "yield_per": 5000}
    )
    try:
        yield from result
    finally:
        result.close()  # a server-side cursor left open would block the next query


def rechain(connection: Connection, *, from_id: int | None = None, batch: int = 5000) -> int:
    """Recompute the links of the rows from `from_id` on (default all) and reset the head.

    For the migration that introduces the chain and for demo seeding (which backdates the rows
    it just wrote). Never run it to "repair" a chain `verify` flagged: that hides the evidence.
    Returns the number of entries in the chain.
    """
    head = lock_head(connection)
    prev, entries, last_id = GENESIS, 0, None
    if from_id is not None:
        before = connection.execute(
            select(func.count(), func.max(_history.c.id)).where(_history.c.id < from_id)
        ).one()
        entries, last_id = before
        if last_id is not None:
            prev = connection.execute(
                select(_history.c.row_hash).where(_history.c.id == last_id)
            ).scalar_one()
    rows = list(stream_rows(connection, after_id=None if from_id is None else from_id - 1))
    params: list[dict[str, Any]] = []
    for row in rows:
        digest = row_digest(prev, [*row[:8], stamp(row[8]), row[9]])
        params.append({"row_id": row[0], "prev": prev, "hash": digest})
        prev, entries, last_id = digest, entries + 1, row[0]
        if len(params) >= batch:
            connection.execute(_set_hashes, params)
            params = []
    if params:
        connection.execute(_set_hashes, params)
    head[:] = [entries, last_id, prev]
    _save_head(connection, head)
    return entries
