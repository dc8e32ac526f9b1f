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


def sync(capsys) -> tuple[int, str, str]:  # noqa: ANN001
    """What the webhook server's background job does: deliver whatever is due."""
    return cli(capsys, "jira", "sync")


def status(capsys, agent_id: int) -> dict:  # noqa: ANN001
    code, out, err = cli(capsys, "agents", "status", str(agent_id), "--json")
    assert code == 0, err
    return json.loads(out)


def outbox_rows() -> list[tuple[str, str]]:
    with session_scope() as session:
        return [
            (r.kind.value, r.status.value)
            for r in session.scalars(select(JiraOutbox).order_by(JiraOutbox.id))
        ]


def test_submit_returns_at_once_and_the_outbox_creates_the_issue(
    capsys,
    agent_id,
    people,
    jira_env,
):
    data = submit(capsys, agent_id, people)
    assert data["status"] == "pending" and data["jira_issue_key"] is None
    assert jira_env.requests == []  # the command never called Jira
    assert status(capsys, agent_id)["jira_sync"]["state"] == "queued"

    assert sync(capsys)[0] == 0
    data = status(capsys, agent_id)
    assert data["jira_issue_key"] == "AGENT-1"
    assert data["jira_issue_url"] == f"{jira_env.url}/browse/AGENT-1"
    assert data["jira_sync"]["state"] == "sent"
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
    assert "Shortened" not in text
    assert issue.fields["summary"] == "Approve agent: Ticket summariser v1"
    assert f"agent-registry-{agent_id}-v1" in issue.fields["labels"]
    assert issue.properties["agent-registry"]["submission"] == f"agent-registry-{agent_id}-v1"
    assert [(a["filename"], a["content"]) for a in issue.attachments] == [
        ("summariser.py", CODE.encode())
    ]
    assert outbox_rows() == [("create_issue", "done"), ("attach_code", "done")]


def test_any_accepted_agent_gets_an_issue_shortened_with_the_spec_attached(
    capsys, people, make_agent, jira_env
):
    prompt = "You are careful. " * 5_882  # 99,994 characters: the registry accepts it
    agent = make_agent(
        people["developer"],
        description="D" * 20_000,
        system_prompt=prompt,
        tools=["search", "email"],
        code=CODE,
    )
    submit(capsys, agent.id, people)
    assert sync(capsys)[0] == 0
    issue = jira_env.issues["AGENT-1"]  # the double refuses text over 32,767 characters
    text = to_plain_text(issue.fields["description"])
    assert "Shortened:" in text and "32,767" in text
    spec_name = f"agent_{agent.id}_v1_spec.md".replace(f"agent_{agent.id}", _slug(agent.name))
    assert spec_name in text
    files = {a["filename"]: a["content"].decode() for a in issue.attachments}
    assert set(files) == {spec_name, f"{_slug(agent.name)}_v1.py"}
    spec = files[spec_name]
    assert prompt.strip() in spec and "D" * 20_000 in spec and '"search"' in spec
    assert status(capsys, agent.id)["jira_sync"]["state"] == "sent"


def _slug(name: str) -> str:
    return name.lower().replace(" ", "_")


def test_a_long_comment_is_posted_in_parts_within_the_limit(capsys, agent_id, people, jira_env):
    from core.jira.outbox import deliver
    from core.jira.subscriber import enqueue_comment

    submit(capsys, agent_id, people)
    sync(capsys)
    with session_scope(write=True) as session:
        note = Comment(
            agent_id=agent_id, author="ops@corp.test", body="x " * 30_000, source=Source.SYSTEM
        )
        session.add(note)
        session.flush()
        enqueue_comment(session, agent_id=agent_id, version=1, comment_id=note.id)
    assert deliver().failed == []
    parts = [to_plain_text(c["body"]) for c in jira_env.issues["AGENT-1"].comments]
    assert len(parts) == 3 and "(part 1 of 3)" in parts[0] and "(part 3 of 3)" in parts[2]
    assert sum(p.count("x") for p in parts) == 30_000


def test_jira_down_at_submit_keeps_the_submission_and_sync_creates_one_issue(
    capsys,
    agent_id,
    people,
    jira_env,
):
    jira_env.fail_next(503, times=1, path="/rest/api/3/issue", method="POST")
    data = submit(capsys, agent_id, people)
    assert data["status"] == "pending" and data["jira_issue_key"] is None
    code, _, err = sync(capsys)
    assert code == 1 and "Jira answered 503" in err
    assert outbox_rows() == [("create_issue", "pending"), ("attach_code", "pending")]
    assert status(capsys, agent_id)["jira_sync"]["state"] == "retrying"

    assert sync(capsys)[0] == 0  # JIRA_OUTBOX_RETRY_SECONDS=0 in tests: due again at once
    assert list(jira_env.issues) == ["AGENT-1"]  # the 503 was answered before any work
    assert len(jira_env.issues["AGENT-1"].attachments) == 1
    assert status(capsys, agent_id)["jira_issue_key"] == "AGENT-1"
    assert sync(capsys)[0] == 0
    assert list(jira_env.issues) == ["AGENT-1"]  # nothing created twice


def test_a_lost_create_answer_never_makes_a_second_issue_while_search_lags(
    capsys,
    agent_id,
    people,
    jira_env,
    monkeypatch,
):
    monkeypatch.setenv("JIRA_RECONCILE_SECONDS", "3600")
    reset_settings()
    jira_env.search_lag_seconds = 3600  # Jira's search does not see the new issue yet
    jira_env.drop_next(path="/rest/api/3/issue", method="POST")
    submit(capsys, agent_id, people)
    assert sync(capsys)[0] == 1
    assert list(jira_env.issues) == ["AGENT-1"]  # Jira did create it; the answer was lost
    with session_scope(write=True) as session:  # make the reconciling search due now
        for row in session.scalars(select(JiraOutbox)):
            row.next_attempt_at = row.created_at
    code, out, _ = sync(capsys)
    assert code == 0 and "searching Jira for that issue" in out
    assert list(jira_env.issues) == ["AGENT-1"]  # searched, did not create again
    assert "searching Jira" in status(capsys, agent_id)["jira_sync"]["detail"]

    jira_env.search_lag_seconds = 0  # the search index caught up
    with session_scope(write=True) as session:
        for row in session.scalars(select(JiraOutbox)):
            row.next_attempt_at = row.created_at
    assert sync(capsys)[0] == 0
    assert list(jira_env.issues) == ["AGENT-1"]
    assert status(capsys, agent_id)["jira_issue_key"] == "AGENT-1"
    assert len(jira_env.calls_to("POST", "/rest/api/3/issue")) == 1


def test_failed_attachment_is_retried_without_touching_the_issue(
    capsys,
    agent_id,
    people,
    jira_env,
):
    jira_env.fail_next(500, times=1, path="/attachments")
    submit(capsys, agent_id, people)
    assert sync(capsys)[0] == 1
    assert outbox_rows() == [("create_issue", "done"), ("attach_code", "pending")]
    assert sync(capsys)[0] == 0
    assert outbox_rows() == [("create_issue", "done"), ("attach_code", "done")]
    assert len(jira_env.calls_to("POST", "/rest/api/3/issue")) == 1
    assert len(jira_env.issues["AGENT-1"].attachments) == 1


def test_a_lost_attachment_answer_does_not_attach_twice(capsys, agent_id, people, jira_env):
    jira_env.drop_next(path="/attachments")
    submit(capsys, agent_id, people)
    assert sync(capsys)[0] == 1
    assert sync(capsys)[0] == 0
    assert len(jira_env.issues["AGENT-1"].attachments) == 1
    assert len(jira_env.calls("POST", "/attachments")) == 1


def test_sync_reports_jira_still_down(capsys, agent_id, people, jira_env):
    jira_env.fail_next(503, times=100, path="/rest/api/3/issue", method="POST")
    submit(capsys, agent_id, people)
    code, _, err = sync(capsys)
    assert code == 1
    assert "Jira answered 503" in err


def test_approve_in_the_registry_returns_at_once_and_moves_the_issue_by_id(
    capsys,
    agent_id,
    people,
    jira_env,
):
    submit(capsys, agent_id, people)
    sync(capsys)
    calls = len(jira_env.requests)
    code, out, err = cli(capsys, "agents", "approve", str(agent_id), "--actor", people["approver"])
    assert code == 0, err
    assert len(jira_env.requests) == calls  # the command did not wait on Jira
    assert status(capsys, agent_id)["status"] == "approved"
    assert sync(capsys)[0] == 0
    assert jira_env.issues["AGENT-1"].status == "Approved"
    assert jira_env.calls("POST", "/transitions")[-1].json == {"transition": {"id": "21"}}


def test_reject_in_the_registry_transitions_the_issue(capsys, agent_id, people, jira_env):
    submit(capsys, agent_id, people)
    assert cli(capsys, "agents", "reject", str(agent_id), "--actor", people["approver"])[0] == 0
    assert sync(capsys)[0] == 0
    assert jira_env.issues["AGENT-1"].status == "Rejected"


def test_throttled_transition_waits_the_full_retry_after_and_blocks_no_other_agent(
    capsys, agent_id, people, make_agent, jira_env
):
    other = make_agent(people["developer"], name="Other agent").id
    submit(capsys, agent_id, people)
    sync(capsys)
    jira_env.throttle("120", path="/rest/api/3/issue/AGENT-1")
    assert cli(capsys, "agents", "approve", str(agent_id), "--actor", people["approver"])[0] == 0
    submit(capsys, other, people)  # queued after the throttled call
    code, _, err = sync(capsys)
    assert code == 1 and "asked to wait 120 s" in err
    assert list(jira_env.issues) == ["AGENT-1", "AGENT-2"]  # the other agent went ahead
    with session_scope() as session:
        row = session.scalars(select(JiraOutbox).where(JiraOutbox.kind == "transition")).one()
        wait = (row.next_attempt_at - row.created_at).total_seconds()
    assert 119 <= wait <= 125  # rescheduled for Jira's time, not slept on, not capped
    sync_state = status(capsys, agent_id)["jira_sync"]
    assert sync_state["state"] == "retrying" and "retrying until" in sync_state["detail"]
    calls = len(jira_env.requests)
    assert sync(capsys)[0] == 0  # not due: nothing is sent before Jira's time
    assert len(jira_env.requests) == calls
    assert jira_env.issues["AGENT-1"].status == "To Do"


def test_a_lost_transition_answer_is_not_reported_as_a_failure(capsys, agent_id, people, jira_env):
    submit(capsys, agent_id, people)
    sync(capsys)
    jira_env.drop_next(path="/transitions", method="POST")
    assert cli(capsys, "agents", "approve", str(agent_id), "--actor", people["approver"])[0] == 0
    assert sync(capsys)[0] == 1  # no answer: retried later
    assert jira_env.issues["AGENT-1"].status == "Approved"  # Jira did move it
    assert sync(capsys)[0] == 0  # the retry checks the status first: done, no 400
    assert outbox_rows()[-1] == ("transition", "done")
    assert len(jira_env.calls("POST", "/transitions")) == 1
    assert status(capsys, agent_id)["jira_sync"]["state"] == "sent"


def test_a_transition_jira_cannot_make_fails_visibly_and_can_be_retried(
    capsys,
    agent_id,
    people,
    jira_env,
):
    submit(capsys, agent_id, people)
    jira_env.transitions = [t for t in jira_env.transitions if t[2] != "Approved"]
    assert cli(capsys, "agents", "approve", str(agent_id), "--actor", people["approver"])[0] == 0
    code, _, err = sync(capsys)
    assert code == 1 and "JIRA_APPROVED_STATUSES" in err
    data = status(capsys, agent_id)
    assert data["status"] == "approved"  # the registry's decision stands
    assert data["jira_sync"]["state"] == "failed"
    assert "JIRA_APPROVED_STATUSES" in data["jira_sync"]["detail"]

    code, out, _ = cli(capsys, "jira", "outbox", "list", "--json")
    failed = [r for r in json.loads(out) if r["state"] == "failed"]
    assert [r["kind"] for r in failed] == ["transition"]
    from tests.jira_double.server import TRANSITIONS

    jira_env.transitions = list(TRANSITIONS)  # the Jira admin fixed the workflow
    code, out, err = cli(capsys, "jira", "outbox", "retry", str(failed[0]["id"]))
    assert code == 0, err
    assert jira_env.issues["AGENT-1"].status == "Approved"
    assert status(capsys, agent_id)["jira_sync"]["state"] == "sent"
    assert cli(capsys, "jira", "outbox", "list")[1].strip() == "outbox: nothing waiting"


def test_outbox_retry_names_a_missing_row(capsys, db_url):
    code, _, err = cli(capsys, "jira", "outbox", "retry", "999")
    assert code == 1 and "no outbox row 999" in err


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
    assert sync(capsys)[0] == 0
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
    assert sync(capsys)[0] == 0
    posted = jira_env.issues["AGENT-1"].comments[-1]
    assert posted["body"]["type"] == "doc"
    assert "Why does it need the ticket body?" in to_plain_text(posted["body"])
    with session_scope() as session:
        comment = session.scalars(select(Comment)).one()
        assert comment.jira_comment_id == posted["id"]


def test_a_lost_comment_answer_leaves_exactly_one_comment(capsys, agent_id, people, jira_env):
    submit(capsys, agent_id, people)
    sync(capsys)
    jira_env.drop_next(path="/comment", method="POST")
    argv = ["agents", "comment", str(agent_id), "--actor", people["approver"], "--body", "Once"]
    assert cli(capsys, *argv)[0] == 0
    assert sync(capsys)[0] == 1  # the answer was lost
    assert sync(capsys)[0] == 0  # the retry finds our marked comment instead of re-posting
    comments = jira_env.issues["AGENT-1"].comments
    assert len(comments) == 1 and len(jira_env.calls("POST", "/comment")) == 1
    with session_scope() as session:
        assert session.scalars(select(Comment)).one().jira_comment_id == comments[0]["id"]


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
    assert sync(capsys)[0] == 0
    assert jira_env.calls("POST", "/comment") == []
    assert outbox_rows() == []


def test_in_process_actions_are_delivered_in_the_background(people, agent_id, jira_env):
    """The dashboard and the webhook server deliver right after commit, off the request."""
    from core import background
    from core.jira.outbox import deliver_after_commit

    deliver_after_commit(True)
    with session_scope(write=True) as session:
        registry.submit_agent(
            session, agent_id=agent_id, actor_email=people["developer"], source=Source.DASHBOARD
        )
    assert background.wait_idle(30)
    assert list(jira_env.issues) == ["AGENT-1"]
    with session_scope(write=True) as session:
        registry.approve_agent(
            session, agent_id=agent_id, actor_email=people["approver"], source=Source.DASHBOARD
        )
    assert background.wait_idle(30)
    assert jira_env.issues["AGENT-1"].status == "Approved"


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


def test_deploy_commits_at_once_and_the_signed_notice_is_retried_until_2xx(
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

    sync(capsys)

    answer["status"] = 500
    assert cli(capsys, "agents", "deploy", str(agent_id), "--actor", people["admin"])[0] == 0
    assert received == []  # the deploy did not wait on the target
    with session_scope() as session:
        assert registry.agent_status(session, agent_id=agent_id)["status"] == "production"
    code, _, err = sync(capsys)
    assert code == 1 and "500" in err

    answer["status"] = 204
    assert sync(capsys)[0] == 0
    assert len(received) == 2
    assert received[0][0]["webhook-id"] == received[1][0]["webhook-id"]  # same message id
    headers, body = received[-1]
    assert deploy_webhook.verify("deploy-secret", headers=headers, body=body)
    sent = json.loads(body)
    assert sent["type"] == "agent.deployed"
    assert sent["data"]["version"] == 1 and sent["data"]["code"] == CODE
    assert sent["data"]["jira_issue_key"] == "AGENT-1"


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
    submit(capsys, agent_id, people)
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
    jira_env.fail_next(503, times=1, path="/rest/api/3/issue", method="POST")
    submit(capsys, agent_id, people)
    assert sync(capsys)[0] == 1
    assert cli(capsys, "agents", "approve", str(agent_id), "--actor", people["approver"])[0] == 0
    assert cli(capsys, "jira", "sync")[0] == 0
    assert jira_env.issues["AGENT-1"].status == "Approved"
    assert outbox_rows() == [
        ("create_issue", "done"),
        ("attach_code", "done"),
        ("transition", "done"),
    ]
