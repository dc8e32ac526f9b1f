"""Jira wiki markup (webhook comment bodies) to readable Markdown."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.jira.wiki import wiki_to_markdown

CASES = [
    ("plain text stays", "Looks good", "Looks good"),
    ("CRLF line ends", "one\r\ntwo\r\n\r\nthree", "one\ntwo\n\nthree"),
    ("bold and italic", "*bold* and _italic_", "**bold** and *italic*"),
    ("strike and inserted", "-gone- and +new+", "~~gone~~ and new"),
    ("hyphens in prose stay", "a - b, 2-3, well-known", "a - b, 2-3, well-known"),
    ("Server mention", "ping [~jsmith]", "ping @jsmith"),
    (
        "Cloud mention",
        "ping [~accountid:5b10ac8d82e05b22cc7d4ef5]",
        "ping @5b10ac8d82e05b22cc7d4ef5",
    ),
    ("titled link", "see [docs|https://example.com/a]", "see [docs](https://example.com/a)"),
    ("bare link", "see [https://example.com]", "see https://example.com"),
    ("monospace", "run {{make test}}", "run `make test`"),
    ("escapes", "ASAP\\! \\*not bold\\*", "ASAP! *not bold*"),
    ("heading", "h2. Risks", "## Risks"),
    ("bullets", "* one\n** two", "- one\n  - two"),
    ("numbered", "# first\n# second", "1. first\n1. second"),
    ("quote", "{quote}\r\nsaid\r\n{quote}", "> said"),
    ("bq", "bq. said", "> said"),
    ("code keeps its content", "{code:java}a *b* _c_{code}", "```java\na *b* _c_\n```"),
    ("noformat", "{noformat}x  y{noformat}", "```\nx  y\n```"),
    (
        "image is not fetched",
        "!https://evil.example/pixel.png!",
        "[image: https://evil.example/pixel.png]",
    ),
    ("color and panel tags dropped", "{color:red}red{color} {panel}p{panel}", "red p"),
    ("forced break", "a\\\\b", "a\nb"),
    ("NUL removed", "a\x00b", "ab"),
]


@pytest.mark.parametrize(("name", "wiki", "markdown"), CASES, ids=[c[0] for c in CASES])
def test_wiki_to_markdown(name, wiki, markdown):
    assert wiki_to_markdown(wiki) == markdown


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab *_-+{}[]|~!#^?\\\r\n:hq.123")), max_size=60))
def test_never_raises_and_keeps_no_carriage_return(text):
    result = wiki_to_markdown(text)
    assert "\r" not in result and "\x00" not in result
