"""Analytics: usage over a date range with agent and model filters (all roles)."""

from datetime import date, timedelta

import pandas as pd
import streamlit as st

from core import registry, user_timezone
from core.models import utcnow
from dashboard import analytics_data, charts, url_state
from dashboard.db import reading, writing
from dashboard.feedback import showing_errors
from dashboard.formatting import compact, day_boundary
from dashboard.identity import ALL_ROLES, current_email, require_role

require_role(ALL_ROLES)
st.title("Analytics")

PERIODS = {"7 days": 7, "30 days": 30, "90 days": 90, "Custom": None}
today = utcnow().date()
with reading() as session:
    agents = {a.id: a.name for a in registry.list_agents(session)}
    stored_timezone = user_timezone.user_timezone(session, email=current_email())
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
models = analytics_data.model_choices(agent_id)  # a picked agent: only its models
if st.session_state.get("analytics_model") not in (None, *models):
    st.session_state["analytics_model"] = None
model_name = model_col.selectbox(
    "Model", [None, *models], format_func=lambda m: m or "All models", key="analytics_model"
)


def _save_timezone() -> None:
    with showing_errors(), writing(clear_caches=False) as session:
        user_timezone.set_user_timezone(
            session, email=current_email(), timezone=st.session_state["analytics_timezone"]
        )


st.session_state.setdefault("analytics_timezone", stored_timezone)
timezone = st.selectbox(
    "Time zone",
    user_timezone.timezone_names(),
    key="analytics_timezone",
    on_change=_save_timezone,
    help="Saved for your account. Days stay UTC days; times of day are shown in this zone.",
    width=320,
)
url_state.store("period", {v: k for k, v in PERIOD_PARAMS.items()}.get(period), "30d")
url_state.store("from", start if period == "Custom" else None)
url_state.store("to", end if period == "Custom" else None)
url_state.store("agent", agent_id)
url_state.store("model", model_name)
filters = analytics_data.range_kwargs(start, end, agent_id, model_name)
comparison = analytics_data.comparison(**filters)
length = (end - start).days + 1
st.caption(
    f"{start:%d %b %Y} – {end:%d %b %Y}, compared with the previous {length} days "
    f"({comparison.previous_start:%d %b} – {comparison.previous_end:%d %b %Y}). "
    + day_boundary(timezone, start, end)
)

with showing_errors() as attempt, st.spinner("Crunching usage…"):
    # One read for the whole page: today's live rows are computed once, not once per figure.
    page = analytics_data.query("analytics_page", **filters, limit=10)
    summary = page["summary"]
    series = charts.frame(page["daily_series"])
    by_model = charts.frame(page["model_series"])
    table = charts.frame(page["agent_table"])
    users = pd.DataFrame(page["top_users"])
    latency = charts.frame(page["latency_series"])
if not attempt.ok:
    st.stop()


def _card(column, label: str, value: str, key: str, *, color: str = "normal") -> None:  # noqa: ANN001
    """A figure with its change, or "—" and the reason (on hover) when the previous window
    does not hold data for its whole span."""
    change = summary["change_pct"].get(key)
    if not comparison.comparable:
        column.metric(
            label, value, "—", delta_color="off", delta_arrow="off", help=comparison.reason
        )
    elif change is None:
        column.metric(label, value)
    else:
        column.metric(label, value, f"{change:+.1f}%", delta_color=color)


cards = st.columns(6)
_card(cards[0], "Executions", compact(summary["executions"] or 0), "executions")
_card(cards[1], "Tokens", compact(summary["total_tokens"] or 0), "total_tokens")
_card(cards[2], "Unique users", compact(summary["unique_users"] or 0), "unique_users")
avg_ms, p95_ms = summary["avg_execution_ms"], summary["p95_execution_ms"]
_card(
    cards[3],
    "Avg time",
    f"{avg_ms:,.0f} ms" if avg_ms else "—",
    "avg_execution_ms",
    color="inverse",
)
_card(
    cards[4],
    "p95 time",
    f"{p95_ms:,.0f} ms" if p95_ms else "—",
    "p95_execution_ms",
    color="inverse",
)
_card(cards[5], "Cost", f"${summary['cost_usd']:,.2f}", "cost_usd", color="off")
if not comparison.comparable:
    st.caption(f"No change shown: {comparison.reason}.")
if summary.get("unpriced_models"):
    st.caption("No price for: " + ", ".join(summary["unpriced_models"]) + " (counted as $0).")

had_usage = any(summary.get(k) for k in ("executions", "views", "creations", "deletions"))
if not had_usage:
    agent_text = "all agents" if agent_id is None else f"agent #{agent_id} {agents[agent_id]}"
    model_text = "any model" if model_name is None else f"model {model_name}"
    st.info(
        f"No usage for {agent_text} with {model_text} between {start:%d %b %Y} and "
        f"{end:%d %b %Y}. Pick another agent, model or period.",
        icon=":material/info:",
    )
    st.stop()

window = charts.Window(start=start, end=end, today=today)
daily = charts.per_day(series, window.days)
if latency is None:  # exact without a per-day latency query: average weighted by executions
    latency = charts.weighted_latency(series, window.days, exact_p95=agent_id is not None)

left, right = st.columns(2)
left.plotly_chart(charts.executions_per_day(daily, window), width="stretch")
right.plotly_chart(charts.tokens_by_model(by_model, window), width="stretch")
with left:
    st.plotly_chart(charts.execution_time(latency, window), width="stretch")
    if agent_id is None and "avg_execution_ms" in latency:  # the weighted fallback above
        st.caption("Pick an agent to see its p95 per day; across agents the average is shown.")
right.plotly_chart(charts.cost_per_day(daily, window), width="stretch")
if window.partial_day is not None:
    st.caption(f"Today ({today:%d %b}, UTC) is still running: its shaded day is partial.")

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
            "avg_execution_ms": st.column_config.NumberColumn("Avg ms", format="%.1f"),
            "p95_execution_ms": st.column_config.NumberColumn("p95 ms", format="%.0f"),
            "cost_usd": st.column_config.NumberColumn("Cost", format="dollar"),
        },
    )
    st.download_button(
        "Download table (CSV)",
        analytics_data.table_csv(shown),
        file_name=analytics_data.file_name("agents", **filters),
        mime="text/csv",
        icon=":material/download:",
    )

st.subheader("Top users")
if users.empty:
    st.caption("No users in this period.")
else:
    users["last_seen"] = pd.to_datetime(users["last_seen"], utc=True).dt.tz_convert(timezone)
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
                f"Last seen ({timezone})", format="YYYY-MM-DD HH:mm"
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
            file_name=analytics_data.file_name("events", **filters),
            mime="text/csv",
            icon=":material/download:",
        )
