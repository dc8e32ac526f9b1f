"""Strict, bounded JSON parsing for untrusted bodies and files.

`loads` never raises anything but `JSONRejected` (a ValueError) for bad input: invalid syntax
or encoding, `NaN`/`Infinity` (not JSON, RFC 8259), numbers with thousands of digits, and
nesting deeper than `max_depth` (or than the parser's recursion limit) — never RecursionError.
"""

from __future__ import annotations

import json
from typing import Any


class JSONRejected(ValueError):
    """The text is not acceptable JSON; `reason` says why in one line (safe to show)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _no_constants(name: str) -> Any:
    raise JSONRejected(f"{name} is not a JSON value")


def loads(data: bytes | str, *, max_depth: int | None = None) -> Any:
    """Parse `data`; with `max_depth`, refuse arrays/objects nested deeper than that."""
    try:
        value = json.loads(data, parse_constant=_no_constants)
    except JSONRejected:
        raise
    except json.JSONDecodeError as error:
        raise JSONRejected(
            f"not valid JSON: {error.msg} (line {error.lineno}, column {error.colno})"
        ) from None
    except RecursionError:
        raise JSONRejected("JSON nested too deeply") from None
    except UnicodeDecodeError:
        raise JSONRejected("not valid JSON: the body is not UTF-8 text") from None
    except ValueError:  # an integer beyond Python's digit limit
        raise JSONRejected("not valid JSON: a number has too many digits") from None
    if max_depth is not None and isinstance(value, dict | list):
        check_depth(value, max_depth)
    return value


def check_depth(value: Any, max_depth: int) -> None:
    """Raise JSONRejected when containers nest deeper than `max_depth` (iterative, no recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > max_depth:
            raise JSONRejected(f"JSON nested deeper than {max_depth} levels")
        children = node.values() if isinstance(node, dict) else node
        for child in children:
            if isinstance(child, dict | list) and child:
                stack.append((child, depth + 1))
            elif isinstance(child, dict | list) and depth + 1 > max_depth:
                raise JSONRejected(f"JSON nested deeper than {max_depth} levels")
