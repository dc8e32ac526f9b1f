"""Descriptions, comments and names render without remote images or unsafe links."""

from __future__ import annotations

from markdown_it import MarkdownIt

from core import registry
from core.db import session_scope
from core.models import Source
from tests.dashboard.conftest import PEOPLE, go, log_in

GFM = MarkdownIt("commonmark").enable(["table", "strikethrough"])
PIXEL = "![pixel](http://tracker.example/p.gif)"
HOSTILE = f"Summarises tickets {PIXEL} [click](data:text/html,hi) [ok](https://example.com)"


def shown_html(at) -> str:  # noqa: ANN001
    """Every Markdown-rendering element of the run, as the HTML its text renders to."""
    elements = [*at.markdown, *at.caption, *at.title, *at.subheader]
    return "".join(GFM.render(e.value) for e in elements)


def _hostile_agent(dash_db, add_agent, *, submit: bool) -> int:  # noqa: ANN001
    agent_id = add_agent(submit=submit, name=f"Bot {PIXEL}"[:120], description=HOSTILE)
    with session_scope(dash_db, write=True) as session:
        registry.add_comment(
            session,
            agent_id=agent_id,
            actor_email=PEOPLE["developer2"],
            body=f"Looks good {PIXEL} <img src=http://tracker.example/c.png>",
            source=Source.CLI,
        )
    return agent_id


def test_agent_detail_shows_no_remote_image(dash_db, add_agent):  # noqa: ANN001
    agent_id = _hostile_agent(dash_db, add_agent, submit=False)
    at = log_in(PEOPLE["developer2"])
    at.query_params["agent"] = str(agent_id)
    go(at, "agents")
    assert not at.exception
    html = shown_html(at)
    assert "Summarises tickets" in html and "Looks good" in html
    assert "<img" not in html  # the pixel URL is at most literal text
    assert 'href="https://example.com"' in html
    assert 'href="data:' not in html and 'href="http://tracker' not in html


def test_approval_queue_shows_no_remote_image(dash_db, add_agent):  # noqa: ANN001
    _hostile_agent(dash_db, add_agent, submit=True)
    at = go(log_in(PEOPLE["approver"]), "approvals")
    assert not at.exception
    html = shown_html(at)
    assert "Summarises tickets" in html
    assert "<img" not in html and 'href="data:' not in html
