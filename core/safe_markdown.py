"""User-written Markdown made safe to show: no images, links to http(s) and mailto only.

Descriptions, comments and notes are Markdown that every viewer's browser renders, so an
image there is a tracking pixel and a `data:` or `javascript:` link a trap. `safe_markdown`
parses the text (CommonMark with GFM tables and strikethrough, as markdown-it-py reads it)
and writes it out again as Markdown in which:

- an image becomes its alt text; raw HTML stays visible as text;
- a link keeps its target only when that is http(s) with a host or mailto, else its text;
- every other character of text is escaped, so the browser's Markdown reader (Streamlit's,
  with GFM extensions) cannot find a construct the parse above did not see.

The result is parsed again and checked; should anything slip through, the whole text is shown
as escaped plain text instead. `escape_markdown` makes a short label (a name) literal, and
`code_span` shows one as inline code.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from markdown_it import MarkdownIt
from markdown_it.tree import SyntaxTreeNode

_PARSER = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])
_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")  # every ASCII punctuation character
_CODE_INFO = re.compile(r"^[\w+#.-]{1,40}$")
_BACKTICKS = re.compile(r"`+")
WEB_SCHEMES = frozenset({"http", "https"})


def escape_markdown(text: str) -> str:
    """`text` with every Markdown-significant character escaped, on one line."""
    return _PUNCTUATION.sub(r"\\\1", " ".join((text or "").split()))


def code_span(text: str) -> str:
    """`text` as inline code whatever backticks it holds (a tool or model name)."""
    return _code_span(" ".join((text or "").split()), in_table=False)


def safe_markdown(text: str | None) -> str:
    """Markdown for `st.markdown` that shows `text` without images or unsafe links."""
    if not text or not text.strip():
        return ""
    try:
        rendered = "\n".join(_blocks(SyntaxTreeNode(_PARSER.parse(text)).children)).strip("\n")
    except (RecursionError, ValueError):  # absurdly nested input: show it as text
        return _plain(text)
    return rendered if is_safe(rendered) else _plain(text)


def is_safe(markdown: str) -> bool:
    """True when `markdown` holds no image, no raw HTML and no link but http(s)/mailto."""
    for token in _walk(_PARSER.parse(markdown)):
        if token.type in ("image", "html_inline", "html_block"):
            return False
        if token.type == "link_open" and not allowed_link(str(token.attrs.get("href", ""))):
            return False
    return True


def allowed_link(href: str) -> bool:
    try:
        parts = urlsplit(href)
    except ValueError:
        return False
    scheme = parts.scheme.lower()
    if scheme in WEB_SCHEMES:
        return bool(parts.netloc)
    return scheme == "mailto" and bool(parts.path)


def _walk(tokens):  # noqa: ANN001, ANN202
    for token in tokens:
        yield token
        if token.children:
            yield from _walk(token.children)


def _plain(text: str) -> str:
    paragraphs = re.split(r"\n\s*\n", text.strip())
    return "\n\n".join(
        "  \n".join(escape_markdown(line) for line in p.splitlines() if line.strip())
        for p in paragraphs
    )


# --- writing Markdown back ------------------------------------------------------------------


def _blocks(nodes: list[SyntaxTreeNode], *, tight: bool = False) -> list[str]:
    lines: list[str] = []
    for node in nodes:
        block = _block(node)
        if not block:
            continue
        if lines and not tight:
            lines.append("")
        lines.extend(block)
    return lines


def _block(node: SyntaxTreeNode) -> list[str]:  # noqa: PLR0911 - one answer per block type
    kind = node.type
    if kind == "paragraph":
        return _inline(node.children[0]).split("\n") if node.children else []
    if kind == "heading":
        level = int(node.tag[1])
        return ["#" * level + " " + _inline(node.children[0]).replace("\n", " ")]
    if kind in ("bullet_list", "ordered_list"):
        return _list(node)
    if kind == "blockquote":
        return [f"> {line}" if line else ">" for line in _blocks(node.children)] or [">"]
    if kind in ("fence", "code_block"):
        return _code_block(node.content, node.info if kind == "fence" else "")
    if kind == "hr":
        return ["***"]
    if kind == "table":
        return _table(node)
    return [escape_markdown(node.content)] if node.content.strip() else []


def _list(node: SyntaxTreeNode) -> list[str]:
    ordered = node.type == "ordered_list"
    start = int(node.attrs.get("start", 1)) if ordered else 0
    tight = all(
        child.type != "paragraph" or child.hidden
        for item in node.children
        for child in item.children
    )
    lines: list[str] = []
    for offset, item in enumerate(node.children):
        marker = f"{start + offset}." if ordered else "-"
        body = _blocks(item.children, tight=tight) or [""]
        if lines and not tight:
            lines.append("")
        lines.append(f"{marker} {body[0]}".rstrip())
        pad = " " * (len(marker) + 1)
        lines.extend(pad + line if line else "" for line in body[1:])
    return lines


def _code_block(content: str, info: str) -> list[str]:
    longest = max((len(run) for run in _BACKTICKS.findall(content)), default=0)
    fence = "`" * max(3, longest + 1)
    language = info.strip().split(" ")[0] if info else ""
    language = language if _CODE_INFO.match(language) else ""
    body = content[:-1] if content.endswith("\n") else content
    return [fence + language, *body.split("\n"), fence]


def _table(node: SyntaxTreeNode) -> list[str]:
    rows = [tr for section in node.children for tr in section.children]
    if not rows:
        return []
    align = {"text-align:left": ":--", "text-align:right": "--:", "text-align:center": ":-:"}
    header = rows[0].children
    lines = [
        _row(header),
        "| " + " | ".join(align.get(str(c.attrs.get("style")), "---") for c in header) + " |",
    ]
    lines.extend(_row(tr.children) for tr in rows[1:])
    return lines


def _row(cells: list[SyntaxTreeNode]) -> str:
    texts = [_inline(c.children[0], in_table=True) if c.children else "" for c in cells]
    return "| " + " | ".join(t.replace("\n", " ") for t in texts) + " |"


def _inline(node: SyntaxTreeNode, *, in_table: bool = False) -> str:
    return "".join(_span(child, in_table) for child in node.children)


def _span(node: SyntaxTreeNode, in_table: bool) -> str:  # noqa: PLR0911 - one answer per kind
    kind = node.type
    inner = "".join(_span(child, in_table) for child in node.children)
    if kind == "text":
        return _PUNCTUATION.sub(r"\\\1", node.content)
    if kind == "softbreak":
        return "\n"
    if kind == "hardbreak":
        return "\\\n"
    if kind == "em":
        return f"*{inner}*"
    if kind == "strong":
        return f"**{inner}**"
    if kind == "s":
        return f"~~{inner}~~"
    if kind == "code_inline":
        return _code_span(node.content, in_table)
    if kind == "link":
        href = str(node.attrs.get("href", ""))
        return f"[{inner}](<{href}>)" if allowed_link(href) else inner
    if kind == "image":
        return inner  # the alt text, never the picture
    return _PUNCTUATION.sub(r"\\\1", node.content.replace("\n", " "))


def _code_span(content: str, in_table: bool) -> str:
    longest = max((len(run) for run in _BACKTICKS.findall(content)), default=0)
    ticks = "`" * (longest + 1)
    pad = " " if content.startswith(("`", " ")) or content.endswith(("`", " ")) else ""
    if in_table:
        content = content.replace("|", "\\|")
    return f"{ticks}{pad}{content}{pad}{ticks}"
