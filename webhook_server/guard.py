"""The request guard: every view reads its body and JSON through here.

- `bearer_token()` — the `Authorization: Bearer` secret, read before anything else;
- `read_body()` — the raw body, refused with 413 above MAX_CONTENT_LENGTH whether the client
  sent Content-Length or `Transfer-Encoding: chunked` (never truncated);
- `json_body()` — `read_body()` parsed strictly (core.jsonbody): 400 naming what is wrong,
  nesting bounded by MAX_JSON_DEPTH.

Views authenticate first (bearer token, or the Jira HMAC over the raw bytes) and only then
parse. Errors are raised as HTTP exceptions and rendered as JSON by webhook_server.errors.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, request
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge

from core.config import get_settings
from core.jsonbody import JSONRejected, loads

READ_SIZE = 64 * 1024
# After the limit is passed, up to this many times the limit is still read and dropped so the
# client (which sends the whole body before reading) sees the 413 instead of a reset.
DRAIN_FACTOR = 4


class InvalidJSON(BadRequest):
    """400 with a description naming what is wrong with the JSON."""


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def _limit() -> int:
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    return int(limit) if limit else get_settings().max_content_length


def _too_large(limit: int) -> RequestEntityTooLarge:
    return RequestEntityTooLarge(f"the body is larger than {limit} bytes (MAX_CONTENT_LENGTH)")


def read_body() -> bytes:
    """The raw body, at most MAX_CONTENT_LENGTH bytes (413 above, whatever the encoding)."""
    limit = _limit()
    length = request.content_length
    if length is not None:
        if length > limit:
            raise _too_large(limit)
        return request.get_data(cache=False)
    environ = request.environ
    if "wsgi.input_terminated" not in environ:
        return b""  # no length and a server that does not end the stream: nothing safe to read
    stream = environ["wsgi.input"]
    chunks: list[bytes] = []
    total = 0
    while chunk := stream.read(READ_SIZE):
        total += len(chunk)
        if total > limit:
            _drain(stream, total, limit * DRAIN_FACTOR)
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _drain(stream: Any, total: int, bound: int) -> None:
    while total < bound and (chunk := stream.read(READ_SIZE)):
        total += len(chunk)


def json_body(*, empty: Any = None) -> Any:
    """The body as JSON (`empty` when there is no body and `empty` is not None)."""
    body = read_body()
    if not body.strip() and empty is not None:
        return empty
    if not body.strip():
        raise InvalidJSON("the body is empty; send JSON (Content-Type: application/json)")
    try:
        return loads(body, max_depth=get_settings().max_json_depth)
    except JSONRejected as rejected:
        raise InvalidJSON(f"the body must be JSON: {rejected.reason}") from None
