"""Jira Cloud's ADF checks: Atlassian's published JSON schema, the size limit, and the
stricter rules the real API applies to the nodes we use."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

SCHEMA_PATH = Path(__file__).resolve().parents[1] / "adf_schema" / "full.json"
# Jira Cloud refuses a rich-text field longer than this (counted on the stored text).
TEXT_LIMIT = 32_767
TOO_LONG = "The entered text is too long. It exceeds the allowed limit of 32,767 characters."
# What the stored (wiki) form adds per block node, e.g. "h2. ", "{code}…{code}", blank lines.
BLOCK_OVERHEAD = 14

BLOCK_TYPES = {
    "paragraph",
    "heading",
    "codeBlock",
    "bulletList",
    "orderedList",
    "rule",
    "blockquote",
}
INLINE_TYPES = {"text", "hardBreak", "mention", "emoji", "inlineCard"}
MARKS = {"strong", "em", "code", "link", "strike", "underline"}


def adf_problem(value: Any) -> str | None:
    """None if `value` is a valid ADF document, else what is wrong."""
    if not isinstance(value, dict):
        return "Operation value must be an Atlassian Document (see the Atlassian Document Format)."
    if value.get("type") != "doc" or value.get("version") != 1:
        return "Operation value must be an Atlassian Document (see the Atlassian Document Format)."
    content = value.get("content")
    if not isinstance(content, list):
        return "INVALID_INPUT"
    for node in content:
        problem = _block_problem(node)
        if problem:
            return problem
    return schema_problem(value)


@cache
def _validator() -> jsonschema.Draft4Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return jsonschema.Draft4Validator(schema)


def schema_problem(value: Any) -> str | None:
    """None if `value` validates against Atlassian's ADF JSON schema, else the first error."""
    error = jsonschema.exceptions.best_match(_validator().iter_errors(value))
    if error is None:
        return None
    where = "/".join(str(part) for part in error.absolute_path)
    return f"INVALID_INPUT (ADF schema at /{where}: {error.message[:200]})"


def stored_length(value: Any) -> int:
    """Roughly the length Jira stores for an ADF document: its text plus block markup."""
    if not isinstance(value, dict):
        return len(str(value))
    if value.get("type") == "text":
        return len(str(value.get("text", "")))
    if value.get("type") == "hardBreak":
        return 1
    children = value.get("content") or []
    overhead = BLOCK_OVERHEAD if value.get("type") not in {"doc", "listItem"} else 0
    return overhead + sum(stored_length(child) for child in children)


def too_long(value: Any) -> bool:
    return stored_length(value) > TEXT_LIMIT


def _block_problem(node: Any) -> str | None:
    if not isinstance(node, dict) or node.get("type") not in BLOCK_TYPES | {"listItem"}:
        return "INVALID_INPUT"
    kind = node["type"]
    if kind == "heading":
        level = (node.get("attrs") or {}).get("level")
        if level not in range(1, 7):
            return "INVALID_INPUT"
    children = node.get("content", [])
    if not isinstance(children, list):
        return "INVALID_INPUT"
    for child in children:
        if kind in {"bulletList", "orderedList", "blockquote", "listItem"}:
            problem = _block_problem(child)
        else:
            problem = _inline_problem(child, code=kind == "codeBlock")
        if problem:
            return problem
    return None


def _inline_problem(node: Any, *, code: bool) -> str | None:
    if not isinstance(node, dict) or node.get("type") not in INLINE_TYPES:
        return "INVALID_INPUT"
    if code and node["type"] != "text":
        return "INVALID_INPUT"
    if node["type"] == "text":
        if not isinstance(node.get("text"), str) or node["text"] == "":
            return "INVALID_INPUT"
        for mark in node.get("marks", []):
            if not isinstance(mark, dict) or mark.get("type") not in MARKS:
                return "INVALID_INPUT"
            if code:
                return "INVALID_INPUT"
    return None
