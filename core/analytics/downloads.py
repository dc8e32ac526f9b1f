"""What the dashboard's CSV downloads are called and how their figures are rounded."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

# Averages of integer milliseconds: one decimal is finer than any timer that fed them.
ROUNDED_COLUMNS = {"avg_execution_ms": 1, "p95_execution_ms": 1, "p50_execution_ms": 1}
MAX_SLUG = 40


def slug(text: str) -> str:
    """`text` as a safe file-name part: letters, digits, `.` and `-` only, no leading dot,
    at most MAX_SLUG characters ("GPT 4o/mini" → "GPT-4o-mini"); "x" when nothing is left."""
    cleaned = re.sub(r"[^A-Za-z0-9.]+", "-", text)
    cleaned = re.sub(r"\.{2,}", ".", cleaned).strip("-.")[:MAX_SLUG].strip("-.")
    return cleaned or "x"


def export_file_name(
    kind: str,
    *,
    start: date,
    end: date,
    agent_id: int | None = None,
    model_name: str | None = None,
) -> str:
    """`<kind>_<start>_<end>[_agent-<id>][_<model>].csv`: the name says which filters made it,
    e.g. `agents_2026-10-29_2026-11-27_agent-12_gpt-4o.csv`."""
    parts = [slug(kind), start.isoformat(), end.isoformat()]
    if agent_id is not None:
        parts.append(f"agent-{int(agent_id)}")
    if model_name is not None:
        parts.append(slug(model_name))
    return "_".join(parts) + ".csv"


def rounded_rows(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """`rows` with the time figures in ROUNDED_COLUMNS rounded (missing values stay missing)."""
    out = []
    for row in rows:
        row = dict(row)
        for column, decimals in ROUNDED_COLUMNS.items():
            value = row.get(column)
            if value is not None and value == value:  # noqa: PLR0124 - NaN is not itself
                row[column] = round(float(value), decimals)
        out.append(row)
    return out
