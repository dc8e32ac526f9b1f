"""The dashboard in a real Chromium: `streamlit run` on a free port over a seeded SQLite file.

Logs in as each role, opens every page (screenshots go to docs/screenshots/ for the README),
creates and submits an agent as a developer, approves it as an approver and sees the new status.
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
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        reset_settings()


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


def log_in(page, email: str) -> None:  # noqa: ANN001
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="Overview").wait_for()
    settle(page)


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
