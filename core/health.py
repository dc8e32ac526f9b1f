"""Readiness checks shared by the HTTP server and the dashboard."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from core.db import get_engine


def database_ready() -> tuple[bool, str]:
    try:
        with get_engine().connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as error:
        return False, type(error).__name__
    return True, ""
