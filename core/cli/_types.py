"""Argument types with bounds: a value the database could not hold is bad usage (exit 2).

Ids are 32-bit INTEGER columns on MariaDB and PostgreSQL (and SQLite refuses anything past
64 bits with an OverflowError), so an id beyond 2**31-1 can never name a row. Dates stay well
inside what `datetime.date` can shift by a period (a rollup of 9999-12-31 needs 10000-01-01).
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from datetime import date

MAX_ID = 2**31 - 1
MIN_DATE = date(1970, 1, 1)
MAX_DATE = date(2999, 12, 31)
MAX_DIGITS = 12  # longer digit strings are refused before int() (which caps at 4,300 digits)


def _whole_number(value: str) -> int | None:
    text = value.strip()
    if text.startswith(("+", "-")):
        sign, digits = text[0], text[1:]
    else:
        sign, digits = "", text
    if not (digits.isascii() and digits.isdigit()) or len(digits.lstrip("0")) > MAX_DIGITS:
        return None
    return int(sign + digits)


def bounded_int(low: int, high: int, *, what: str = "a whole number") -> Callable[[str], int]:
    """An argparse type: a whole number from `low` to `high`, else a one-line usage error."""

    def parse(value: str) -> int:
        number = _whole_number(value)
        if number is None or not low <= number <= high:
            raise argparse.ArgumentTypeError(f"{value[:40]!r} is not {what} from {low} to {high}")
        return number

    parse.__name__ = what  # argparse names the type in "invalid <name> value" messages
    return parse


record_id = bounded_int(1, MAX_ID, what="an id")


def bounded_float(low: float, high: float) -> Callable[[str], float]:
    """An argparse type: a finite number from `low` to `high` (never NaN or infinity)."""

    def parse(value: str) -> float:
        try:
            number = float(value)
        except ValueError:
            number = math.nan
        if not (math.isfinite(number) and low <= number <= high):
            raise argparse.ArgumentTypeError(f"{value[:40]!r} is not a number from {low} to {high}")
        return number

    return parse


def day(value: str) -> date:
    """An argparse type: a YYYY-MM-DD date from MIN_DATE to MAX_DATE."""
    try:
        parsed = date.fromisoformat(value.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value[:40]!r} is not a date (YYYY-MM-DD)") from None
    if not MIN_DATE <= parsed <= MAX_DATE:
        raise argparse.ArgumentTypeError(f"{parsed} is out of range ({MIN_DATE} to {MAX_DATE})")
    return parsed
