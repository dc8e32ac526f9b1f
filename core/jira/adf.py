"""A small builder for Atlassian Document Format (Jira REST v3 descriptions and comments)."""

from __future__ import annotations

from typing import Any

Node = dict[str, Any]


def text(value: str, *, marks: list[str] | None = None) -> list[Node]:
    """A text node, or nothing: Jira rejects empty text nodes."""
    if not value:
        return []
    node: Node = {"type": "text", "text": value}
    if marks:
        node["marks"] = [{"type": mark} for mark in marks]
    return [node]


def paragraph(value: str = "", *, strong_prefix: str = "") -> Node:
    """A paragraph; line breaks become hardBreak nodes, empty lines are dropped."""
    content: list[Node] = text(strong_prefix, marks=["strong"])
    for index, line in enumerate(value.splitlines() or [""]):
        if index and content:
            content.append({"type": "hardBreak"})
        content.extend(text(line))
    return {"type": "paragraph", "content": content}


def heading(value: str, *, level: int = 2) -> Node:
    if not 1 <= level <= 6:
        raise ValueError("heading level must be 1..6")
    return {"type": "heading", "attrs": {"level": level}, "content": text(value or " ")}


def code_block(code: str, *, language: str | None = None) -> Node:
    node: Node = {"type": "codeBlock", "content": text(code)}
    if language:
        node["attrs"] = {"language": language}
    return node


def link_paragraph(label: str, url: str) -> Node:
    content = text(label, marks=["strong"]) + [
        {"type": "text", "text": url, "marks": [{"type": "link", "attrs": {"href": url}}]}
    ]
    return {"type": "paragraph", "content": content}


def document(*blocks: Node) -> Node:
    return {"type": "doc", "version": 1, "content": list(blocks)}


def from_plain_text(value: str) -> Node:
    """A document with one paragraph per blank-line-separated block of `value`."""
    blocks = [block for block in value.replace("\r\n", "\n").split("\n\n") if block.strip()]
    return document(*(paragraph(block.strip("\n")) for block in blocks or [" "]))


def to_plain_text(node: Any) -> str:
    """Flatten ADF back to text (for display of v3 bodies; webhooks send plain strings)."""
    if isinstance(node, str):
        return node
    if not isinstance(node, dict):
        return ""
    if node.get("type") == "text":
        return str(node.get("text", ""))
    if node.get("type") == "hardBreak":
        return "\n"
    parts = [to_plain_text(child) for child in node.get("content", [])]
    separator = "\n\n" if node.get("type") == "doc" else ""
    return separator.join(parts)


# What Jira's stored (wiki) form adds per block node ("h2. ", "{code}…{code}", blank lines).
BLOCK_OVERHEAD = 16


def stored_length(node: Any) -> int:
    """An upper estimate of the characters Jira counts for a rich-text field."""
    if not isinstance(node, dict):
        return len(str(node))
    if node.get("type") == "text":
        return len(str(node.get("text", "")))
    if node.get("type") == "hardBreak":
        return 1
    overhead = 0 if node.get("type") == "doc" else BLOCK_OVERHEAD
    return overhead + sum(stored_length(child) for child in node.get("content", []))
