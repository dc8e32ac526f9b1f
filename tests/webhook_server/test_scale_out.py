"""Scale-out: two webhook servers and a dashboard-like process against ONE PostgreSQL.

Signed Jira deliveries go to both servers, some sent again to the other one (Jira's retries);
the dashboard-like process comments (its Jira calls go out after commit, in its own
background thread) while both servers' periodic jobs deliver the same outbox. Every delivery
is stored and applied exactly once, every Jira call is made exactly once, and each periodic
job (core.jobs.JOBS, recorded by tests/webhook_server/scale_out_app.py) runs at most once per
interval across all processes, never two at a time.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select

from core import auth, jobs, registry
from core.config import reset_settings
from core.db import session_scope
from core.jira.outbox import deliver_after_commit
from core.jira.signature import sign
from core.models import (
    Agent,
    Comment,
    JiraOutbox,
    OutboxStatus,
    Role,
    Source,
    WebhookEvent,
    WebhookStatus,
)
from tests.conftest import IN_CI, _migrated, empty_all_tables
from tests.jira_double import payloads
from tests.jira_double.fixtures import WEBHOOK_SECRET, jira, jira_env  # noqa: F401
from tests.webhook_server.live import running_server

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
APP = "tests.webhook_server.scale_out_app:create_app()"
DELIVERIES = 60
DASHBOARD_COMMENTS = 8
DASHBOARD = """
import sys
from core import background, registry
from core.db import session_scope
from core.models import Source

agent_id, author, count = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
for n in range(count):
    with session_scope(write=True) as session:
        registry.add_comment(
            session, agent_id=agent_id, actor_email=author, body=f"dashboard note {n}",
            source=Source.DASHBOARD,
        )
assert background.wait_idle(60), "after-commit Jira delivery did not finish"
"""


@pytest.fixture
def postgres_url(_migrated_urls, tmp_path_factory, monkeypatch) -> str:  # noqa: ANN001
    if not os.environ.get("TEST_POSTGRES_URL"):
        if IN_CI:
            pytest.fail("CI=true but TEST_POSTGRES_URL is not set")
        pytest.skip("TEST_POSTGRES_URL is not set")
    url = _migrated("postgres", _migrated_urls, tmp_path_factory)
    empty_all_tables(url)
    monkeypatch.setenv("DATABASE_URL", url)
    reset_settings()
    return url


@pytest.fixture
def submitted_agent(postgres_url, jira_env) -> int:  # noqa: ANN001, F811
    """A submitted agent whose Jira issue creation is queued, for the servers to deliver."""
    deliver_after_commit(False)  # this test process only queues, like the CLI
    try:
        with session_scope(write=True) as session:
            auth.create_user(session, email="dev@example.com", name="Dev", role=Role.DEVELOPER)
            agent = registry.create_agent(
                session,
                owner_email="dev@example.com",
                source=Source.CLI,
                name="Scale-out agent",
                description="An agent that both servers and the dashboard work on",
                model="gpt-4o",
            )
            session.flush()
            registry.submit_agent(
                session, agent_id=agent.id, actor_email="dev@example.com", source=Source.CLI
            )
            return agent.id
    finally:
        deliver_after_commit(True)


def test_two_servers_and_a_dashboard_on_one_postgres_do_everything_once(
    submitted_agent,
    postgres_url,
    jira_env,  # noqa: F811
    tmp_path,
):
    job_log = tmp_path / "jobs.jsonl"
    env = {"DATABASE_URL": postgres_url, "SCALE_OUT_JOB_LOG": str(job_log)}
    with (
        running_server(env, app=APP, workers=1) as first,
        running_server(env, app=APP, workers=1) as second,
    ):
        key = _wait_for(lambda: _issue_key(submitted_agent), "the Jira issue to be created")
        dashboard = subprocess.Popen(
            [sys.executable, "-c", DASHBOARD, str(submitted_agent), "dev@example.com"]
            + [str(DASHBOARD_COMMENTS)],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        servers = [first.base, second.base]
        sent = {f"delivery-{n}": n for n in range(DELIVERIES)}

        def deliver(delivery_id: str) -> int:
            n = sent[delivery_id]
            # Every third delivery is sent again to the other server, as a Jira retry.
            targets = [servers[n % 2]] + ([servers[(n + 1) % 2]] if n % 3 == 0 else [])
            statuses = [_post(base, key, delivery_id, n) for base in targets]
            assert all(status == 200 for status in statuses), statuses
            return len(statuses)

        with ThreadPoolExecutor(4) as pool:
            posts = sum(pool.map(deliver, sent))
        assert posts == DELIVERIES + len(range(0, DELIVERIES, 3))
        assert dashboard.wait(timeout=90) == 0
        _wait_for(lambda: _all_processed(DELIVERIES), "every delivery to be processed")
        _wait_for(lambda: _outbox_settled(DASHBOARD_COMMENTS), "the outbox to be delivered")
    runs = [json.loads(line) for line in job_log.read_text().splitlines()]

    with session_scope() as session:
        events = session.execute(
            select(WebhookEvent.delivery_id, WebhookEvent.status, WebhookEvent.attempts)
        ).all()
        jira_comments = session.scalars(
            select(Comment.jira_comment_id).where(
                Comment.agent_id == submitted_agent, Comment.source == Source.JIRA
            )
        ).all()
        outbox = session.execute(select(JiraOutbox.kind, JiraOutbox.status)).all()
    # Deliveries: stored once whatever the retries, each claimed and applied exactly once.
    assert sorted(e.delivery_id for e in events) == sorted(sent)
    assert {(e.status, e.attempts) for e in events} == {(WebhookStatus.PROCESSED, 1)}
    assert sorted(jira_comments) == sorted(str(700_000 + n) for n in range(DELIVERIES))
    # Outbox: one issue created, each dashboard comment posted once, all rows done.
    assert len(jira_env.calls_to("POST", "/rest/api/3/issue")) == 1
    assert list(jira_env.issues) == [key]
    posted = [c["body"] for c in jira_env.issues[key].comments]
    assert len(posted) == DASHBOARD_COMMENTS
    assert len({json.dumps(body, sort_keys=True) for body in posted}) == DASHBOARD_COMMENTS
    assert {status for _, status in outbox} == {OutboxStatus.DONE}
    # Periodic jobs: never two runs of one job at a time, at most one per interval.
    _assert_once_per_interval(runs)


def _post(base: str, key: str, delivery_id: str, n: int) -> int:
    payload = payloads.comment_event(key, comment_id=str(700_000 + n), body=f"Jira note {n}")
    body = json.dumps(payload).encode()
    headers = {
        "X-Hub-Signature": sign(WEBHOOK_SECRET, body),
        "X-Atlassian-Webhook-Identifier": delivery_id,
        "Content-Type": "application/json",
    }
    return requests.post(
        f"{base}/api/jira/webhook", data=body, headers=headers, timeout=30
    ).status_code


def _assert_once_per_interval(runs: list[dict]) -> None:
    by_job: dict[str, list[dict]] = defaultdict(list)
    for run in runs:
        by_job[run["job"]].append(run)
    intervals = {job.name: job.interval_seconds for job in jobs.JOBS}
    assert set(by_job) == set(intervals), f"jobs that never ran: {set(intervals) - set(by_job)}"
    for name, job_runs in by_job.items():
        job_runs.sort(key=lambda run: run["start"])
        for earlier, later in zip(job_runs, job_runs[1:], strict=False):
            assert later["start"] >= earlier["end"], ("two at a time", name, job_runs)
            if earlier["ok"]:  # a failed run is not stamped: it may be taken again at once
                # The lease's last run is stamped after the run ends; the next taker checks it.
                gap = later["start"] - earlier["end"]
                assert gap >= intervals[name] - 0.001, ("within its interval", name, job_runs)
        if intervals[name] >= 300:  # the rollups: once in this whole test, by one process
            assert [run["ok"] for run in job_runs] == [True], (name, job_runs)


def _issue_key(agent_id: int) -> str | None:
    with session_scope() as session:
        return session.get(Agent, agent_id).jira_issue_key


def _all_processed(total: int) -> bool:
    with session_scope() as session:
        counts = dict(
            session.execute(
                select(WebhookEvent.status, func.count()).group_by(WebhookEvent.status)
            ).all()
        )
    return counts == {WebhookStatus.PROCESSED: total}


def _outbox_settled(comments: int) -> bool:
    with session_scope() as session:
        rows = session.execute(select(JiraOutbox.kind, JiraOutbox.status)).all()
    return len(rows) >= 1 + comments and all(status == OutboxStatus.DONE for _, status in rows)


def _wait_for(predicate, what: str, timeout: float = 45.0):  # noqa: ANN001, ANN202
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)  # the servers work in the background
