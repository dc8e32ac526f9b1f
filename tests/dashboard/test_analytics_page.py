"""The Analytics page: figures from core.analytics, and filters that change them."""

from __future__ import annotations

import json
from datetime import timedelta

import pandas as pd
import pytest

from core.db import session_scope
from core.models import utcnow
from tests.dashboard.conftest import PEOPLE, go, log_in


def _metrics(at) -> dict[str, str]:  # noqa: ANN001
    return {m.label: m.value for m in at.metric}


def _cards(at) -> dict[str, object]:  # noqa: ANN001
    return {m.label: m.proto for m in at.metric}


def _captions(at) -> list[str]:  # noqa: ANN001
    return [c.value for c in at.caption]


def _charts(at) -> list[dict]:  # noqa: ANN001
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def _model_options(at) -> list[str]:  # noqa: ANN001
    return at.selectbox(key="analytics_model").options


@pytest.fixture
def usage(dash_db, add_agent) -> dict[str, int]:  # noqa: ANN001
    """Agent A: 3 executions today and 2 forty days ago; agent B: 1 execution today."""
    from core import analytics

    a = add_agent(name="Agent A")
    b = add_agent(name="Agent B", model="claude-sonnet-4")
    now = utcnow()
    old = now - timedelta(days=40)

    def event(agent_id, when, tokens, model="gpt-4o", user="u1"):  # noqa: ANN001, ANN202
        return {
            "agent_id": agent_id,
            "event_type": "executed",
            "user": user,
            "model_name": model,
            "tokens_used": tokens,
            "execution_time_ms": 100,
            "created_at": when.isoformat(),
        }

    events = [event(a, now, 100), event(a, now, 100, user="u2"), event(a, now, 100)]
    events += [event(a, old, 50), event(a, old, 50), event(b, now, 7, model="claude-sonnet-4")]
    with session_scope(dash_db, write=True) as session:
        analytics.log_events(session, events=events)
    return {"a": a, "b": b}


def test_analytics_figures_and_filters(usage):
    at = go(log_in(PEOPLE["analyst"]), "analytics")
    assert not at.exception
    assert len(at.get("plotly_chart")) == 4
    metrics = _metrics(at)
    assert (metrics["Executions"], metrics["Tokens"]) == ("4", "307")
    assert metrics["Unique users"] == "2"

    at.selectbox(key="analytics_agent").select(usage["b"]).run()
    assert _metrics(at)["Executions"] == "1"
    assert _metrics(at)["Tokens"] == "7"

    at.selectbox(key="analytics_agent").select(None).run()
    at.selectbox(key="analytics_model").select("gpt-4o").run()
    assert _metrics(at)["Tokens"] == "300"

    at.selectbox(key="analytics_model").select(None).run()
    at.get("button_group")[0].set_value("90 days").run()
    assert _metrics(at)["Executions"] == "6"
    assert not at.exception


def test_analytics_on_an_empty_database(dash_db):
    at = go(log_in(PEOPLE["analyst"]), "analytics")
    assert not at.exception
    assert _metrics(at)["Executions"] == "0"
    (info,) = at.info
    assert info.value.startswith("No usage for all agents with any model between")
    assert not at.get("plotly_chart")


def test_partial_previous_window_shows_no_change_and_why(usage):
    """30 days: the previous window (59..30 days ago) holds data only from 40 days ago."""
    at = go(log_in(PEOPLE["analyst"]), "analytics")
    today = utcnow().date()
    first = today - timedelta(days=40)
    reason = (
        f"the previous 30 days ({today - timedelta(days=59):%d %b} – "
        f"{today - timedelta(days=30):%d %b %Y}) hold data only from {first:%d %b %Y}"
    )
    cards = _cards(at)
    for label in ("Executions", "Tokens", "Unique users", "Avg time", "p95 time", "Cost"):
        assert cards[label].delta == "—", label
        assert cards[label].help.startswith(reason), label
    assert cards["Executions"].body == "4"
    assert f"No change shown: {reason}: a change would compare with part of the period." in (
        _captions(at)
    )


def test_a_whole_previous_window_shows_the_change(usage, dash_db):
    """7 days: the previous 7 days lie after the first data (40 days ago): 4 now vs 1 then."""
    from core import analytics

    eight_days_ago = (utcnow() - timedelta(days=8)).isoformat()
    event = {"agent_id": usage["a"], "event_type": "executed", "user": "u1"}
    event |= {"model_name": "gpt-4o", "tokens_used": 70, "created_at": eight_days_ago}
    with session_scope(dash_db, write=True) as session:
        analytics.log_events(session, events=[event])
    at = go(log_in(PEOPLE["analyst"]), "analytics")
    at.get("button_group")[0].set_value("7 days").run()
    cards = _cards(at)
    assert (cards["Executions"].body, cards["Executions"].delta) == ("4", "+300.0%")
    assert (cards["Tokens"].body, cards["Tokens"].delta) == ("307", "+338.6%")
    assert not any(c.startswith("No change shown") for c in _captions(at))


def test_an_empty_filter_pair_shows_a_message_not_empty_axes(usage, add_agent):
    idle = add_agent(name="Idle agent", model="mistral-large")
    at = go(log_in(PEOPLE["analyst"]), "analytics")
    at.selectbox(key="analytics_agent").select(idle).run()
    assert _model_options(at) == ["All models", "mistral-large"]
    at.selectbox(key="analytics_model").select("mistral-large").run()
    assert not at.exception
    today = utcnow().date()
    (info,) = at.info
    assert info.value == (
        f"No usage for agent #{idle} Idle agent with model mistral-large between "
        f"{today - timedelta(days=29):%d %b %Y} and {today:%d %b %Y}. "
        "Pick another agent, model or period."
    )
    assert not at.get("plotly_chart")
    assert _metrics(at)["Executions"] == "0"
    assert not any("Pick an agent" in c for c in _captions(at))


def test_one_agent_narrows_the_models_and_shows_its_figures(usage, dash_db):
    from core import analytics

    at = go(log_in(PEOPLE["analyst"]), "analytics")
    assert _model_options(at) == ["All models", "claude-sonnet-4", "gpt-4o"]
    at.selectbox(key="analytics_agent").select(usage["b"]).run()
    assert _model_options(at) == ["All models", "claude-sonnet-4"]
    at.selectbox(key="analytics_agent").select(usage["a"]).run()
    assert _model_options(at) == ["All models", "gpt-4o"]
    today = utcnow().date()
    with session_scope(dash_db) as session:
        core = analytics.summary(
            session, start=today - timedelta(days=29), end=today, agent_id=usage["a"]
        )
    metrics = _metrics(at)
    assert metrics["Executions"] == f"{core['executions']:,}" == "3"
    assert metrics["Tokens"] == f"{core['total_tokens']:,}" == "300"
    assert metrics["Unique users"] == str(core["unique_users"]) == "2"
    assert metrics["Avg time"] == f"{core['avg_execution_ms']:,.0f} ms" == "100 ms"
    assert metrics["Cost"] == f"${core['cost_usd']:,.2f}"
    assert len(at.get("plotly_chart")) == 4
    assert not any("Pick an agent" in c for c in _captions(at))


def test_ninety_days_every_chart_spans_the_range_and_marks_today(usage):
    at = go(log_in(PEOPLE["analyst"]), "analytics")
    at.get("button_group")[0].set_value("90 days").run()
    today = utcnow().date()
    start = today - timedelta(days=89)
    charts = _charts(at)
    assert len(charts) == 4
    ranges = {tuple(c["layout"]["xaxis"]["range"]) for c in charts}
    assert len(ranges) == 1, "side-by-side charts share one date range"
    (first, last) = ranges.pop()
    assert pd.Timestamp(first) == pd.Timestamp(start) - pd.Timedelta(hours=12)
    assert pd.Timestamp(last) == pd.Timestamp(today) + pd.Timedelta(hours=12)
    for chart in charts:
        (label,) = chart["layout"]["annotations"]
        assert label["text"] == "today (partial)"
        (shade,) = chart["layout"]["shapes"]
        assert pd.Timestamp(shade["x0"]) < pd.Timestamp(today) < pd.Timestamp(shade["x1"])
    legends = {c["layout"]["legend"].get("title", {}).get("text") for c in charts}
    assert legends >= {"Model", "Execution time"}
    assert not legends & {"model_name", "measure"}
    assert f"Today ({today:%d %b}, UTC) is still running: its shaded day is partial." in (
        _captions(at)
    )
    assert _metrics(at)["Executions"] == "6"
    assert _cards(at)["Executions"].delta == "—"  # no data before the 90 days


def test_the_time_zone_is_kept_per_user_and_labels_the_days(usage, dash_db):
    from core.user_timezone import user_timezone

    at = go(log_in(PEOPLE["analyst"]), "analytics")
    assert at.selectbox(key="analytics_timezone").value == "UTC"
    assert any(c.endswith("Days are UTC days.") for c in _captions(at))
    at.selectbox(key="analytics_timezone").select("Asia/Kolkata").run()
    assert any(
        c.endswith("Days are UTC days: in Asia/Kolkata each begins at 05:30.")
        for c in (_captions(at))
    )
    with session_scope(dash_db) as session:
        assert user_timezone(session, email=PEOPLE["analyst"]) == "Asia/Kolkata"
        assert user_timezone(session, email=PEOPLE["admin"]) == "UTC"
    again = go(log_in(PEOPLE["analyst"]), "analytics")
    assert again.selectbox(key="analytics_timezone").value == "Asia/Kolkata"


def test_overview_shows_todays_usage(usage):
    at = log_in(PEOPLE["analyst"])
    metrics = _metrics(at)
    assert metrics["Executions today"] == "4"
    assert metrics["Tokens today"] == "307"


def test_admin_sets_a_model_price_with_validation(dash_db):
    from core import analytics

    at = go(log_in(PEOPLE["admin"]), "admin")
    at.text_input(key="price_pattern").input("my-model*")
    at.text_input(key="price_usd").input("-1")
    next(b for b in at.button if b.label == "Save price").click().run()
    assert at.error, "a negative price is refused with a message"
    assert at.text_input(key="price_pattern").value == "my-model*"
    at.text_input(key="price_usd").input("0.5")
    next(b for b in at.button if b.label == "Save price").click().run()
    assert not at.exception
    with session_scope(dash_db) as session:
        prices = {p["model_pattern"]: p for p in analytics.list_prices(session)}
    assert prices["my-model*"]["usd_per_1k_tokens"].startswith("0.5")


def test_a_linked_model_the_agent_never_ran_falls_back_to_all_models(usage):
    at = log_in(PEOPLE["analyst"])
    at.query_params.update({"agent": str(usage["a"]), "model": "claude-sonnet-4"})
    go(at, "analytics")
    assert not at.exception
    assert at.selectbox(key="analytics_agent").value == usage["a"]
    assert _model_options(at) == ["All models", "gpt-4o"]
    assert at.selectbox(key="analytics_model").value is None
    assert _metrics(at)["Executions"] == "3"


def test_the_stored_views_show_the_same_figures_as_the_events(usage, dash_db):
    """After the rollup job stored the default views' closed days, the page shows the figures
    it showed when it read the events, for every period and agent."""
    from core import analytics
    from core.analytics import windows

    now = utcnow()
    closed = [
        {"agent_id": usage["a" if i % 3 else "b"], "event_type": "executed",
         "user": f"u{i % 4}", "model_name": "gpt-4o", "tokens_used": 10 + i,
         "execution_time_ms": 50 * (i % 7) + 1, "created_at": (now - timedelta(days=i)).isoformat()}
        for i in range(1, 60)
    ]  # fmt: skip
    with session_scope(dash_db, write=True) as session:
        analytics.log_events(session, events=closed)

    def shown() -> list:
        out = []
        for period in ("7 days", "30 days", "90 days"):
            for agent in (None, usage["a"]):
                at = go(log_in(PEOPLE["analyst"]), "analytics")
                at.get("button_group")[0].set_value(period).run()
                at.selectbox(key="analytics_agent").select(agent).run()
                assert not at.exception
                out.append((_metrics(at), at.dataframe[0].value.to_dict("records")))
        return out

    from_events = shown()  # the closed days are queued: every figure from the events
    analytics.roll_up(url=dash_db)
    with session_scope(dash_db) as session:
        assert windows.is_fresh(session, now.date())
    st_clear()
    assert shown() == from_events
    assert any(m["p95 time"] != "—" for m, _ in from_events)


def st_clear() -> None:
    import streamlit as st

    st.cache_data.clear()
