"""`python -m core …`: the command-line interface.

Each module in this package that defines `register(subparsers)` adds its commands; a command
sets `handler=fn(args) -> int | None` with `set_defaults`.
Exit codes: 0 success, 1 refused or failed (one line on stderr), 2 bad usage.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

from sqlalchemy.exc import OperationalError

from core.errors import DomainError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m core", description="Agent Registry command-line interface."
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module_info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if module_info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)  # exits 2 on bad usage
    try:
        result = args.handler(args)
    except DomainError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except OperationalError as error:
        reason = str(error.orig).splitlines()[0] if error.orig else "database error"
        print(
            f"error: the database is unreachable or not initialised ({reason}); "
            "check DATABASE_URL and run `python -m core init-db`",
            file=sys.stderr,
        )
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return int(result or 0)
