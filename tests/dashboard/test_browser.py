"""The dashboard in a real Chromium: `streamlit run` on a free port over a seeded SQLite file.

Logs in as each role, opens every page (screenshots go to docs/screenshots/ for the README),
creates and submits an agent as a developer, approves it as an approver and sees the new status.
Sessions survive a reload and a shared link; logout kills the cookie; an approver reviews a v2
with its diff and must give a reason to reject; the developer's inbox shows the decision;
Analytics fits an 800 px window.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from core.config import reset_settings
from core.migrate import upgrade_to_head

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "docs" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
START_TIMEOUT_S = 60
UI_TIMEOUT_MS = 30_000
PASSWORD = "browser-pw"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _seed(url: str) -> None:
    """Demo data (accounts with PASSWORD, agents in every status, some usage) in `url`."""
    saved = {k: os.environ.get(k) for k in ("DATABASE_URL", "DEMO_PASSWORD")}
    os.environ.update(DATABASE_URL=url, DEMO_PASSWORD=PASSWORD)
    reset_settings()
    try:
        from core.seed import seed_demo

        seed_demo(events=20_000)
        _resubmit_as_v2(url)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        reset_settings()


V2_AGENT = "Browser v2 reviewer"


def _resubmit_as_v2(url: str) -> None:
    """A developer's agent approved as v1, then changed and submitted again as v2."""
    from core import registry
    from core.db import session_scope
    from core.models import Source

    dev, approver = "developer@example.com", "approver@example.com"
    with session_scope(url, write=True) as session:
        agent = registry.create_agent(
            session,
            owner_email=dev,
            name=V2_AGENT,
            description="Reviews pull requests for missing tests",
            model="gpt-4o",
            system_prompt="You review pull requests.",
            tools=["github_diff"],
            code="def review(diff):\n    return llm.complete(diff)\n",
            source=Source.CLI,
        )
        registry.submit_agent(session, agent_id=agent.id, actor_email=dev, source=Source.CLI)
        registry.approve_agent(
            session, agent_id=agent.id, actor_email=approver, source=Source.CLI, comment="ok"
        )
        registry.deploy_agent(
            session, agent_id=agent.id, actor_email="admin@example.com", source=Source.CLI
        )
        registry.update_agent(
            session,
            agent_id=agent.id,
            actor_email=dev,
            system_prompt="You review pull requests.\nAlways ask for a failing test first.",
            code="def review(diff):\n    return llm.complete(diff, temperature=0)\n",
            source=Source.CLI,
        )
        registry.submit_agent(
            session, agent_id=agent.id, actor_email=dev, source=Source.CLI, notes="Stricter"
        )


@pytest.fixture(scope="module")
def dashboard_url(tmp_path_factory) -> Iterator[str]:  # noqa: ANN001
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install it with `apt-get install -y chromium`")
    folder = tmp_path_factory.mktemp("browser")
    url = f"sqlite:///{folder / 'dashboard.db'}"
    upgrade_to_head(url)
    _seed(url)
    port = _free_port()
    env = os.environ | {"DATABASE_URL": url, "JIRA_BASE_URL": "", "PYTHONUNBUFFERED": "1"}
    log = (folder / "streamlit.log").open("w")
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(ROOT / "dashboard" / "app.py"),
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
            "--server.headless",
            "true",
            "--browser.gatherUsageStats",
            "false",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        try:
            if requests.get(f"{base}/_stcore/health", timeout=2).ok:
                break
        except requests.ConnectionError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            server.kill()
            pytest.fail("streamlit did not start:\n" + (folder / "streamlit.log").read_text())
        time.sleep(0.2)
    yield base
    server.terminate()
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.kill()
    log.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, dashboard_url) -> Iterator[object]:  # noqa: ANN001
    context = browser.new_context(viewport={"width": 1440, "height": 1300})
    page = context.new_page()
    page.set_default_timeout(UI_TIMEOUT_MS)
    page.goto(dashboard_url)
    settle(page)
    yield page
    context.close()


def new_page(browser, url: str, *, width: int = 1440, cookies=None):  # noqa: ANN001, ANN201
    """Another browser (its own cookies) opening `url`."""
    context = browser.new_context(viewport={"width": width, "height": 1300})
    if cookies:
        context.add_cookies(cookies)
    page = context.new_page()
    page.set_default_timeout(UI_TIMEOUT_MS)
    page.goto(url)
    settle(page)
    return page


def settle(page) -> None:  # noqa: ANN001
    """Wait until the script run the last interaction started has finished."""
    page.wait_for_function(
        """() => document.querySelector(
                '[data-testid="stApp"][data-test-script-state="notRunning"]') !== null
            && document.querySelector('[data-stale="true"]') === null"""
    )


def no_exception(page) -> None:  # noqa: ANN001
    boxes = page.locator('[data-testid="stException"]')
    assert boxes.count() == 0, boxes.first.inner_text()


def log_in(page, email: str, heading: str = "Overview") -> None:  # noqa: ANN001
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name=heading).first.wait_for()
    settle(page)
    # The session cookie is written by a script once the logged-in page renders.
    page.wait_for_function("() => document.cookie.includes('ar_session=')")


def log_out(page) -> None:  # noqa: ANN001
    page.get_by_role("button", name="Log out").click()
    page.get_by_label("Email", exact=True).wait_for()
    settle(page)


def open_page(page, title: str, heading: str | None = None) -> None:  # noqa: ANN001
    page.locator('[data-testid="stSidebarNav"]').get_by_text(title, exact=True).click()
    page.get_by_role("heading", name=heading or title).first.wait_for()
    settle(page)
    no_exception(page)


def shoot(page, name: str) -> None:  # noqa: ANN001
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def test_login_page_and_bad_password(page):
    shoot(page, "login")
    page.get_by_label("Email", exact=True).fill("developer@example.com")
    page.get_by_label("Password", exact=True).fill("wrong")
    page.get_by_role("button", name="Log in").click()
    page.get_by_text("wrong email or password").wait_for()
    no_exception(page)


def test_every_page_as_admin(page):
    log_in(page, "admin@example.com")
    page.locator('[data-testid="stMetricValue"]').first.wait_for()
    page.locator('[data-testid="stDataFrame"] canvas').first.wait_for()
    shoot(page, "overview")
    for title, heading, shot in (
        ("Analytics", "Analytics", "analytics"),
        ("Search", "Search", "search"),
        ("Agents", "Agents", "agents"),
        ("New / edit agent", "New agent", "new-agent"),
        ("Approvals", "Approvals", "approvals"),
        ("Admin", "Admin", "admin"),
    ):
        open_page(page, title, heading)
        if shot == "search" and page.get_by_role("button", name="Search").count():
            page.get_by_label("What should the agent do?", exact=True).fill(
                "summarise customer support tickets"
            )
            page.get_by_role("button", name="Search").click()
            page.get_by_text("result(s) for").wait_for()
            settle(page)
            no_exception(page)
        shoot(page, shot)


def test_analytics_shows_charts(page):
    log_in(page, "analyst@example.com")
    open_page(page, "Analytics")
    charts = page.locator('[data-testid="stPlotlyChart"]')
    charts.first.wait_for()
    assert charts.count() >= 4
    no_exception(page)


def test_analyst_navigation_has_no_write_pages(page):
    log_in(page, "analyst@example.com")
    nav = page.locator('[data-testid="stSidebarNav"]').inner_text()
    assert "Analytics" in nav
    for hidden in ("New / edit agent", "Approvals", "Admin"):
        assert hidden not in nav


def test_create_submit_approve_in_the_browser(page):
    log_in(page, "developer@example.com")
    open_page(page, "New / edit agent", "New agent")
    page.get_by_label("Name", exact=True).fill("Browser-made contract reviewer")
    page.get_by_label("Description", exact=True).fill(
        "Reads supplier contracts and flags auto-renewal and liability clauses"
    )
    page.get_by_label("Model", exact=True).fill("claude-sonnet-4")
    page.get_by_label("Tools (comma-separated)", exact=True).fill("pdf_reader, clause_search")
    page.get_by_role("button", name="Create agent").click()
    page.get_by_role("heading", name="Browser-made contract reviewer").wait_for()
    settle(page)
    no_exception(page)
    page.get_by_role("button", name="Submit", exact=True).click()
    page.get_by_text("submitted for approval").first.wait_for()
    settle(page)
    shoot(page, "agent-detail")
    log_out(page)

    log_in(page, "approver@example.com")
    open_page(page, "Approvals")
    card = page.locator('[class*="st-key-approval_"]').filter(
        has_text="Browser-made contract reviewer"
    )
    card.get_by_label("Comment", exact=True).fill("Liability wording checked")
    card.get_by_role("button", name="Approve").click()
    page.get_by_text("approved.").first.wait_for()
    settle(page)
    no_exception(page)

    open_page(page, "Agents")
    page.get_by_label("Name contains", exact=True).fill("Browser-made")
    page.get_by_label("Name contains", exact=True).press("Enter")
    settle(page)
    page.get_by_label("Open an agent", exact=True).click()
    page.get_by_role("option", name=re.compile("Browser-made")).click()
    page.get_by_role("heading", name="Browser-made contract reviewer").wait_for()
    settle(page)
    # The detail shows the new status and the approver's decision in the timeline.
    page.get_by_text("approved · version 1").wait_for()
    page.get_by_role("tab", name="Status timeline").click()
    page.get_by_text("Liability wording checked").wait_for()
    no_exception(page)


def _open_agent_from_list(page, name: str) -> None:  # noqa: ANN001
    open_page(page, "Agents")
    page.get_by_label("Open an agent", exact=True).click()
    page.get_by_role("option", name=re.compile(re.escape(name))).click()
    page.get_by_role("heading", name=name).wait_for()
    settle(page)


def _no_page_not_found(page) -> None:  # noqa: ANN001
    assert page.get_by_text("Page not found").count() == 0


def test_sessions_survive_reload_and_shared_links_and_end_at_logout(page, browser):
    log_in(page, "developer@example.com")
    _open_agent_from_list(page, V2_AGENT)
    assert re.search(r"/agents\?agent=\d+$", page.url), page.url
    # Reload (F5): still logged in, on the same agent.
    page.reload()
    settle(page)
    page.get_by_role("heading", name=V2_AGENT).wait_for()
    assert page.get_by_label("Password", exact=True).count() == 0
    _no_page_not_found(page)
    no_exception(page)
    link = page.url
    # A colleague, logged out, opens the link: the login form, no "Page not found" pop-up ...
    colleague = new_page(browser, link)
    try:
        colleague.get_by_label("Email", exact=True).wait_for()
        _no_page_not_found(colleague)
        # ... and after login, the linked agent, not Overview.
        log_in(colleague, "analyst@example.com", heading=V2_AGENT)
        assert colleague.url == link
        no_exception(colleague)
    finally:
        colleague.context.close()

    # A new tab of the same browser is logged in too.
    tab = page.context.new_page()
    tab.set_default_timeout(UI_TIMEOUT_MS)
    tab.goto(link)
    tab.get_by_role("heading", name=V2_AGENT).wait_for()
    tab.close()

    cookies = page.context.cookies()
    assert any(c["name"] == "ar_session" for c in cookies)
    log_out(page)
    # The cookie is gone from this browser, and the stolen copy no longer works anywhere.
    page.wait_for_function("() => !document.cookie.includes('ar_session=')")
    replay = new_page(browser, link, cookies=cookies)
    try:
        replay.get_by_label("Email", exact=True).wait_for()
        assert replay.get_by_role("heading", name=V2_AGENT).count() == 0
    finally:
        replay.context.close()


def test_approver_reviews_a_v2_and_must_give_a_reason_to_reject(page):
    log_in(page, "approver@example.com")
    open_page(page, "Approvals")
    card = page.locator('[class*="st-key-approval_"]').filter(has_text=V2_AGENT)
    card.get_by_role("button", name="Review prompt, code and changes").click()
    page.get_by_role("heading", name=f"Review: {V2_AGENT} v2").wait_for()
    settle(page)
    no_exception(page)
    assert "/approvals?agent=" in page.url
    page.get_by_text("Always ask for a failing test first.").first.wait_for()  # the prompt
    page.get_by_text("temperature=0").first.wait_for()  # the code
    page.get_by_role("tab", name=re.compile("Changes since v1")).click()
    diff = page.locator("table.ar-diff")
    diff.first.wait_for()
    assert diff.count() == 3  # system prompt, code and submission notes changed
    added = diff.first.locator("tr.added td.new")
    assert "Always ask for a failing test first." in added.inner_text()
    shoot(page, "review")

    page.get_by_role("button", name="Reject").click()
    page.get_by_text("write the reason for the rejection").wait_for()
    settle(page)
    page.get_by_role("heading", name=f"Review: {V2_AGENT} v2").wait_for()  # still here
    page.get_by_label("Comment", exact=True).fill("Temperature 0 hides flaky reviews; explain")
    page.get_by_role("button", name="Reject").click()
    page.get_by_text("rejected.").first.wait_for()
    page.get_by_role("heading", name="Approvals").wait_for()  # back to the queue
    settle(page)
    assert page.locator('[class*="st-key-approval_"]').filter(has_text=V2_AGENT).count() == 0
    log_out(page)

    log_in(page, "developer@example.com")
    inbox = page.locator(".st-key-inbox")
    inbox.get_by_text("Temperature 0 hides flaky reviews; explain").wait_for()
    assert "pending → rejected" in inbox.inner_text()
    sidebar = page.locator('[data-testid="stSidebar"]').inner_text()
    assert re.search(r"Inbox: \d+ new", sidebar), sidebar
    shoot(page, "inbox")
    page.get_by_role("button", name="Mark all as read").click()
    page.get_by_text("Inbox: nothing new").wait_for()
    no_exception(page)


def test_analytics_at_800_px_shows_whole_card_values(browser, dashboard_url):
    page = new_page(browser, dashboard_url, width=800)
    try:
        log_in(page, "analyst@example.com")
        open_page(page, "Analytics")
        page.locator('[data-testid="stPlotlyChart"]').first.wait_for()
        settle(page)
        values = page.locator('[data-testid="stMetricValue"]')
        assert values.count() >= 6
        cut = page.evaluate(
            """() => [...document.querySelectorAll('[data-testid="stMetricValue"]')]
                .filter(e => [e, ...e.querySelectorAll('*')]
                    .some(n => n.scrollWidth > n.clientWidth + 1))
                .map(e => e.innerText)"""
        )
        assert cut == []
        assert not any("…" in v for v in values.all_inner_texts())
        overlapping = page.evaluate(
            """() => [...document.querySelectorAll('.js-plotly-plot')].map(plot => {
                const boxes = [...plot.querySelectorAll('.xtick text')]
                    .map(t => t.getBoundingClientRect()).sort((a, b) => a.left - b.left);
                return boxes.slice(1).filter((b, i) => b.left < boxes[i].right).length;
            }).reduce((a, b) => a + b, 0)"""
        )
        assert overlapping == 0  # date labels side by side, none over another
        period = page.locator('[data-testid="stButtonGroup"]').first.bounding_box()
        main = page.locator('[data-testid="stMain"]').bounding_box()
        assert period["x"] + period["width"] <= main["x"] + main["width"]
        shoot(page, "analytics-800px")
        no_exception(page)
    finally:
        page.context.close()


def test_nothing_is_fetched_from_outside(browser, dashboard_url):  # noqa: ANN001
    """The page icon is local and a description's remote image is never requested."""
    from urllib.parse import urlsplit

    context = browser.new_context(viewport={"width": 1440, "height": 1300})
    outside: list[str] = []

    def refuse(route) -> None:  # noqa: ANN001
        outside.append(route.request.url)
        route.abort()

    context.route(lambda url: urlsplit(url).hostname not in ("127.0.0.1", "localhost"), refuse)
    page = context.new_page()
    page.set_default_timeout(UI_TIMEOUT_MS)
    page.goto(dashboard_url)
    settle(page)
    log_in(page, "developer@example.com")
    open_page(page, "New / edit agent", "New agent")
    page.get_by_label("Name", exact=True).fill("Pixel planter")
    page.get_by_label("Description", exact=True).fill(
        "Tracks readers ![pixel](http://tracker.example/p.gif) "
        "[trap](data:text/html,hi) [docs](https://example.com/docs)"
    )
    page.get_by_label("Model", exact=True).fill("gpt-4o")
    page.get_by_role("button", name="Create agent").click()
    page.get_by_role("heading", name="Pixel planter").wait_for()
    settle(page)
    no_exception(page)
    icons = page.locator('link[rel~="icon"]')
    hrefs = [icons.nth(i).get_attribute("href") or "" for i in range(icons.count())]
    assert hrefs and all(
        urlsplit(page.url).netloc in h or not h.startswith("http") for h in hrefs
    ), hrefs
    assert page.locator('img[src*="tracker.example"]').count() == 0
    assert page.locator('a[href^="data:"]').count() == 0
    assert page.locator('a[href="https://example.com/docs"]').count() == 1
    assert outside == []
    context.close()
