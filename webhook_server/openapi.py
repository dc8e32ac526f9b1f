"""`GET /openapi.json`: the HTTP API's description, kept beside the code (openapi.json)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from flask import Blueprint, Response

bp = Blueprint("openapi", __name__)
DOCUMENT = Path(__file__).with_name("openapi.json")


@lru_cache(maxsize=1)
def _document() -> bytes:
    return DOCUMENT.read_bytes()


@bp.get("/openapi.json")
def openapi() -> Response:
    return Response(_document(), mimetype="application/json")
