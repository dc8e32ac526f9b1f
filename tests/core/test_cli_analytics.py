"""`python -m core analytics …` end to end (in-process), on every backend."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from core.cli import main
from core.db import session_scope
from core.models import UsageLog
from tests.core.analytics_helpers import at, past_days


@pytest.fixture
def agent(people, make_agent) -> int:  # noqa: ANN001
    return make_agent(people["developer"]).id


def _count() -> int:
    with session_scope() as session:
        return session.scalar(select(func.count()).select_from(UsageLog))


def _run(capsys, *argv: str) -> tuple[int, str, str]:  # noqa: ANN001
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_import_jsonl_aggregate_and_metrics_json(tmp_path, capsys, agent):
    day = past_days(1)[0]
    lines = [
        {
            "agent_id": agent,
            "event_type": "executed",
            "user": f"u{i % 3}",
            "model_name": "gpt-4o",
            "tokens_used": 100,
            "execution_time_ms": 10 * (i + 1),
            "created_at": at(day),
        }
        for i in range(20)
    ]
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(json.dumps(e) for e in lines) + "\n\n")
    code, out, _ = _run(capsys, "analytics", "import", str(path))
    assert (code, out.strip()) == (0, "imported 20 events")
    code, out, _ = _run(capsys, "analytics", "prices", "set", "gpt-4o", "0.005")
    assert code == 0
    code, out, _ = _run(capsys, "analytics", "aggregate", "--all", "--json")
    assert code == 0 and json.loads(out)["days"] == 1
    code, out, _ = _run(
        capsys, "analytics", "metrics", "--date", day.isoformat(), "--agent", str(agent), "--json"
    )
    data = json.loads(out)
    assert code == 0
    assert {
        k: data[k]
        for k in (
            "date",
            "executions",
            "views",
            "total_tokens",
            "unique_users",
            "avg_execution_ms",
            "p95_execution_ms",
            "cost_usd",
        )
    } == {
        "date": day.isoformat(),
        "executions": 20,
        "views": 0,
        "total_tokens": 2000,
        "unique_users": 3,
        "avg_execution_ms": 105.0,
        "p95_execution_ms": 190.0,
        "cost_usd": "0.010000",
    }


def test_import_csv_with_bad_lines_imports_nothing_unless_skipped(tmp_path, capsys, agent):
    day = past_days(1)[0]
    path = tmp_path / "events.csv"
    path.write_text(
        "agent_id,event_type,user,model_name,tokens_used,execution_time_ms,created_at\n"
        f"{agent},executed,ana,gpt-4o,10,5,{at(day)}\n"
        f"{agent},clicked,ana,,,,{at(day)}\n"
        f"{agent},viewed,bo,,,,\n"
        f"{agent},executed,ana,gpt-4o,-3,5,{at(day)}\n"
        f'{agent},viewed,"multi\nline user",,,,{at(day)}\n'
        f"999999,viewed,ana,,,,{at(day)}\n"
    )
    code, out, err = _run(capsys, "analytics", "import", str(path))
    assert code == 1
    assert "line 3: event_type must be one of" in err
    assert "line 5: tokens_used must be a non-negative integer" in err
    assert "line 8: agent 999999 does not exist" in err
    assert "3 of 6 lines are invalid" in err and "nothing was imported" in err
    assert _count() == 0
    code, out, err = _run(capsys, "analytics", "import", str(path), "--skip-invalid")
    assert code == 0 and "imported 3 events (3 invalid lines skipped)" in out
    assert "skipped line 3" in err
    assert _count() == 3


def test_import_reports_broken_json_and_missing_files(tmp_path, capsys, agent):
    path = tmp_path / "events.ndjson"
    path.write_text(json.dumps({"agent_id": agent, "event_type": "viewed"}) + "\n{oops\n")
    code, _, err = _run(capsys, "analytics", "import", str(path))
    assert code == 1 and "line 2: not valid JSON" in err
    code, _, err = _run(capsys, "analytics", "import", str(tmp_path / "missing.csv"))
    assert code == 1 and "cannot read" in err
    assert _count() == 0


def test_prices_list_set_delete(capsys, db_url):
    code, _, _ = _run(
        capsys, "analytics", "prices", "set", "claude-3-*", "0.003", "--from", "2025-01-01"
    )
    assert code == 0
    code, out, _ = _run(capsys, "analytics", "prices", "list", "--json")
    assert json.loads(out) == [
        {
            "id": json.loads(out)[0]["id"],
            "model_pattern": "claude-3-*",
            "usd_per_1k_tokens": "0.003000",
            "effective_from": "2025-01-01",
        }
    ]
    code, _, err = _run(capsys, "analytics", "prices", "set", "claude-3-*", "-1")
    assert code == 1 and "between 0 and" in err
    code, _, err = _run(capsys, "analytics", "prices", "set", "x", "0.0000001")
    assert code == 1 and "6 decimal places" in err
    code, out, _ = _run(capsys, "analytics", "prices", "delete", "claude-3-*")
    assert code == 0 and "deleted 1 price" in out
    code, _, err = _run(capsys, "analytics", "prices", "delete", "claude-3-*")
    assert code == 1 and "no price" in err


def test_bad_dates_are_usage_errors(capsys, db_url):
    with pytest.raises(SystemExit) as caught:
        main(["analytics", "metrics", "--date", "26/11/2026"])
    assert caught.value.code == 2
    with pytest.raises(SystemExit):
        main(["analytics", "aggregate", "--date", "2026-01-01", "--all"])


def test_summary_command(capsys, agent):
    day = past_days(1)[0]
    with session_scope(write=True) as session:
        from core import analytics

        analytics.log_events(
            session,
            events=[
                {"agent_id": agent, "event_type": "viewed", "user": "u", "created_at": at(day)}
            ],
        )
    code, out, _ = _run(
        capsys,
        "analytics",
        "summary",
        "--from",
        (day - timedelta(days=1)).isoformat(),
        "--to",
        day.isoformat(),
        "--json",
    )
    data = json.loads(out)
    assert code == 0 and (data["views"], data["unique_users"]) == (1, 1)
