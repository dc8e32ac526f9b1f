"""The CLI as a user runs it: exit codes, one-line errors, JSON shapes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from core.cli import main

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "core", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        timeout=120,
    )


def cli(capsys, *args: str) -> tuple[int, str, str]:  # noqa: ANN001
    try:
        code = main(list(args))
    except SystemExit as exit_:
        code = exit_.code
    out, err = capsys.readouterr()
    return code, out, err


def test_lifecycle_through_the_real_cli(db_url, people, tmp_path, capsys):
    code_file = tmp_path / "agent.py"
    code_file.write_text("print('hi')\n")
    created = run(
        "agents",
        "create",
        "--owner",
        people["developer"],
        "--name",
        "Invoice bot",
        "--description",
        "Reads invoices",
        "--model",
        "gpt-4o",
        "--code-file",
        str(code_file),
        "--json",
    )
    assert created.returncode == 0, created.stderr
    agent = json.loads(created.stdout)
    assert agent["status"] == "draft"
    agent_id = str(agent["id"])

    code, out, _ = cli(
        capsys, "agents", "submit", agent_id, "--actor", people["developer"], "--json"
    )
    assert code == 0
    assert json.loads(out)["status"] == "pending"
    assert json.loads(out)["jira_issue_key"] is None

    refused = run("agents", "approve", agent_id, "--actor", people["developer"])
    assert refused.returncode == 1
    assert refused.stderr.strip().count("\n") == 0
    assert "only approvers may approve" in refused.stderr

    assert cli(capsys, "agents", "approve", agent_id, "--actor", people["approver"])[0] == 0
    assert cli(capsys, "agents", "deploy", agent_id, "--actor", people["admin"])[0] == 0
    status = json.loads(cli(capsys, "agents", "status", agent_id, "--json")[1])
    assert status["status"] == "production"
    assert status["approved_by"] == people["approver"]
    assert [h["to"] for h in status["history"]] == ["draft", "pending", "approved", "production"]
    assert set(status) >= {
        "id",
        "status",
        "version",
        "jira_issue_key",
        "jira_issue_url",
        "approved_by",
        "approved_at",
        "history",
        "comments",
    }


def test_usage_errors_exit_2(db_url, capsys):
    assert cli(capsys, "agents", "frobnicate")[0] == 2
    assert cli(capsys, "agents", "submit")[0] == 2  # missing id and --actor
    assert cli(capsys, "agents", "submit", "abc", "--actor", "x@example.com")[0] == 2
    assert cli(capsys)[0] == 2


def test_refusals_exit_1_with_one_line(db_url, people, make_agent, capsys):
    code, out, err = cli(capsys, "agents", "submit", "4242", "--actor", people["developer"])
    assert (code, out) == (1, "")
    assert err == "error: agent 4242 does not exist; see `agents list` for ids\n"
    code, _, err = cli(
        capsys,
        "agents",
        "create",
        "--owner",
        people["developer"],
        "--name",
        "x" * 121,
        "--description",
        "d",
        "--model",
        "m",
    )
    assert code == 1 and "name is 121 characters" in err
    code, _, err = cli(
        capsys,
        "agents",
        "create",
        "--owner",
        people["developer"],
        "--name",
        "n",
        "--description",
        "d",
        "--model",
        "m",
        "--code-file",
        "/nonexistent/file.py",
    )
    assert code == 1 and "cannot read code file" in err


def test_unreachable_database_is_a_clear_failure(monkeypatch, capsys, tmp_path):
    from core.config import reset_settings

    monkeypatch.setenv("DATABASE_URL", "mysql+pymysql://root@127.0.0.1:1/nowhere")
    reset_settings()
    code, _, err = cli(capsys, "agents", "list")
    assert code == 1
    assert "database is unreachable" in err and err.count("\n") == 1


def test_users_tokens_and_comments(db_url, people, make_agent, capsys):
    code, out, _ = cli(
        capsys,
        "users",
        "add",
        "--email",
        "new@example.com",
        "--name",
        "New",
        "--role",
        "analyst",
        "--password",
        "pw12345678",
        "--json",
    )
    assert code == 0 and json.loads(out)["role"] == "analyst"
    assert (
        cli(
            capsys,
            "users",
            "add",
            "--email",
            "new@example.com",
            "--name",
            "New",
            "--role",
            "analyst",
            "--password",
            "pw12345678",
        )[0]
        == 1
    )
    assert (
        cli(capsys, "users", "add", "--email", "x@example.com", "--name", "X", "--role", "wizard")[
            0
        ]
        == 2
    )

    code, out, _ = cli(capsys, "tokens", "create", "--name", "ingest", "--json")
    token = json.loads(out)["token"]
    code, out, _ = cli(capsys, "tokens", "list", "--json")
    assert token not in out and json.loads(out)[0]["name"] == "ingest"

    agent = make_agent(people["developer"])
    assert (
        cli(
            capsys,
            "agents",
            "comment",
            str(agent.id),
            "--actor",
            people["analyst"],
            "--body",
            "Looks useful",
        )[0]
        == 0
    )
    code, out, _ = cli(capsys, "agents", "status", str(agent.id), "--json")
    assert json.loads(out)["comments"][0]["body"] == "Looks useful"
    code, out, _ = cli(capsys, "agents", "list", "--status", "draft", "--json")
    assert [a["id"] for a in json.loads(out)] == [agent.id]


@pytest.mark.parametrize("runs", [2])
def test_init_db_is_idempotent(sqlite_url, capsys, runs):  # noqa: ANN001
    for _ in range(runs):
        code, out, _ = cli(capsys, "init-db")
        assert code == 0 and "database is at migration" in out
