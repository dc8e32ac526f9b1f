"""The Analytics page: figures from core.analytics, and filters that change them."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.db import session_scope
from core.models import utcnow
from tests.dashboard.conftest import PEOPLE, go, log_in


def _metrics(at) -> dict[str, str]:  # noqa: ANN001
    return {m.label: m.value for m in at.metric}


@pytest.fixture
def usage(dash_db, add_agent) -> dict[str, int]:  # noqa: ANN001
    """Agent A: 3 executions today and 2 forty days ago; agent B: 1 execution today."""
    from core import analytics

    a = add_agent(name="Agent A")
    b = add_agent(name="Agent B")
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
    assert "No usage in this period." in [c.value for c in at.caption]


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
