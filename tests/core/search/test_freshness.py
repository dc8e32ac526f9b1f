"""Another process's edit is seen by this process's next search (the index lives in the DB)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from core.db import session_scope
from core.search import search_agents

ROOT = Path(__file__).resolve().parents[3]


def test_edit_in_another_process_is_seen(db_url, people, make_agent) -> None:  # noqa: ANN001
    agent = make_agent(people["developer"], name="Helper", description="Summarises meeting notes")
    other = make_agent(people["developer"], name="Other", description="Plans team offsites")
    with session_scope() as session:  # this process now holds the index in memory
        assert search_agents(session, query="meeting notes summary")[0].id == agent.id
        assert search_agents(session, query="volcano eruption", min_similarity=0.1) == []

    script = (
        "from core import registry\n"
        "from core.db import session_scope\n"
        "from core.models import Source\n"
        "with session_scope(write=True) as session:\n"
        f"    registry.update_agent(session, agent_id={agent.id}, actor_email='{people['developer']}',"
        " description='Tracks volcano eruption alerts worldwide', source=Source.CLI)\n"
        f"    registry.create_agent(session, owner_email='{people['developer']}', name='Lava Scout',"
        " description='Maps lava flows after a volcano eruption', model='gpt-4o')\n"
    )
    other_process = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": db_url},
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert other_process.returncode == 0, other_process.stderr

    with session_scope() as session:
        hits = search_agents(session, query="volcano eruption", min_similarity=0.1)
    assert {hit.name for hit in hits} == {"Helper", "Lava Scout"}
    assert other.id not in [hit.id for hit in hits]
