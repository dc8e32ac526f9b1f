"""`POST /api/jira/webhook`: a few lines of HTTP around core.jira.inbox.handle_delivery."""

from __future__ import annotations

import json

from flask import Blueprint, Response, request

from core.jira.inbox import Verdict, handle_delivery
from webhook_server.errors import RETRY_AFTER_SECONDS
from webhook_server.guard import read_body

bp = Blueprint("jira_webhook", __name__)

HTTP_STATUS = {
    Verdict.ACCEPTED: 200,
    Verdict.DUPLICATE: 200,
    Verdict.UNAUTHORIZED: 401,
    Verdict.INVALID: 400,
    Verdict.UNAVAILABLE: 503,
}


@bp.post("/api/jira/webhook")
def jira_webhook() -> Response:
    body = read_body()  # 413 above MAX_CONTENT_LENGTH, chunked or not; the HMAC comes first
    receipt = handle_delivery(
        body=body,
        signature=request.headers.get("X-Hub-Signature"),
        delivery_id=request.headers.get("X-Atlassian-Webhook-Identifier"),
    )
    document = {"result": receipt.verdict.value, "message": receipt.message}
    if receipt.delivery_id:
        document["delivery_id"] = receipt.delivery_id
    if receipt.status is not None:
        document["status"] = receipt.status.value
    # json.dumps, not jsonify: this is the hot path and the document is flat and small.
    response = Response(
        json.dumps(document), HTTP_STATUS[receipt.verdict], mimetype="application/json"
    )
    if receipt.verdict == Verdict.UNAVAILABLE:
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response
