"""User-written Markdown shown without images, unsafe links or raw HTML (core.safe_markdown)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from core.safe_markdown import code_span, escape_markdown, is_safe, safe_markdown

GFM = MarkdownIt("commonmark").enable(["table", "strikethrough"])


def html(markdown: str) -> str:
    return GFM.render(markdown)


@pytest.mark.parametrize(
    "text",
    [
        "![pixel](http://tracker.example/p.gif?user=1)",
        "before ![](https://tracker.example/p.png) after",
        '![x](http://tracker.example/p.png "title")',
        "[![badge](http://tracker.example/b.svg)](https://ci.example)",
        "![ref][pix]\n\n[pix]: http://tracker.example/r.png",
        "<img src=http://tracker.example/i.png>",
        '<p><img src="http://tracker.example/i.png"></p>',
        "| a | b |\n|---|---|\n| `x| ![i](http://tracker.example/t.png) |",
        "- item ![i](http://tracker.example/l.png)\n  > quoted ![q](http://tracker.example/q.png)",
    ],
)
def test_no_image_survives(text):  # noqa: ANN001
    shown = safe_markdown(text)
    assert "<img" not in html(shown)
    assert is_safe(shown)


@pytest.mark.parametrize(
    ("text", "href"),
    [
        ("[docs](https://docs.example.com/a_(b))", "https://docs.example.com/a_(b)"),
        ("[site](http://example.com)", "http://example.com"),
        ("<https://example.com/x?y=1&z=2>", "https://example.com/x?y=1&amp;z=2"),
        ("[mail](mailto:ops@example.com)", "mailto:ops@example.com"),
        ("[ref][r]\n\n[r]: https://example.com/ref", "https://example.com/ref"),
    ],
)
def test_web_and_mail_links_are_kept(text, href):  # noqa: ANN001
    assert f'href="{href}"' in html(safe_markdown(text))


@pytest.mark.parametrize(
    "text",
    [
        "[x](javascript:alert(1))",
        "[x](JaVaScRiPt:alert(1))",
        "[x](data:text/html;base64,PHNjcmlwdD4=)",
        "[x](data:image/png;base64,iVBORw0KGgo=)",
        "[x](vbscript:msgbox)",
        "[x](file:///etc/passwd)",
        "[x](/relative/path)",
        "[x](//tracker.example/protocol-relative)",
        "[x](http:no-host)",
        "<javascript:alert(1)>",
        "[x][r]\n\n[r]: data:text/html,hi",
    ],
)
def test_other_links_keep_only_their_text(text):  # noqa: ANN001
    shown = html(safe_markdown(text))
    assert "href" not in shown
    assert "x" in shown or "javascript" in shown


def test_ordinary_markdown_still_renders():
    text = (
        "# Invoice bot\n\nReads **invoices** from `S3`, *never* ~~twice~~.\n\n"
        "1. fetch\n2. parse\n   - nested\n\n> note\n\n```python\nx = '![a](http://e)'\n```\n\n"
        "| a | b |\n|:--|--:|\n| 1 | 2 |\n\nCosts 3.5 $ & 2 < 3 — 100% sure_really.\n\n"
        "line one  \nline two"
    )
    shown = html(safe_markdown(text))
    for fragment in (
        "<h1>Invoice bot</h1>",
        "<strong>invoices</strong>",
        "<code>S3</code>",
        "<em>never</em>",
        "<s>twice</s>",
        "<ol>",
        "<li>parse\n<ul>\n<li>nested</li>",
        "<blockquote>",
        "<pre><code class=\"language-python\">x = '![a](http://e)'\n</code></pre>",
        '<th style="text-align:left">a</th>',
        "Costs 3.5 $ &amp; 2 &lt; 3 — 100% sure_really.",
        "line one<br />",
    ):
        assert fragment in shown, fragment


def test_labels_and_code_spans_are_literal():
    assert html(escape_markdown("![x](http://e/p.png) *bold*")) == (
        "<p>![x](http://e/p.png) *bold*</p>\n"
    )
    assert html(code_span("a`b")) == "<p><code>a`b</code></p>\n"
    assert safe_markdown("") == safe_markdown(None) == ""


def test_absurd_nesting_is_shown_as_text():
    shown = safe_markdown("> " * 5000 + "![x](http://tracker.example/p.png)")
    assert is_safe(shown)


MARKDOWNISH = st.text(
    alphabet=st.sampled_from(list("![]()<>`*_~|-:#>\n \\/.hxtpsjavcrimgdaol@=\"'1")),
    max_size=80,
)


@settings(max_examples=300, deadline=None)
@given(text=MARKDOWNISH)
def test_any_text_comes_out_safe(text):  # noqa: ANN001
    shown = safe_markdown(text)
    assert is_safe(shown)
    assert "<img" not in html(shown)
