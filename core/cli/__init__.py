"""`python -m core …`: the command-line interface.

Each module in this package that defines `register(subparsers)` adds its commands; a command
sets `handler=fn(args) -> int | None` with `set_defaults`.
Exit codes: 0 success, 1 refused or failed (one line on stderr), 2 bad usage.

Never a traceback: arguments are parsed by bounded types (`_types`: an id the database cannot
hold is bad usage), usage errors are one line, and `main` maps every exception a command raises
to one line (`_failures`).
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys
from typing import NoReturn

from core.cli._failures import one_line


class Parser(argparse.ArgumentParser):
    """argparse whose usage errors are one line (exit 2); sub-parsers inherit it."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {' '.join(message.split())} (see --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="python -m core", description="Agent Registry command-line interface.")
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
    """Run one command: 0 done, 1 refused or failed (one line on stderr), 2 bad usage."""
    try:
        args = build_parser().parse_args(argv)  # exits 2 on bad usage
        return int(args.handler(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # stdout closed early (`| head`): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except Exception as error:  # noqa: BLE001 - the one place every failure becomes one line
        print(f"error: {one_line(error)}", file=sys.stderr)
        return 1
