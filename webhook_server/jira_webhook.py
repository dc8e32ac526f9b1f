"""`POST /api/jira/webhook`: a few lines of HTTP around core.jira.inbox.handle_delivery.

The common request (a POST with a Content-Length within MAX_CONTENT_LENGTH) is answered by
`serve_plain` straight from the WSGI environ, without Flask's request and response objects
(they cost more CPU than verifying and storing the delivery; docs/jira.md, "Webhook
throughput"). Anything else — a chunked body, one too large, a malformed length — goes
through the Flask view below, which answers the same way.
"""

from __future__ import annotations

import json
import logging
from http import HTTPStatus
from typing import Any

from flask import Blueprint, Response, request

from core.jira.inbox import Verdict, handle_delivery
from webhook_server.errors import RETRY_AFTER_SECONDS
from webhook_server.guard import read_body

log = logging.getLogger(__name__)
bp = Blueprint("jira_webhook", __name__)

PATH = "/api/jira/webhook"
HTTP_STATUS = {
    Verdict.ACCEPTED: 200,
    Verdict.DUPLICATE: 200,
    Verdict.UNAUTHORIZED: 401,
    Verdict.INVALID: 400,
    Verdict.UNAVAILABLE: 503,
}
_JSON = ("Content-Type", "application/json")


@bp.post(PATH)
def jira_webhook() -> Response:
    body = read_body()  # 413 above MAX_CONTENT_LENGTH, chunked or not; the HMAC comes first
    status, document, headers = _answer(
        body,
        signature=request.headers.get("X-Hub-Signature"),
        delivery_id=request.headers.get("X-Atlassian-Webhook-Identifier"),
    )
    return Response(document, status, headers=headers)


def serve_plain(environ: dict[str, Any], start_response: Any, *, limit: int) -> list[bytes] | None:
    """Answer a POST whose Content-Length is given and within `limit`; None: not such a
    request (nothing read), let the Flask view answer it."""
    length = environ.get("CONTENT_LENGTH") or ""
    if not (length.isascii() and length.isdigit()) or int(length) > limit:
        return None
    body = environ["wsgi.input"].read(int(length))
    try:
        if len(body) != int(length):
            status, document, headers = _error(400, "the body ended before its Content-Length")
        else:
            status, document, headers = _answer(
                body,
                signature=environ.get("HTTP_X_HUB_SIGNATURE"),
                delivery_id=environ.get("HTTP_X_ATLASSIAN_WEBHOOK_IDENTIFIER"),
            )
    except Exception:  # as webhook_server.errors answers the Flask view's surprises
        log.exception("unexpected error")
        status, document, headers = _error(500, "unexpected error; see the log")
    headers.append(("Content-Length", str(len(document))))
    start_response(f"{status} {HTTPStatus(status).phrase}", headers)
    return [document]


def _answer(
    body: bytes, *, signature: str | None, delivery_id: str | None
) -> tuple[int, bytes, list[tuple[str, str]]]:
    receipt = handle_delivery(body=body, signature=signature, delivery_id=delivery_id)
    document = {"result": receipt.verdict.value, "message": receipt.message}
    if receipt.delivery_id:
        document["delivery_id"] = receipt.delivery_id
    if receipt.status is not None:
        document["status"] = receipt.status.value
    headers = [_JSON]
    if receipt.verdict == Verdict.UNAVAILABLE:
        headers.append(("Retry-After", str(RETRY_AFTER_SECONDS)))
    # json.dumps, not jsonify: this is the hot path and the document is flat and small.
    return HTTP_STATUS[receipt.verdict], json.dumps(document).encode(), headers


def _error(status: int, message: str) -> tuple[int, bytes, list[tuple[str, str]]]:
    """The body webhook_server.errors gives an HTTP error."""
    document = {"error": HTTPStatus(status).phrase, "message": message}
    return status, json.dumps(document).encode(), [_JSON]
