"""Jira Cloud's ADF checks, as strict as the real API for the nodes we use."""

from __future__ import annotations

from typing import Any

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
    return None


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
