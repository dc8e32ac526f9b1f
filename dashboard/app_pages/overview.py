"""Overview: agents by status, approvals waiting, today's usage, recent activity."""

import pandas as pd
import streamlit as st

from core import registry
from dashboard import analytics_data
from dashboard.db import reading
from dashboard.formatting import compact
from dashboard.identity import ALL_ROLES, require_role
from dashboard.inbox_view import render_inbox

user = require_role(ALL_ROLES)
st.title("Overview")
render_inbox(user)

with reading() as session:
    counts = registry.count_by_status(session)
    activity = registry.recent_activity(session, limit=15)

st.subheader("Agents by status")
columns = st.columns(len(counts) + 1)
columns[0].metric("All agents", sum(counts.values()))
for column, (status, count) in zip(columns[1:], counts.items(), strict=True):
    column.metric(status.title(), count)
if counts["pending"]:
    st.info(f"{counts['pending']} approval(s) waiting for a decision.", icon=":material/pending:")

st.subheader("Today")
today = analytics_data.today_summary()
a, b, c, d = st.columns(4)
a.metric("Executions today", compact(today["executions"] or 0))
b.metric("Tokens today", compact(today["total_tokens"] or 0))
c.metric("Cost today", f"${today['cost_usd']:,.2f}")
d.metric("Users today", compact(today["unique_users"] or 0))

st.subheader("Recent activity")
if not activity:
    st.caption("Nothing has happened yet: create an agent to get started.")
else:
    # The long text last: it takes the spare width, and "Via" is never cut off.
    table = pd.DataFrame(activity)[["at", "agent_name", "kind", "actor", "source", "text"]]
    table["at"] = pd.to_datetime(table["at"])
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        column_config={
            "at": st.column_config.DatetimeColumn("When (UTC)", format="YYYY-MM-DD HH:mm"),
            "agent_name": st.column_config.TextColumn("Agent", width="medium"),
            "kind": st.column_config.TextColumn("Kind", width="small"),
            "text": st.column_config.TextColumn("What happened"),
            "actor": st.column_config.TextColumn("Who", width="medium"),
            "source": st.column_config.TextColumn("Via", width="small"),
        },
    )
