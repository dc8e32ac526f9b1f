"""Another process's edit is seen by this process's next search (the index lives in the DB)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from core.db import session_scope
from core.search import search_agents

ROOT = Path(__file__).resolve().parents[3]


def run_cli(url: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": url}
    return subprocess.run(
        [sys.executable, "-m", "core", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_edit_in_another_process_is_seen(db_url, people, make_agent) -> None:  # noqa: ANN001
    agent = make_agent(people["developer"], name="Helper", description="Summarises meeting notes")
    other = make_agent(people["developer"], name="Other", description="Plans team offsites")
    with session_scope() as session:  # this process now holds the index in memory
        assert search_agents(session, query="meeting notes summary")[0].id == agent.id
        assert search_agents(session, query="volcano eruption", min_similarity=0.1) == []

    edit = run_cli(
        db_url,
        "agents", "edit", str(agent.id), "--actor", people["developer"],
        "--description", "Tracks volcano eruption alerts worldwide",
    )  # fmt: skip
    assert edit.returncode == 0, edit.stderr
    created = run_cli(
        db_url,
        "agents", "create", "--owner", people["developer"], "--name", "Lava Scout",
        "--description", "Maps lava flows after a volcano eruption", "--model", "gpt-4o", "--json",
    )  # fmt: skip
    assert created.returncode == 0, created.stderr

    with session_scope() as session:
        hits = search_agents(session, query="volcano eruption", min_similarity=0.1)
    assert {hit.name for hit in hits} == {"Helper", "Lava Scout"}
    assert other.id not in [hit.id for hit in hits]
