"""JSON error bodies for every HTTP error; domain errors and database trouble mapped to codes.

Nothing leaves as an HTML page or a traceback: HTTP errors keep their code, domain errors map
to 4xx naming the field, a database that is locked, read-only or unreachable answers 503 with
`Retry-After` (the request changed nothing; send it again), and anything unforeseen is logged
and answered with a JSON 500 that says nothing about the internals.
"""

from __future__ import annotations

import logging
import sqlite3

from flask import Flask, Response, jsonify
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException

from core.errors import (
    AuthenticationError,
    ConflictError,
    DomainError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5
STATUS_FOR = {
    ValidationError: 422,
    NotFoundError: 404,
    PermissionDeniedError: 403,
    AuthenticationError: 401,
    ConflictError: 409,
}
# Database trouble that a later attempt can get past: locked past the busy timeout, read-only,
# unreachable, the connection pool exhausted.
UNAVAILABLE = (
    OperationalError,
    InterfaceError,
    DisconnectionError,
    PoolTimeout,
    sqlite3.OperationalError,
)


def unavailable(message: str) -> tuple[Response, int]:
    response = jsonify(error="Service Unavailable", message=message)
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response, 503


def register(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def _http(error: HTTPException):  # noqa: ANN202
        response = jsonify(error=error.name, message=error.description)
        if error.code == 405 and error.valid_methods:
            response.headers["Allow"] = ", ".join(error.valid_methods)
        return response, error.code

    @app.errorhandler(DomainError)
    def _domain(error: DomainError):  # noqa: ANN202
        status = next((code for cls, code in STATUS_FOR.items() if isinstance(error, cls)), 400)
        body = {"error": type(error).__name__, "message": str(error)}
        if getattr(error, "field", None):
            body["field"] = error.field
        return jsonify(body), status

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):  # noqa: ANN202
        if isinstance(error, UNAVAILABLE):
            log.warning("database unavailable: %s", _first_line(error))
            return unavailable("the database is busy or unavailable; nothing was changed, retry")
        log.exception("unexpected error")
        return jsonify(error="Internal Server Error", message="unexpected error; see the log"), 500


def _first_line(error: Exception) -> str:
    """The driver's message without SQL or parameters (which may hold secrets)."""
    original = getattr(error, "orig", None) or error
    return (
        f"{type(original).__name__}: {str(original).splitlines()[0][:200] if str(original) else ''}"
    )
