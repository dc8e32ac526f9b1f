"""Jira wiki markup (webhook comment bodies, Server/DC and Cloud's v2 shape) to readable Markdown.

Webhooks carry comment bodies as strings in Jira's text-formatting notation: `*bold*`,
`_italic_`, `{code}`…`{code}`, `{quote}`, `[~user]` mentions, `[label|url]` links, `h1.`
headings, `\\r\\n` line ends and `\\!` escapes. The dashboard renders comments as Markdown
and the CLI prints them, so they are stored converted. Never raises; anything it does not
know stays as written. Images (`!file.png!`) become a text placeholder: nothing is fetched.
"""

from __future__ import annotations

import re

_BLOCK = re.compile(
    r"\{(?P<tag>code|noformat)(?::(?P<params>[^}]*))?\}\n?(?P<body>.*?)\n?\{(?P=tag)\}",
    re.DOTALL,
)
_QUOTE = re.compile(r"\{quote\}\n?(?P<body>.*?)\n?\{quote\}", re.DOTALL)
_PANEL_TAG = re.compile(r"\{(?:panel|color)(?::[^}]*)?\}")
_HEADING = re.compile(r"^h([1-6])\.\s+", re.MULTILINE)
_BQ = re.compile(r"^bq\.\s+", re.MULTILINE)
_LIST = re.compile(r"^(?P<marks>[*#-]+)\s+(?=\S)", re.MULTILINE)
_RULE = re.compile(r"^-{4,}\s*$", re.MULTILINE)
_MENTION = re.compile(r"\[~(?:accountid:)?(?P<who>[^\]|]+)\]")
_LINK = re.compile(r"\[(?:(?P<label>[^\]|]*)\|)?(?P<url>(?:https?://|mailto:)[^\]|\s]+)\]")
_IMAGE = re.compile(r"!(?P<src>[^!\s|][^!\n|]*?)(?:\|[^!\n]*)?!")
_MONO = re.compile(r"\{\{(?P<text>.+?)\}\}")
_STRONG = re.compile(r"(?<![\w*\\])\*(?=\S)(?P<text>[^*\n]+?)(?<=\S)\*(?![\w*])")
_EMPHASIS = re.compile(r"(?<![\w\\])_(?=\S)(?P<text>[^_\n]+?)(?<=\S)_(?!\w)")
_STRIKE = re.compile(r"(?<![\w-])-(?=[^\s-])(?P<text>[^\n]+?)(?<=[^\s-])-(?![\w-])")
_INSERTED = re.compile(r"(?<![\w+])\+(?=\S)(?P<text>[^+\n]+?)(?<=\S)\+(?![\w+])")
_CITATION = re.compile(r"\?\?(?P<text>[^?\n]+?)\?\?")
_ESCAPE = re.compile(r"\\(?P<char>[!*_\-+{}\[\]^~?#|\\])")
_FORCED_BREAK = re.compile(r"(?<!\\)\\\\(?!\\)")
_PLACEHOLDER = "\x00{}\x00"


def wiki_to_markdown(text: str) -> str:
    """Readable Markdown for a wiki-markup string (plain text passes through unchanged)."""
    if not text:
        return ""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    kept: list[str] = []

    def keep(value: str) -> str:
        kept.append(value)
        return _PLACEHOLDER.format(len(kept) - 1)

    def code(match: re.Match[str]) -> str:
        params = (match.group("params") or "").split("|")[0].strip()
        language = params if match.group("tag") == "code" and "=" not in params else ""
        body = match.group("body").strip("\n")
        return keep(f"\n```{language}\n{body}\n```\n")

    text = _BLOCK.sub(code, text)
    text = _MONO.sub(lambda m: keep(f"`{m.group('text')}`"), text)
    text = _LINK.sub(lambda m: keep(_link(m.group("label"), m.group("url"))), text)
    text = _MENTION.sub(lambda m: keep(f"@{m.group('who').strip()}"), text)
    text = _IMAGE.sub(lambda m: keep(f"[image: {m.group('src').strip()}]"), text)
    text = _QUOTE.sub(lambda m: _quoted(m.group("body")), text)
    text = _PANEL_TAG.sub("", text).replace("{panel}", "").replace("{color}", "")
    text = _RULE.sub("---", text)
    text = _LIST.sub(_list_item, text)
    text = _HEADING.sub(lambda m: "#" * int(m.group(1)) + " ", text)
    text = _BQ.sub("> ", text)
    text = _STRONG.sub(lambda m: f"**{m.group('text')}**", text)
    text = _EMPHASIS.sub(lambda m: f"*{m.group('text')}*", text)
    text = _STRIKE.sub(lambda m: f"~~{m.group('text')}~~", text)
    text = _INSERTED.sub(lambda m: m.group("text"), text)
    text = _CITATION.sub(lambda m: f"*{m.group('text')}*", text)
    text = _FORCED_BREAK.sub("\n", text)
    text = _ESCAPE.sub(lambda m: m.group("char"), text)
    for index, value in enumerate(kept):
        text = text.replace(_PLACEHOLDER.format(index), value)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _link(label: str | None, url: str) -> str:
    address = url.removeprefix("mailto:") if url.startswith("mailto:") else url
    return f"[{label.strip()}]({url})" if label and label.strip() else address


def _quoted(body: str) -> str:
    lines = body.strip("\n").split("\n")
    return "\n" + "\n".join(f"> {line}".rstrip() for line in lines) + "\n"


def _list_item(match: re.Match[str]) -> str:
    marks = match.group("marks")
    if set(marks) == {"-"} and len(marks) > 1:
        return match.group(0)  # `--` or `---` at a line start is prose, not a list
    indent = "  " * (len(marks) - 1)
    return f"{indent}{'1.' if marks[-1] == '#' else '-'} "
