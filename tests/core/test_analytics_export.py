"""Raw-event export and exact per-day latency percentiles, against plain-Python references."""

from __future__ import annotations

import csv
import io
import math
from collections import defaultdict
from datetime import UTC, datetime

from core import analytics
from core.analytics.export import EXPORT_COLUMNS
from core.db import session_scope
from tests.core.analytics_helpers import p95, past_days, random_events


def _p50(values: list[int]) -> float:
    ordered = sorted(values)
    return float(ordered[math.ceil(0.5 * len(ordered)) - 1])


def _setup(people, make_agent):  # noqa: ANN001, ANN202
    ids = [make_agent(people["developer"]).id for _ in range(2)]
    days = past_days(4)
    events = random_events(ids, days, n=400, seed=3)
    with session_scope(write=True) as session:
        analytics.log_events(session, events=events)
    return ids, days, events


def _day(event: dict):  # noqa: ANN202
    return datetime.fromisoformat(event["created_at"]).astimezone(UTC).date()


def test_latency_series_is_exact_per_day(db_url, people, make_agent):
    ids, days, events = _setup(people, make_agent)
    for agent_id, model in [(None, None), (ids[0], None), (None, "gpt-4o")]:
        times: dict = defaultdict(list)
        for e in events:
            if e["event_type"] != "executed":
                continue
            if agent_id is not None and e["agent_id"] != agent_id:
                continue
            if model is not None and e.get("model_name") != model:
                continue
            times[_day(e)].append(e["execution_time_ms"])
        with session_scope() as session:
            rows = analytics.latency_series(
                session, start=min(days), end=max(days), agent_id=agent_id, model_name=model
            )
        assert [r["date"] for r in rows] == sorted(times)
        for row in rows:
            values = times[row["date"]]
            assert row["executions"] == len(values)
            assert row["p50_execution_ms"] == _p50(values)
            assert row["p95_execution_ms"] == p95(values)


def test_export_streams_the_filtered_events_oldest_first(db_url, people, make_agent):
    ids, days, events = _setup(people, make_agent)
    with session_scope() as session:
        rows = list(
            analytics.export_events(
                session, start=min(days), end=max(days), agent_id=ids[1], batch_size=50
            )
        )
    expected = [e for e in events if e["agent_id"] == ids[1]]
    assert len(rows) == len(expected)
    stamps = [r["created_at"] for r in rows]
    assert stamps == sorted(stamps) and stamps[0].endswith("Z")
    assert {r["user"] for r in rows} == {e["user"] for e in expected}
    assert sum(r["tokens_used"] for r in rows) == sum(e.get("tokens_used", 0) for e in expected)


def test_csv_text_neutralises_every_formula_start():
    rows = [
        {"user": '=HYPERLINK("http://evil.example","x")', "n": -3},
        {"user": "+1+1", "n": 1.5},
        {"user": "-2+3", "n": None},
        {"user": "@SUM(A1:A2)", "n": float("nan")},
        {"user": "\tpadded", "n": 0},
        {"user": "\r=1", "n": 0},
        {"user": "plain, with comma", "n": 0},
    ]
    text = analytics.csv_text(rows, columns=["user", "n"])
    parsed = list(csv.reader(io.StringIO(text, newline="")))
    assert parsed[0] == ["user", "n"]
    cells = [row[0] for row in parsed[1:]]
    assert cells == [
        '\'=HYPERLINK("http://evil.example","x")',
        "'+1+1",
        "'-2+3",
        "'@SUM(A1:A2)",
        "'\tpadded",
        "'\r=1",
        "plain, with comma",
    ]
    assert [row[1] for row in parsed[1:]] == ["-3", "1.5", "", "", "0", "0", "0"]


def test_raw_event_export_of_a_planted_formula_is_inert(db_url, people, make_agent):
    agent_id = make_agent(people["developer"]).id
    planted = "=cmd|' /C calc'!A0"
    with session_scope(write=True) as session:
        analytics.log_events(
            session, events=[{"agent_id": agent_id, "event_type": "viewed", "user": planted}]
        )
    today = datetime.now(UTC).date()
    with session_scope() as session:
        text = analytics.csv_text(
            analytics.export_events(session, start=today, end=today), columns=EXPORT_COLUMNS
        )
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert [r["user"] for r in rows] == ["'" + planted]
    assert rows[0]["agent_id"] == str(agent_id)


def test_download_names_carry_the_filters():
    from datetime import date

    from core.analytics.downloads import export_file_name, slug

    span = {"start": date(2026, 10, 29), "end": date(2026, 11, 27)}
    assert export_file_name("agents", **span) == "agents_2026-10-29_2026-11-27.csv"
    assert (
        export_file_name("analytics", **span, agent_id=12, model_name="gpt-4o")
        == "analytics_2026-10-29_2026-11-27_agent-12_gpt-4o.csv"
    )
    assert export_file_name("events", **span, model_name="claude-3.5-sonnet") == (
        "events_2026-10-29_2026-11-27_claude-3.5-sonnet.csv"
    )
    assert slug("../../etc/passwd") == "etc-passwd"
    assert slug("azure/gpt 4o:latest") == "azure-gpt-4o-latest"
    assert slug("Übersetzer…") == "bersetzer"
    assert slug("///") == "x"
    assert len(slug("m" * 200)) == 40


def test_rounded_rows_round_times_to_a_tenth_and_keep_missing_values():
    from core.analytics.downloads import rounded_rows

    rows = [
        {"agent_id": 1, "avg_execution_ms": 1079.7273706896551, "p95_execution_ms": 2388.0},
        {"agent_id": 2, "avg_execution_ms": None, "p95_execution_ms": float("nan")},
    ]
    out = rounded_rows(rows)
    assert out[0] == {"agent_id": 1, "avg_execution_ms": 1079.7, "p95_execution_ms": 2388.0}
    assert out[1]["avg_execution_ms"] is None
    assert rows[0]["avg_execution_ms"] == 1079.7273706896551  # the input is left alone
    text = analytics.csv_text(out, columns=["agent_id", "avg_execution_ms"])
    assert text.splitlines() == ["agent_id,avg_execution_ms", "1,1079.7", "2,"]


def test_per_agent_views_are_filled_with_a_model_filter(db_url, people, make_agent):
    """A view has no model: the per-agent table keeps the agent's views when a model is picked
    (they were None, an empty column in the CSV)."""
    ids, days, events = _setup(people, make_agent)
    views = {
        aid: sum(e["event_type"] == "viewed" and e["agent_id"] == aid for e in events)
        for aid in ids
    }
    with session_scope() as session:
        for model in (None, "gpt-4o"):
            rows = analytics.agent_table(session, start=min(days), end=max(days), model_name=model)
            assert {r["agent_id"]: r["views"] for r in rows} == views, model
