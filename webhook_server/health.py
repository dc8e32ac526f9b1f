"""`/healthz` (process up) and `/readyz` (database reachable)."""

from flask import Blueprint, jsonify

from core.health import database_ready

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():  # noqa: ANN201
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():  # noqa: ANN201
    ok, reason = database_ready()
    if ok:
        return jsonify(status="ready")
    return jsonify(status="unavailable", error=reason), 503
