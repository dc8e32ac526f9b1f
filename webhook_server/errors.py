"""JSON error bodies for every HTTP error, and domain errors mapped to status codes."""

from flask import Flask, jsonify
from werkzeug.exceptions import HTTPException

from core.errors import (
    AuthenticationError,
    ConflictError,
    DomainError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)

STATUS_FOR = {
    ValidationError: 422,
    NotFoundError: 404,
    PermissionDeniedError: 403,
    AuthenticationError: 401,
    ConflictError: 409,
}


def register(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def _http(error: HTTPException):  # noqa: ANN202
        return jsonify(error=error.name, message=error.description), error.code

    @app.errorhandler(DomainError)
    def _domain(error: DomainError):  # noqa: ANN202
        status = next((code for cls, code in STATUS_FOR.items() if isinstance(error, cls)), 400)
        return jsonify(error=type(error).__name__, message=str(error)), status
