"""Every failure of a CLI command as one line for stderr: the CLI never prints a traceback.

Domain errors already say what to do. Everything else is mapped by kind (database, settings,
files, input too large or too deep) and, as a last resort, named by its type: one line,
at most `MAX_LENGTH` characters, with any `scheme://user:password@` credentials of the
underlying error masked.
"""

from __future__ import annotations

import re

import pydantic
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError, SQLAlchemyError

from core.errors import DomainError

MAX_LENGTH = 400
_CREDENTIALS = re.compile(r"(\w[\w+.-]*://[^:/@\s]*):[^@\s]*@")
URL_HINT = (
    "e.g. sqlite:///data/agent_registry.db, mysql+pymysql://USER:PASSWORD@HOST/DB or "
    "postgresql+psycopg://USER:PASSWORD@HOST/DB"
)


def one_line(error: BaseException) -> str:
    """The message to print after `error: ` for a failed command."""
    return _clean(_describe(error))


def _describe(error: BaseException) -> str:  # noqa: PLR0911 - one answer per kind of failure
    if isinstance(error, DomainError):
        return str(error)
    if isinstance(error, ArgumentError | NoSuchModuleError) or _is_missing_driver(error):
        return f"DATABASE_URL is not a usable database URL ({_first(error)}); {URL_HINT}"
    if isinstance(error, OperationalError):
        reason = _first(error.orig) if error.orig is not None else "database error"
        return (
            f"the database is unreachable or not initialised ({reason}); "
            "check DATABASE_URL and run `python -m core init-db`"
        )
    if isinstance(error, SQLAlchemyError):
        orig = getattr(error, "orig", None)
        return f"the database refused the operation ({_first(orig or error)})"
    if isinstance(error, pydantic.ValidationError):
        problem = error.errors()[0]
        name = ".".join(str(part) for part in problem.get("loc", ())) or "?"
        return f"setting {name.upper()} is invalid: {problem.get('msg')} (check the environment or .env)"
    if isinstance(error, UnicodeError):
        return f"input is not UTF-8 text ({_first(error)})"
    if isinstance(error, OSError):
        where = f": {error.filename}" if error.filename else ""
        return f"{error.strerror or _first(error)}{where}"
    if isinstance(error, RecursionError):
        return "input is nested too deeply to process"
    if isinstance(error, MemoryError):
        return "out of memory; try a smaller input"
    return f"unexpected {type(error).__name__}: {_first(error)}"


def _is_missing_driver(error: BaseException) -> bool:
    # `mysql+mysqldb://` and friends: SQLAlchemy imports the driver when the engine is made.
    return isinstance(error, ImportError) and "sqlalchemy" in "".join(
        frame.f_code.co_filename for frame in _frames(error)
    )


def _frames(error: BaseException):  # noqa: ANN202
    tb = error.__traceback__
    while tb is not None:
        yield tb.tb_frame
        tb = tb.tb_next


def _first(error: object) -> str:
    """The first line of an error's text, credentials in URLs masked."""
    lines = str(error).strip().splitlines()
    return _CREDENTIALS.sub(r"\1:***@", lines[0]) if lines else type(error).__name__


def _clean(message: str) -> str:
    message = " ".join(message.split())
    return message if len(message) <= MAX_LENGTH else message[: MAX_LENGTH - 1] + "…"
