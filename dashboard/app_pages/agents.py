"""Agents: a filterable list, and the detail of the chosen agent."""

import pandas as pd
import streamlit as st

from core import registry
from core.models import AgentStatus
from dashboard.agent_detail import render_agent_detail
from dashboard.db import reading
from dashboard.feedback import show_pending_notice
from dashboard.identity import ALL_ROLES, require_role
from dashboard.review_view import review_button

user = require_role(ALL_ROLES)
show_pending_notice()

# The open agent lives in the address (`/agents?agent=41`): reload, bookmark and share keep it.
deep_link = st.query_params.get("agent", "")
if deep_link.isdigit():
    back, review = st.columns([1, 1])
    if back.button("All agents", icon=":material/arrow_back:", key="back_to_list"):
        del st.query_params["agent"]
        st.rerun()
    with review:
        review_button(int(deep_link), user)
    render_agent_detail(int(deep_link), user)
    st.stop()

st.title("Agents")
left, middle, right = st.columns([2, 2, 2])
statuses = left.multiselect("Status", [s.value for s in AgentStatus], key="agents_status")
owner = middle.text_input("Owner email", key="agents_owner")
name = right.text_input("Name contains", key="agents_text")

with reading() as session:
    agents = [
        registry.agent_summary(a)
        for a in registry.list_agents(
            session, statuses=statuses or None, owner_email=owner or None, text=name or None
        )
    ]

if not agents:
    st.info("No agents match these filters." if statuses or owner or name else "No agents yet.")
    st.stop()

table = pd.DataFrame(agents)[["id", "name", "status", "version", "owner", "model", "updated_at"]]
table["updated_at"] = pd.to_datetime(table["updated_at"])
st.dataframe(
    table,
    hide_index=True,
    width="stretch",
    column_config={
        "id": st.column_config.NumberColumn("ID", format="%d"),
        "updated_at": st.column_config.DatetimeColumn("Updated (UTC)", format="YYYY-MM-DD HH:mm"),
    },
)
st.caption(f"{len(agents)} agent(s)")

names = {a["id"]: f"#{a['id']} {a['name']} ({a['status']})" for a in agents}


def _open_chosen() -> None:
    chosen = st.session_state.pop("agents_open_choice", None)
    if chosen is not None:
        st.query_params["agent"] = str(chosen)


st.selectbox(
    "Open an agent",
    list(names),
    format_func=names.get,
    index=None,
    placeholder="Choose an agent to see its details",
    key="agents_open_choice",
    on_change=_open_chosen,
)
