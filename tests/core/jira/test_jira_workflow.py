"""The approval workflow through the strict Jira double: submit, outbox, decisions, comments."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from core import deploy_webhook, registry
from core.cli import main
from core.config import reset_settings
from core.db import session_scope
from core.errors import ExternalServiceError
from core.jira.adf import to_plain_text
from core.models import Comment, JiraOutbox, OutboxStatus, Source

CODE = "def run(ticket):\n    return ticket.summary\n"


@pytest.fixture
def agent_id(people, make_agent, jira_env, monkeypatch):  # noqa: ANN001
    monkeypatch.setenv("DASHBOARD_URL", "https://registry.example.com")
    reset_settings()
    return make_agent(
        people["developer"], name="Ticket summariser", code=CODE, code_filename="summariser.py"
    ).id


def cli(capsys, *argv: str) -> tuple[int, str, str]:  # noqa: ANN001
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def submit(capsys, agent_id: int, people: dict) -> dict:  # noqa: ANN001
    code, out, err = cli(
        capsys,
        "agents",
        "submit",
        str(agent_id),
        "--actor",
        people["developer"],
        "--notes",
        "First review please",
        "--json",
    )
    assert code == 0, err
    return json.loads(out)


def outbox_rows() -> list[tuple[str, str]]:
    with session_scope() as session:
        return [
            (r.kind.value, r.status.value)
            for r in session.scalars(select(JiraOutbox).order_by(JiraOutbox.id))
        ]


def test_submit_creates_the_issue_with_adf_description_and_attachment(
    capsys,
    agent_id,
    people,
    jira_env,
):
    data = submit(capsys, agent_id, people)
    assert data["status"] == "pending"
    assert data["jira_issue_key"] == "AGENT-1"
    assert data["jira_issue_url"] == f"{jira_env.url}/browse/AGENT-1"
    issue = jira_env.issues["AGENT-1"]
    text = to_plain_text(issue.fields["description"])
    for expected in (
        "Ticket summariser",
        "version 1",
        people["developer"],
        "gpt-4o",
        "First review please",
        f"https://registry.example.com/?agent_id={agent_id}",
        "summarises support tickets",
    ):
        assert expected in text
    with session_scope() as session:
        digest = registry.agent_status(session, agent_id=agent_id)["content_hash"]
    assert f"Content SHA-256: {digest}" in text  # what the approvers approve
    assert issue.fields["summary"] == "Approve agent: Ticket summariser v1"
    assert f"agent-registry-{agent_id}-v1" in issue.fields["labels"]
    assert [(a["filename"], a["content"]) for a in issue.attachments] == [
        ("summariser.py", CODE.encode())
    ]
    assert outbox_rows() == [("create_issue", "done"), ("attach_code", "done")]


def test_jira_down_at_submit_keeps_the_submission_and_sync_creates_one_issue(
    capsys,
    agent_id,
    people,
    jira_env,
):
    jira_env.fail_next(503, times=4, path="/rest/api/3/issue", method="POST")
    data = submit(capsys, agent_id, people)
    assert data["status"] == "pending" and data["jira_issue_key"] is None
    assert jira_env.issues == {}
    assert outbox_rows() == [("create_issue", "pending"), ("attach_code", "pending")]

    code, out, err = cli(capsys, "jira", "sync")
    assert code == 0, err
    assert list(jira_env.issues) == ["AGENT-1"]
    assert len(jira_env.issues["AGENT-1"].attachments) == 1
    code, out, _ = cli(capsys, "agents", "status", str(agent_id), "--json")
    assert json.loads(out)["jira_issue_key"] == "AGENT-1"
    assert cli(capsys, "jira", "sync")[0] == 0
    assert list(jira_env.issues) == ["AGENT-1"]  # nothing created twice


def test_a_lost_create_answer_never_makes_a_second_issue(
    capsys,
    agent_id,
    people,
    jira_env,
    monkeypatch,
):
    monkeypatch.setenv("JIRA_MAX_RETRIES", "0")  # the answer is lost and not retried at once
    reset_settings()
    jira_env.drop_next(path="/rest/api/3/issue", method="POST")
    assert submit(capsys, agent_id, people)["jira_issue_key"] is None
    assert list(jira_env.issues) == ["AGENT-1"]  # Jira did create it
    assert cli(capsys, "jira", "sync")[0] == 0
    assert list(jira_env.issues) == ["AGENT-1"]
    code, out, _ = cli(capsys, "agents", "status", str(agent_id), "--json")
    assert json.loads(out)["jira_issue_key"] == "AGENT-1"


def test_failed_attachment_is_retried_without_touching_the_issue(
    capsys,
    agent_id,
    people,
    jira_env,
):
    jira_env.fail_next(500, times=4, path="/attachments")
    assert submit(capsys, agent_id, people)["jira_issue_key"] == "AGENT-1"
    assert outbox_rows() == [("create_issue", "done"), ("attach_code", "pending")]
    assert cli(capsys, "jira", "sync")[0] == 0
    assert outbox_rows() == [("create_issue", "done"), ("attach_code", "done")]
    assert len(jira_env.calls_to("POST", "/rest/api/3/issue")) == 1
    assert len(jira_env.issues["AGENT-1"].attachments) == 1


def test_sync_reports_jira_still_down(capsys, agent_id, people, jira_env):
    jira_env.fail_next(503, times=100, path="/rest/api/3/issue", method="POST")
    submit(capsys, agent_id, people)
    code, _, err = cli(capsys, "jira", "sync")
    assert code == 1
    assert "failed after 3 retries" in err


def test_approve_in_the_registry_transitions_the_issue_by_id(
    capsys,
    agent_id,
    people,
    jira_env,
):
    submit(capsys, agent_id, people)
    code, out, err = cli(capsys, "agents", "approve", str(agent_id), "--actor", people["approver"])
    assert code == 0, err
    assert jira_env.issues["AGENT-1"].status == "Approved"
    assert jira_env.calls("POST", "/transitions")[-1].json == {"transition": {"id": "21"}}


def test_reject_in_the_registry_transitions_the_issue(capsys, agent_id, people, jira_env):
    submit(capsys, agent_id, people)
    assert cli(capsys, "agents", "reject", str(agent_id), "--actor", people["approver"])[0] == 0
    assert jira_env.issues["AGENT-1"].status == "Rejected"


def test_decision_is_refused_when_jira_cannot_move_the_issue(
    capsys,
    agent_id,
    people,
    jira_env,
):
    submit(capsys, agent_id, people)
    jira_env.fail_next(503, times=4, path="/transitions", method="POST")
    with pytest.raises(ExternalServiceError), session_scope(write=True) as session:
        registry.approve_agent(
            session, agent_id=agent_id, actor_email=people["approver"], source=Source.DASHBOARD
        )
    jira_env.transitions = [t for t in jira_env.transitions if t[2] != "Approved"]
    code, _, err = cli(capsys, "agents", "approve", str(agent_id), "--actor", people["approver"])
    assert code == 1
    assert "JIRA_APPROVED_STATUSES" in err
    with session_scope() as session:
        assert registry.agent_status(session, agent_id=agent_id)["status"] == "pending"


def test_cancel_comments_on_the_issue_and_moves_it_to_cancelled(
    capsys,
    agent_id,
    people,
    jira_env,
):
    submit(capsys, agent_id, people)
    code, _, err = cli(
        capsys,
        "agents",
        "cancel",
        str(agent_id),
        "--actor",
        people["developer"],
        "--comment",
        "Found a bug",
    )
    assert code == 0, err
    issue = jira_env.issues["AGENT-1"]
    assert issue.status == "Cancelled"
    assert "cancelled" in to_plain_text(issue.comments[-1]["body"]).lower()
    assert "Found a bug" in to_plain_text(issue.comments[-1]["body"])


def test_registry_comment_is_posted_as_adf_and_linked(capsys, agent_id, people, jira_env):
    submit(capsys, agent_id, people)
    code, _, err = cli(
        capsys,
        "agents",
        "comment",
        str(agent_id),
        "--actor",
        people["approver"],
        "--body",
        "Why does it need the ticket body?",
    )
    assert code == 0, err
    posted = jira_env.issues["AGENT-1"].comments[-1]
    assert posted["body"]["type"] == "doc"
    assert "Why does it need the ticket body?" in to_plain_text(posted["body"])
    with session_scope() as session:
        comment = session.scalars(select(Comment)).one()
        assert comment.jira_comment_id == posted["id"]


def test_comment_on_a_never_submitted_agent_stays_local(capsys, agent_id, people, jira_env):
    assert (
        cli(
            capsys,
            "agents",
            "comment",
            str(agent_id),
            "--actor",
            people["developer"],
            "--body",
            "draft thoughts",
        )[0]
        == 0
    )
    assert jira_env.calls("POST", "/comment") == []
    assert outbox_rows() == []


@pytest.fixture
def deploy_target():
    received: list[tuple[dict, bytes]] = []
    answer = {"status": 204}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            received.append(
                (dict(self.headers), self.rfile.read(int(self.headers["Content-Length"])))
            )
            self.send_response(answer["status"])
            self.end_headers()

        def log_message(self, *args):  # noqa: ANN002
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/hooks/deploy", received, answer
    server.shutdown()
    server.server_close()


def test_deploy_posts_the_signed_version_and_only_2xx_counts(
    capsys,
    agent_id,
    people,
    jira_env,
    deploy_target,
    monkeypatch,
):
    url, received, answer = deploy_target
    monkeypatch.setenv("DEPLOY_WEBHOOK_URL", url)
    monkeypatch.setenv("DEPLOY_WEBHOOK_SECRET", "deploy-secret")
    reset_settings()
    submit(capsys, agent_id, people)
    assert cli(capsys, "agents", "approve", str(agent_id), "--actor", people["approver"])[0] == 0

    answer["status"] = 500
    code, _, err = cli(capsys, "agents", "deploy", str(agent_id), "--actor", people["admin"])
    assert code == 1 and "500" in err and "stays approved" in err
    with session_scope() as session:
        assert registry.agent_status(session, agent_id=agent_id)["status"] == "approved"

    answer["status"] = 204
    assert cli(capsys, "agents", "deploy", str(agent_id), "--actor", people["admin"])[0] == 0
    headers, body = received[-1]
    assert deploy_webhook.verify("deploy-secret", headers=headers, body=body)
    sent = json.loads(body)
    assert sent["type"] == "agent.deployed"
    assert sent["data"]["version"] == 1 and sent["data"]["code"] == CODE
    assert sent["data"]["jira_issue_key"] == "AGENT-1"
    with session_scope() as session:
        assert registry.agent_status(session, agent_id=agent_id)["status"] == "production"


def test_jira_check_passes_against_a_good_setup(capsys, jira_env, db_url):
    code, out, err = cli(capsys, "jira", "check")
    assert code == 0, err
    assert "authenticated as Registry Bot" in out
    assert "JIRA_APPROVED_STATUSES: Approved exist" in out


def test_jira_check_names_each_problem(capsys, jira_env, db_url, monkeypatch):
    monkeypatch.setenv("JIRA_APPROVED_STATUSES", "Done,Shipped")
    reset_settings()
    code, _, err = cli(capsys, "jira", "check")
    assert code == 1
    assert "JIRA_APPROVED_STATUSES=Done,Shipped: no such status" in err
    assert "To Do, In Progress, Approved, Rejected, Cancelled" in err

    monkeypatch.setenv("JIRA_API_TOKEN", "wrong-token")
    reset_settings()
    code, _, err = cli(capsys, "jira", "check")
    assert code == 1
    assert "JIRA_EMAIL and JIRA_API_TOKEN" in err and "wrong-token" not in err


def test_without_jira_nothing_is_queued(capsys, people, make_agent, db_url, monkeypatch):
    monkeypatch.setenv("JIRA_BASE_URL", "")
    reset_settings()
    agent = make_agent(people["developer"], code=CODE)
    data = submit(capsys, agent.id, people)
    assert data["status"] == "pending" and data["jira_issue_key"] is None
    assert cli(capsys, "agents", "approve", str(agent.id), "--actor", people["approver"])[0] == 0
    assert outbox_rows() == []
    assert OutboxStatus.PENDING.value == "pending"


def test_an_issue_created_by_a_crashed_attempt_is_adopted(capsys, agent_id, people, jira_env):
    """Jira made the issue but the process died before storing the key: no second issue."""
    jira_env.fail_next(503, times=4, path="/rest/api/3/issue", method="POST")
    assert submit(capsys, agent_id, people)["jira_issue_key"] is None
    from core.jira.client import client_from_settings

    orphan = client_from_settings().create_issue(
        {"project": {"key": "AGENT"}, "issuetype": {"name": "Task"}, "summary": "orphan"},
        dedupe_label=f"agent-registry-{agent_id}-v1",
    )
    assert cli(capsys, "jira", "sync")[0] == 0
    assert list(jira_env.issues) == [orphan["key"]]
    code, out, _ = cli(capsys, "agents", "status", str(agent_id), "--json")
    assert json.loads(out)["jira_issue_key"] == orphan["key"]


def test_decision_while_the_issue_is_still_queued_follows_the_issue(
    capsys, agent_id, people, jira_env
):
    jira_env.fail_next(503, times=4, path="/rest/api/3/issue", method="POST")
    submit(capsys, agent_id, people)
    assert cli(capsys, "agents", "approve", str(agent_id), "--actor", people["approver"])[0] == 0
    assert cli(capsys, "jira", "sync")[0] == 0
    assert jira_env.issues["AGENT-1"].status == "Approved"
    assert outbox_rows() == [
        ("create_issue", "done"),
        ("attach_code", "done"),
        ("transition", "done"),
    ]
