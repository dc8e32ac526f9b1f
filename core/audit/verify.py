"""`audit verify`: recompute the history hash chain and name the first entry that breaks it."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import Connection, select

from core.audit.chain import GENESIS, HEAD_ID, encode, stamp, stream_rows
from core.db import get_engine
from core.models import AuditChainHead, StatusChange

_head = AuditChainHead.__table__


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    entries: int  # entries checked and found in chain
    head: str  # the last good hash (note it somewhere safe: it pins everything before it)
    bad_id: int | None = None
    reason: str | None = None

    def as_dict(self) -> dict:
        data = {"ok": self.ok, "entries": self.entries, "head": self.head}
        if not self.ok:
            data |= {"bad_entry_id": self.bad_id, "reason": self.reason}
        return data


def verify_database(url: str | None = None) -> ChainReport:
    """Verify on one consistent snapshot (so concurrent appends never look like tampering)."""
    engine = get_engine(url)
    options = {} if engine.dialect.name == "sqlite" else {"isolation_level": "REPEATABLE READ"}
    with engine.connect().execution_options(**options) as connection, connection.begin():
        return verify_chain(connection)


# SQLite builds each row's JSON array in C (`json_array`); it matches Python's encoding for
# ordinary text, and any row where it might not is re-checked in Python before being flagged,
# so a row passes exactly when its Python-canonical hash matches.
_SQLITE_LINKS = (
    "SELECT id, prev_hash, row_hash, json_array(id, agent_id, version, from_status, to_status,"
    " actor, source, comment, created_at, content_hash) FROM agent_status_history ORDER BY id"
)


def _links(connection: Connection) -> Iterator[tuple]:
    """(id, prev_hash, row_hash, canonical JSON of the hashed fields) in chain order."""
    if connection.dialect.name == "sqlite":
        result = connection.exec_driver_sql(_SQLITE_LINKS)
        try:
            yield from result
        finally:
            result.close()
        return
    for row in stream_rows(connection):
        yield row[0], row[10], row[11], encode((*row[:8], stamp(row[8]), row[9]))


def verify_chain(connection: Connection) -> ChainReport:
    """Walk the whole history in id order; stop at the first entry that does not fit."""
    head = connection.execute(
        select(_head.c.entries, _head.c.last_id, _head.c.last_hash).where(_head.c.id == HEAD_ID)
    ).first()
    sha256 = hashlib.sha256
    expected, count, last_id = GENESIS, 0, None
    before, before_id = GENESIS, None  # the link before the last good entry
    sqlite = connection.dialect.name == "sqlite"
    links = _links(connection)
    for row_id, prev_hash, row_hash, payload in links:
        if (
            prev_hash != expected
            or row_hash != sha256((prev_hash + payload).encode("utf-8")).hexdigest()
        ):
            if not sqlite:  # a streaming cursor must be closed before the next query
                links.close()
            row = _full_row(connection, row_id)
            if not sqlite or prev_hash != expected or not _self_consistent(row):
                links.close()
                walk = _Walk(expected, count, last_id, before, before_id)
                return _diagnose(connection, row, walk)
        before, before_id = expected, last_id
        expected, count, last_id = row_hash, count + 1, row_id
    return _check_head(connection, head, expected, count, last_id)


def _full_row(connection: Connection, row_id: int) -> tuple:
    row = _row_after(connection, row_id - 1)
    assert row is not None and row[0] == row_id
    return row


def _row_after(connection: Connection, after_id: int) -> tuple | None:
    rows = stream_rows(connection, after_id=after_id)
    try:
        return next(rows, None)
    finally:
        rows.close()


@dataclass(frozen=True)
class _Walk:
    """Where the walk stopped: the last good entry and the one before it."""

    expected: str
    count: int
    last_id: int | None
    before: str
    before_id: int | None


def _self_consistent(row: tuple) -> bool:
    prev_hash, row_hash = row[10], row[11]
    if prev_hash is None or row_hash is None:
        return False
    fields = [*row[:8], stamp(row[8]), row[9]]
    return row_hash == hashlib.sha256((prev_hash + encode(fields)).encode("utf-8")).hexdigest()


def _bad(entries: int, head: str, bad_id: int | None, reason: str) -> ChainReport:
    return ChainReport(ok=False, entries=entries, head=head, bad_id=bad_id, reason=reason)


def _diagnose(connection: Connection, row: tuple, walk: _Walk) -> ChainReport:
    row_id, prev_hash, row_hash = row[0], row[10], row[11]
    last_id, expected = walk.last_id, walk.expected

    def bad(reason: str, bad_id: int | None = row_id) -> ChainReport:
        entries = walk.count - 1 if bad_id == last_id and last_id is not None else walk.count
        head = walk.before if bad_id == last_id and last_id is not None else expected
        return ChainReport(ok=False, entries=entries, head=head, bad_id=bad_id, reason=reason)

    def name(entry_id: int | None) -> str:
        return f"entry {entry_id}" if entry_id is not None else "the start of the chain"

    consistent = _self_consistent(row)
    if consistent and last_id is not None and prev_hash == walk.before:
        return bad(
            f"entry {last_id} was inserted out of chain "
            f"(entry {row_id} links to {name(walk.before_id)})",
            last_id,
        )
    following = _row_after(connection, row_id)
    if following is not None and following[10] == expected and _self_consistent(following):
        return bad(
            f"entry {row_id} was inserted out of chain "
            f"(entry {following[0]} links to {name(last_id)})"
        )
    if prev_hash is None or row_hash is None:
        return bad(f"entry {row_id} has no chain hash: inserted out of chain")
    if not consistent:
        return bad(f"entry {row_id} was changed: it no longer matches its hash")
    return bad(
        f"entry {row_id} does not link to {name(last_id)}: an entry between them was removed"
        + (f" or entry {last_id} was rewritten" if last_id is not None else "")
    )


def _check_head(
    connection: Connection,
    head,
    expected: str,
    count: int,
    last_id: int | None,  # noqa: ANN001
) -> ChainReport:
    if head is None:
        if count == 0:
            return ChainReport(ok=True, entries=0, head=GENESIS)
        return _bad(count, expected, last_id, "the chain head (audit_chain_head row 1) was removed")
    head_entries, head_last_id, head_hash = head
    if head_entries == count and head_hash == expected:
        return ChainReport(ok=True, entries=count, head=expected)
    if count > head_entries and head_last_id is not None:
        extra = connection.execute(
            select(StatusChange.id)  # the first entry past the head
            .where(StatusChange.id > head_last_id)
            .order_by(StatusChange.id)
            .limit(1)
        ).scalar()
        if extra is not None:
            return _bad(
                count,
                expected,
                extra,
                f"entry {extra} was appended out of chain (the chain head ends at entry {head_last_id})",
            )
    return _bad(
        count,
        expected,
        last_id,
        f"entries after entry {last_id} were removed (the chain head records {head_entries} "
        f"entries ending at entry {head_last_id})"
        if last_id is not None
        else f"all {head_entries} entries were removed (the chain head ends at entry {head_last_id})",
    )
