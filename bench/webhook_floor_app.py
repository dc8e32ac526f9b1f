"""The floor of a webhook answer on SQLite: a bare WSGI app (no Flask, no SQLAlchemy) that
reads the body, checks the HMAC, parses the JSON and stores it with one autocommit INSERT
on a connection kept per thread (WAL, synchronous=NORMAL, as core.db configures). Served by
bench/webhook_floor.py under the project's gunicorn.conf.py; not part of the product."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import sqlite3
import threading
from datetime import UTC, datetime

_DATABASE = os.environ["DATABASE_URL"].removeprefix("sqlite:///")
_SECRET = os.environ["JIRA_WEBHOOK_SECRET"].encode()
_local = threading.local()
_INSERT = (
    "INSERT INTO webhook_events (delivery_id, event_type, issue_key, event_timestamp_ms, "
    "payload, status, error, attempts, received_at) VALUES (?, ?, ?, ?, ?, 'received', NULL, 0, ?)"
)


def _connection() -> sqlite3.Connection:
    connection = getattr(_local, "connection", None)
    if connection is None:
        connection = _local.connection = sqlite3.connect(_DATABASE, isolation_level=None)
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "busy_timeout=30000"):
            connection.execute(f"PRAGMA {pragma}")
    return connection


def app(environ, start_response):  # noqa: ANN001, ANN201
    if environ["PATH_INFO"] == "/healthz":
        status, body = "200 OK", b'{"status":"ok"}\n'
    else:
        raw = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        expected = "sha256=" + hmac.new(_SECRET, raw, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, environ.get("HTTP_X_HUB_SIGNATURE", "")):
            status, body = "401 Unauthorized", b'{"result":"unauthorized"}'
        else:
            payload = json.loads(raw)
            issue = payload.get("issue") or {}
            _connection().execute(
                _INSERT,
                (
                    environ.get("HTTP_X_ATLASSIAN_WEBHOOK_IDENTIFIER"),
                    payload.get("webhookEvent"),
                    issue.get("key"),
                    payload.get("timestamp"),
                    raw.decode(),
                    datetime.now(UTC).replace(tzinfo=None).isoformat(" ", "microseconds"),
                ),
            )
            status, body = "200 OK", b'{"result":"accepted","message":"stored"}'
    start_response(
        status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    )
    return [body]
