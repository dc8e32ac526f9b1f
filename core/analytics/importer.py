"""Importing events from a CSV or JSON-lines file, streamed in batches in one transaction."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from sqlalchemy.orm import Session

from core.analytics.events import EventError, InvalidEvent, naive_utcnow, normalise_event
from core.analytics.ingest import known_agents, store_rows
from core.errors import ValidationError

BATCH = 5_000
KEPT_ERRORS = 100  # refusals kept for the report; all are counted


class ImportRejected(ValidationError):
    """The file has invalid lines and `skip_invalid` was not given: nothing was imported."""

    def __init__(self, errors: list[EventError], *, invalid: int, total: int) -> None:
        first = errors[0]
        super().__init__(
            f"{invalid} of {total} lines are invalid (first: line {first.index}: "
            f"{first.message}); nothing was imported — fix them or use --skip-invalid",
            field=first.field,
        )
        self.errors = errors
        self.invalid = invalid


@dataclass
class ImportResult:
    imported: int = 0
    invalid: int = 0
    records: int = 0
    errors: list[EventError] = field(default_factory=list)  # the first KEPT_ERRORS

    def as_dict(self) -> dict[str, Any]:
        return {
            "imported": self.imported,
            "skipped": self.invalid,
            "errors": [e.as_dict() | {"line": e.index} for e in self.errors],
        }


def detect_format(path: Path, head: bytes) -> str:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return "csv"
    if suffix in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    return "jsonl" if head.lstrip().startswith(b"{") else "csv"


def _decoded(stream: IO[bytes], on_bytes: Callable[[int], None] | None) -> Iterator[str]:
    for number, raw in enumerate(stream, start=1):
        if on_bytes:
            on_bytes(len(raw))
        try:
            yield raw.decode("utf-8-sig" if raw.startswith(b"\xef\xbb\xbf") else "utf-8")
        except UnicodeDecodeError:
            raise ValidationError(
                f"line {number} is not UTF-8 text: give a CSV or JSON-lines file of events",
                field="file",
            ) from None


def _json_line(line: str) -> Any:
    try:
        return json.loads(line)
    except json.JSONDecodeError as error:
        return InvalidEvent("line", f"not valid JSON ({error.msg})")
    except RecursionError:
        return InvalidEvent("line", "JSON nested too deeply")
    except ValueError as error:  # a number of more than 4,300 digits
        return InvalidEvent("line", f"not valid JSON ({str(error).split(':')[0]})")


def read_events(
    stream: IO[bytes], *, fmt: str, on_bytes: Callable[[int], None] | None = None
) -> Iterator[tuple[int, Any]]:
    """(line number, raw event or InvalidEvent) for each record of the file."""
    lines = _decoded(stream, on_bytes)
    if fmt == "csv":
        reader = csv.DictReader(lines)
        try:
            for record in reader:
                if not any((v or "").strip() for v in record.values() if isinstance(v, str)):
                    continue
                if None in record:  # more cells than header columns
                    yield reader.line_num, InvalidEvent("line", "more values than header columns")
                    continue
                yield reader.line_num, record
        except csv.Error as error:  # a NUL byte, a field over csv's size limit
            raise ValidationError(
                f"line {reader.line_num} is not readable CSV ({error})", field="file"
            ) from None
        return
    for number, line in enumerate(lines, start=1):
        if line.strip():
            yield number, _json_line(line)


def _row_id(ref: str) -> int | None:
    """The agent id `ref` may name: digits within the 32-bit id column, else None."""
    if ref.isascii() and ref.isdigit() and len(ref) <= 10 and int(ref) < 2**31:
        return int(ref)
    return None


def _checked(raw: Any, agents: dict[int, str], now: Any) -> Any:
    """`normalise_event`, with a value it cannot represent refused like any invalid line."""
    try:
        return normalise_event(raw, known_agents=agents, now=now)
    except (ArithmeticError, ValueError, RecursionError) as error:  # e.g. year 1 at +01:00
        reason = str(error).split(":")[0]
        raise InvalidEvent("event", f"unreadable value ({reason})") from None


def import_file(
    session: Session,
    *,
    path: Path,
    skip_invalid: bool = False,
    fmt: str | None = None,
    on_bytes: Callable[[int], None] | None = None,
) -> ImportResult:
    """Import every event of a file in the caller's transaction.

    Invalid lines are reported by line number; unless `skip_invalid`, any invalid line raises
    `ImportRejected` after the whole file was checked (roll the transaction back).
    """
    result = ImportResult()
    agents: dict[int, str] = {}
    checked: set[int] = set()
    now = naive_utcnow()
    if path.exists() and not path.is_file():  # a directory, a FIFO, /dev/zero
        raise ValidationError(f"cannot read {path}: not a regular file", field="file")
    try:
        stream = path.open("rb")
    except OSError as error:
        raise ValidationError(f"cannot read {path}: {error.strerror}") from None
    with stream:
        fmt = fmt or detect_format(path, stream.peek(64)[:64])
        batch: list[tuple[int, Any]] = []

        def flush() -> None:
            refs = {str(r.get("agent_id")).strip() for _, r in batch if isinstance(r, dict)}
            new = {_row_id(ref) for ref in refs} - {None} - checked
            agents.update(known_agents(session, agent_ids=new))
            checked.update(new)
            rows = []
            for number, raw in batch:
                try:
                    if isinstance(raw, InvalidEvent):
                        raise raw
                    rows.append(_checked(raw, agents, now))
                except InvalidEvent as invalid:
                    result.invalid += 1
                    if len(result.errors) < KEPT_ERRORS:
                        result.errors.append(EventError(number, invalid.field, invalid.message))
            if skip_invalid or not result.invalid:
                result.imported += store_rows(session, rows=rows)
            batch.clear()

        for item in read_events(stream, fmt=fmt, on_bytes=on_bytes):
            result.records += 1
            batch.append(item)
            if len(batch) >= BATCH:
                flush()
        flush()
    if result.invalid and not skip_invalid:
        raise ImportRejected(result.errors, invalid=result.invalid, total=result.records)
    return result
