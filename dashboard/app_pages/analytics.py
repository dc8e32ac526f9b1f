"""Analytics: usage over a date range with agent and model filters (all roles)."""

from datetime import date, timedelta

import pandas as pd
import streamlit as st

from core import registry
from core.models import utcnow
from dashboard import analytics_data, charts, url_state
from dashboard.db import reading
from dashboard.feedback import showing_errors
from dashboard.formatting import compact
from dashboard.identity import ALL_ROLES, require_role

require_role(ALL_ROLES)
st.title("Analytics")

PERIODS = {"7 days": 7, "30 days": 30, "90 days": 90, "Custom": None}
today = utcnow().date()
with reading() as session:
    agents = {a.id: a.name for a in registry.list_agents(session)}
models = analytics_data.query("model_names")

# The filters live in the address too (`?period=90d&agent=4&model=gpt-4o`): a link shows a
# colleague the same view.
PERIOD_PARAMS = {"7d": "7 days", "30d": "30 days", "90d": "90 days", "custom": "Custom"}
url_state.seed("analytics_period", "period", url_state.choice(PERIOD_PARAMS), "30 days")
url_state.seed(
    "analytics_agent", "agent", lambda raw: int(raw) if int(raw) in agents else None, None
)
url_state.seed("analytics_model", "model", lambda raw: raw if raw in models else None, None)
url_state.seed(
    "analytics_range",
    "from",
    lambda raw: (date.fromisoformat(raw), date.fromisoformat(st.query_params.get("to", raw))),
    (today - timedelta(days=13), today),
)

# The period control gets its own row: beside the selects it was clipped on narrow screens.
period = st.segmented_control("Period", list(PERIODS), key="analytics_period")
if period == "Custom":
    chosen = st.date_input("From – to", max_value=today, key="analytics_range", width=320)
    start, end = (chosen[0], chosen[-1]) if chosen else (today, today)
else:
    days = PERIODS.get(period) or 30
    start, end = today - timedelta(days=days - 1), today
agent_col, model_col = st.columns(2)
agent_id = agent_col.selectbox(
    "Agent",
    [None, *agents],
    format_func=lambda i: "All agents" if i is None else f"#{i} {agents[i]}",
    key="analytics_agent",
)
model_name = model_col.selectbox(
    "Model", [None, *models], format_func=lambda m: m or "All models", key="analytics_model"
)
url_state.store("period", {v: k for k, v in PERIOD_PARAMS.items()}.get(period), "30d")
url_state.store("from", start if period == "Custom" else None)
url_state.store("to", end if period == "Custom" else None)
url_state.store("agent", agent_id)
url_state.store("model", model_name)
filters = analytics_data.range_kwargs(start, end, agent_id, model_name)
st.caption(
    f"{start:%d %b %Y} – {end:%d %b %Y} (UTC), compared with the previous {(end - start).days + 1} days"
)

with showing_errors() as attempt, st.spinner("Crunching usage…"):
    summary = analytics_data.query("summary", **filters)
    series = charts.frame(analytics_data.query("daily_series", **filters))
    by_model = charts.frame(analytics_data.query("model_series", **filters))
    table = charts.frame(analytics_data.query("agent_table", **filters))
    users = pd.DataFrame(analytics_data.query("top_users", **filters, limit=10))
    latency = (
        charts.frame(analytics_data.query("latency_series", **filters))
        if analytics_data.has("latency_series")
        else None
    )
if not attempt.ok:
    st.stop()


def _delta(key: str) -> str | None:
    change = summary["change_pct"].get(key)
    return None if change is None else f"{change:+.1f}%"


cards = st.columns(6)
cards[0].metric("Executions", compact(summary["executions"] or 0), _delta("executions"))
cards[1].metric("Tokens", compact(summary["total_tokens"] or 0), _delta("total_tokens"))
cards[2].metric("Unique users", compact(summary["unique_users"] or 0), _delta("unique_users"))
cards[3].metric(
    "Avg time",
    f"{summary['avg_execution_ms']:,.0f} ms" if summary["avg_execution_ms"] else "—",
    _delta("avg_execution_ms"),
    delta_color="inverse",
)
cards[4].metric(
    "p95 time",
    f"{summary['p95_execution_ms']:,.0f} ms" if summary["p95_execution_ms"] else "—",
    _delta("p95_execution_ms"),
    delta_color="inverse",
)
cards[5].metric("Cost", f"${summary['cost_usd']:,.2f}", _delta("cost_usd"), delta_color="off")
if summary.get("unpriced_models"):
    st.caption("No price for: " + ", ".join(summary["unpriced_models"]) + " (counted as $0).")

days = pd.date_range(start, end, freq="D")
daily = charts.per_day(series, days)
if latency is None:  # exact without a per-day latency query: average weighted by executions
    latency = charts.weighted_latency(series, days, exact_p95=agent_id is not None)

left, right = st.columns(2)
left.plotly_chart(charts.executions_per_day(daily), width="stretch")
right.plotly_chart(charts.tokens_by_model(by_model), width="stretch")
with left:
    st.plotly_chart(charts.execution_time(latency), width="stretch")
    if "p95_execution_ms" not in latency:
        st.caption("Pick an agent to see its p95 per day; across agents the average is shown.")
right.plotly_chart(charts.cost_per_day(daily), width="stretch")

st.subheader("Per agent")
if table.empty:
    st.caption("No usage in this period.")
else:
    shown = table[
        [
            "agent_id",
            "agent_name",
            "executions",
            "views",
            "total_tokens",
            "unique_users",
            "avg_execution_ms",
            "p95_execution_ms",
            "cost_usd",
        ]
    ]
    st.dataframe(
        shown,
        hide_index=True,
        width="stretch",
        column_config={
            "agent_id": st.column_config.NumberColumn("ID", format="%d"),
            "agent_name": "Agent",
            "executions": st.column_config.NumberColumn("Executions", format="localized"),
            "views": st.column_config.NumberColumn("Views", format="localized"),
            "unique_users": st.column_config.NumberColumn("Users", format="localized"),
            "total_tokens": st.column_config.NumberColumn("Tokens", format="localized"),
            "avg_execution_ms": st.column_config.NumberColumn("Avg ms", format="%.0f"),
            "p95_execution_ms": st.column_config.NumberColumn("p95 ms", format="%.0f"),
            "cost_usd": st.column_config.NumberColumn("Cost", format="dollar"),
        },
    )
    st.download_button(
        "Download table (CSV)",
        analytics_data.table_csv(shown),
        file_name=f"agents_{start}_{end}.csv",
        mime="text/csv",
        icon=":material/download:",
    )

st.subheader("Top users")
if users.empty:
    st.caption("No users in this period.")
else:
    st.dataframe(
        users,
        hide_index=True,
        width="stretch",
        column_config={
            "user": "User",
            "events": st.column_config.NumberColumn("Events", format="localized"),
            "executions": st.column_config.NumberColumn("Executions", format="localized"),
            "total_tokens": st.column_config.NumberColumn("Tokens", format="localized"),
            "agents": st.column_config.NumberColumn(
                "Agents used", format="localized", help="Distinct agents this user touched"
            ),
            "last_seen": st.column_config.DatetimeColumn(
                "Last seen (UTC)", format="YYYY-MM-DD HH:mm"
            ),
        },
    )

if analytics_data.has("export_events"):
    st.subheader("Raw events")
    if st.button("Prepare raw events (CSV)", key="prepare_events"):
        with st.spinner("Exporting events…"):
            st.session_state["events_csv"] = analytics_data.events_csv(**filters)
    if st.session_state.get("events_csv"):
        st.download_button(
            "Download raw events (CSV)",
            st.session_state["events_csv"],
            file_name=f"events_{start}_{end}.csv",
            mime="text/csv",
            icon=":material/download:",
        )
