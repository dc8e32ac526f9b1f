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
from core.jira.outbox import deliver_after_commit
from core.models import JiraOutbox, OutboxStatus
from tests.jira_double import payloads
from tests.jira_double.fixtures import WEBHOOK_SECRET, jira, jira_env  # noqa: F401
from tests.webhook_server.waiting import wait_until_processed

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(autouse=True)
def _commands_queue_like_the_cli():
    """As in `python -m core`: the command only queues; the server delivers to Jira."""
    deliver_after_commit(False)
    yield
    deliver_after_commit(True)


def wait_for(predicate, what: str, timeout: float = 30.0):  # noqa: ANN001, ANN201
    """Poll until `predicate()` is truthy (the server works in the background)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


def outbox_settled() -> bool:
    with session_scope() as session:
        return all(row.status == OutboxStatus.DONE for row in session.query(JiraOutbox))


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
            # Background jobs every 0.2 s (default 5 s) keep the waits below short.
            "webhook_server:create_app({'WORKER_INTERVAL_SECONDS': 0.2})",
        ],
        cwd=ROOT,
        # DATABASE_URL, JIRA_* set by fixtures; an unanswered create is searched for 30 s.
        env={**os.environ, "PYTHONPATH": str(ROOT), "JIRA_RECONCILE_SECONDS": "30"},
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
    assert submitted["status"] == "pending"
    key = wait_for(lambda: issue_key(capsys, created["id"]), "the server to create the issue")
    assert key == "AGENT-1"

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
    wait_for(lambda: jira_env.issues[key].comments[-1:] and outbox_settled(), "the comment")
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
    cli_json(capsys, "agents", "submit", agent, "--actor", "dev@example.com")
    key = wait_for(lambda: issue_key(capsys, agent), "the server to create the issue")
    approved = cli_json(capsys, "agents", "approve", agent, "--actor", "boss@example.com")
    assert approved["status"] == "approved"
    wait_for(lambda: jira_env.issues[key].status == "Approved", "the transition in Jira")

    jira_env.wait_for_webhooks()  # Jira's echo of the transition reaches the server
    assert jira_env.webhook_results == [200]
    wait_until_processed()
    status = cli_json(capsys, "agents", "status", agent)
    assert status["approved_by"] == "boss@example.com"
    assert [h["to"] for h in status["history"]] == ["draft", "pending", "approved"]


def issue_key(capsys, agent_id) -> str | None:  # noqa: ANN001
    return cli_json(capsys, "agents", "status", str(agent_id))["jira_issue_key"]


def _people_and_agent(capsys) -> str:  # noqa: ANN001
    for line in (
        "--email dev@example.com --name Dev --role developer",
        "--email boss@example.com --name Boss --role approver",
    ):
        assert main(["users", "add", *line.split(), "--no-password"]) == 0
    created = cli_json(
        capsys,
        *[
            "agents",
            "create",
            "--owner",
            "dev@example.com",
            "--name",
            "Triage",
            "--model",
            "gpt-4o",
        ],
        "--description",
        "Sorts incoming tickets",
    )
    return str(created["id"])


def test_an_approval_while_jira_throttles_returns_at_once_and_lands_after_retry_after(
    server,  # noqa: ARG001 - its background job delivers
    jira_env,  # noqa: F811
    capsys,
):
    agent = _people_and_agent(capsys)
    cli_json(capsys, "agents", "submit", agent, "--actor", "dev@example.com")
    key = wait_for(lambda: issue_key(capsys, agent), "the server to create the issue")
    wait_for(outbox_settled, "the submission's calls")

    jira_env.throttle("2", path=f"/rest/api/3/issue/{key}")  # 429, Retry-After: 2
    approved = cli_json(capsys, "agents", "approve", agent, "--actor", "boss@example.com")
    assert approved["status"] == "approved"  # committed; Jira not waited on
    assert jira_env.issues[key].status == "To Do"

    wait_for(lambda: jira_env.issues[key].status == "Approved", "the transition after 429")
    throttled = next(r for r in jira_env.requests if r.status == 429)
    after = [r for r in jira_env.requests if r.at > throttled.at and key in r.path]
    assert after and after[0].at - throttled.at >= 2.0  # not before Jira's Retry-After
    state = cli_json(capsys, "agents", "status", agent)["jira_sync"]
    assert state["state"] == "sent"


def test_a_lost_comment_answer_leaves_exactly_one_comment(
    server,  # noqa: ARG001
    jira_env,  # noqa: F811
    capsys,
):
    agent = _people_and_agent(capsys)
    cli_json(capsys, "agents", "submit", agent, "--actor", "dev@example.com")
    key = wait_for(lambda: issue_key(capsys, agent), "the server to create the issue")
    wait_for(outbox_settled, "the submission's calls")

    jira_env.drop_next(path=f"/rest/api/3/issue/{key}/comment", method="POST")
    argv = ["agents", "comment", agent, "--actor", "boss@example.com", "--body", "Looks fine."]
    assert main(argv) == 0
    wait_for(outbox_settled, "the comment to be delivered after its lost answer")
    assert len(jira_env.issues[key].comments) == 1
    assert len(jira_env.calls("POST", f"/rest/api/3/issue/{key}/comment")) == 1
    jira_env.wait_for_webhooks()  # the echo of our comment reached the server
    wait_until_processed()
    wait_for(
        lambda: len(cli_json(capsys, "agents", "status", agent)["comments"]) == 1,
        "the registry to hold the comment once",
    )


def test_an_issue_whose_create_answer_was_lost_is_not_created_twice(
    server,  # noqa: ARG001
    jira_env,  # noqa: F811
    capsys,
):
    agent = _people_and_agent(capsys)
    jira_env.search_lag_seconds = 1.5  # Jira's search lags behind the create
    jira_env.drop_next(path="/rest/api/3/issue", method="POST")
    cli_json(capsys, "agents", "submit", agent, "--actor", "dev@example.com")
    key = wait_for(lambda: issue_key(capsys, agent), "the issue to be found", timeout=60)
    assert list(jira_env.issues) == [key]
    assert len(jira_env.calls_to("POST", "/rest/api/3/issue")) == 1
