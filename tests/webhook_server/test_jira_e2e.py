"""End to end: the real server (gunicorn, 2 workers) and the Jira double talking HTTP."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from core.cli import main
from core.db import session_scope
from core.jira.inbox import list_events
from tests.jira_double import payloads
from tests.jira_double.fixtures import WEBHOOK_SECRET, jira, jira_env  # noqa: F401
from tests.webhook_server.waiting import wait_until_processed

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def server(sqlite_url, jira_env):  # noqa: ANN001, F811
    port = _free_port()
    gunicorn = Path(sys.executable).with_name("gunicorn")
    process = subprocess.Popen(
        [
            str(gunicorn),
            "-w",
            "2",
            "-b",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "webhook_server:create_app()",
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},  # DATABASE_URL, JIRA_* set by fixtures
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_ready(process, base)
        jira_env.send_webhooks_to(f"{base}/api/jira/webhook", WEBHOOK_SECRET)
        yield base
    finally:  # never leave the server running, whatever happened
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def _wait_until_ready(process: subprocess.Popen, base: str) -> None:
    deadline = time.monotonic() + 60
    while True:  # wait for readiness, not for a fixed time
        try:
            if requests.get(f"{base}/readyz", timeout=5).status_code == 200:
                return
        except requests.RequestException:  # still booting
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            pytest.fail("gunicorn did not start")
        time.sleep(0.1)


def cli_json(capsys, *argv: str) -> dict:  # noqa: ANN001
    capsys.readouterr()  # drop earlier commands' output
    assert main([*argv, "--json"]) == 0, capsys.readouterr().err
    return json.loads(capsys.readouterr().out)


def test_submit_then_approve_in_jira_approves_the_agent(server, jira_env, capsys):  # noqa: F811
    for line in (
        "--email dev@example.com --name Dev --role developer",
        "--email ada@example.com --name Ada --role approver",
    ):
        assert main(["users", "add", *line.split(), "--no-password"]) == 0
    created = cli_json(
        capsys,
        "agents",
        "create",
        "--owner",
        "dev@example.com",
        "--name",
        "Invoice checker",
        "--description",
        "Checks supplier invoices against POs",
        "--model",
        "gpt-4o",
    )
    submitted = cli_json(
        capsys, "agents", "submit", str(created["id"]), "--actor", "dev@example.com"
    )
    key = submitted["jira_issue_key"]
    assert submitted["status"] == "pending" and key == "AGENT-1"

    # An approver comments and then approves in Jira; Jira calls the server for each.
    jira_env.comment_as(
        key,
        "Checked the PO matching rules.",
        author=payloads.jira_user("Ada Approver", "ada@example.com"),
    )
    jira_env.move_issue(key, "In Progress")
    jira_env.move_issue(key, "Approved", user=payloads.jira_user("Ada Approver", "ada@example.com"))
    jira_env.wait_for_webhooks()
    assert jira_env.webhook_results == [200, 200, 200]
    wait_until_processed()

    status = cli_json(capsys, "agents", "status", str(created["id"]))
    assert status["status"] == "approved"
    assert status["approved_by"] == "ada@example.com"
    assert [c["body"] for c in status["comments"]] == ["Checked the PO matching rules."]
    assert any("In Progress" in h["comment"] for h in status["history"])

    # A registry comment goes to Jira; Jira's echo comes back and is not duplicated.
    assert (
        main(
            [
                "agents",
                "comment",
                str(created["id"]),
                "--actor",
                "dev@example.com",
                "--body",
                "Thanks, deploying tomorrow.",
            ]
        )
        == 0
    )
    jira_env.wait_for_webhooks()
    assert jira_env.webhook_results[-1] == 200
    wait_until_processed()
    status = cli_json(capsys, "agents", "status", str(created["id"]))
    assert [c["body"] for c in status["comments"]] == [
        "Checked the PO matching rules.",
        "Thanks, deploying tomorrow.",
    ]

    # The same delivery twice (Jira retry) to the two workers: processed once.
    body = payloads.status_changed(key, from_status="Approved", to_status="Done")
    codes = {
        jira_env.send_webhook(
            f"{server}/api/jira/webhook", body, secret=WEBHOOK_SECRET, delivery_id="retry-1"
        ).status_code
        for _ in range(2)
    }
    assert codes == {200}
    with session_scope() as session:
        deliveries = [e for e in list_events(session, limit=100) if e["delivery_id"] == "retry-1"]
    assert len(deliveries) == 1


def test_approval_in_the_registry_moves_jira_and_the_echo_changes_nothing(
    server,  # the running server receives the echo
    jira_env,  # noqa: F811
    capsys,
):
    for line in (
        "--email dev@example.com --name Dev --role developer",
        "--email boss@example.com --name Boss --role approver",
    ):
        assert main(["users", "add", *line.split(), "--no-password"]) == 0
    created = cli_json(
        capsys,
        "agents",
        "create",
        "--owner",
        "dev@example.com",
        "--name",
        "Refund helper",
        "--description",
        "Drafts refund replies for support",
        "--model",
        "gpt-4o-mini",
    )
    agent = str(created["id"])
    key = cli_json(capsys, "agents", "submit", agent, "--actor", "dev@example.com")[
        "jira_issue_key"
    ]
    approved = cli_json(capsys, "agents", "approve", agent, "--actor", "boss@example.com")
    assert approved["status"] == "approved"
    assert jira_env.issues[key].status == "Approved"

    jira_env.wait_for_webhooks()  # Jira's echo of the transition reaches the server
    assert jira_env.webhook_results == [200]
    wait_until_processed()
    status = cli_json(capsys, "agents", "status", agent)
    assert status["approved_by"] == "boss@example.com"
    assert [h["to"] for h in status["history"]] == ["draft", "pending", "approved"]
