"""Approvals: the pending queue; approve or reject with a comment (not your own agents)."""

import streamlit as st

from core import auth, registry
from core.models import AgentStatus, Source
from core.safe_markdown import escape_markdown, safe_markdown
from dashboard.agent_detail import open_agent
from dashboard.db import reading, writing
from dashboard.feedback import notify_after_rerun, show_pending_notice, showing_errors
from dashboard.identity import DECIDERS, require_role

user = require_role(DECIDERS)
show_pending_notice()
st.title("Approvals")

with reading() as session:
    viewer = auth.get_user(session, email=user.email)
    queue = [
        registry.agent_summary(agent)
        | {"refusal": registry.allowed_actions(agent, viewer)["approve"]}
        for agent in registry.list_agents(session, statuses=[AgentStatus.PENDING])
    ]

if not queue:
    st.success("Nothing waiting: every submission has been decided.", icon=":material/done_all:")
    st.stop()
st.caption(f"{len(queue)} submission(s) waiting, most recent first.")

for item in queue:
    agent_id = item["id"]
    with st.container(border=True, key=f"approval_{agent_id}"):
        st.subheader(f"#{agent_id} {escape_markdown(item['name'])} · v{item['version']}")
        st.caption(
            f"by {escape_markdown(item['owner'])} · model {escape_markdown(item['model'])} · updated {item['updated_at'][:16].replace('T', ' ')} UTC"
        )
        st.markdown(safe_markdown(item["description"]))
        if st.button("Open agent", key=f"open_{agent_id}"):
            open_agent(agent_id)
        if item["owner"] == user.email:
            st.info("Your own agent: not yours to decide. Another approver must.")
            continue
        if item["refusal"]:
            st.warning(item["refusal"])
            continue
        with st.form(f"decide_{agent_id}"):
            comment = st.text_input("Comment", key=f"decision_comment_{agent_id}")
            approve_col, reject_col = st.columns(2)
            approve = approve_col.form_submit_button("Approve", type="primary")
            reject = reject_col.form_submit_button("Reject")
        if approve or reject:
            decide = registry.approve_agent if approve else registry.reject_agent
            with showing_errors() as attempt, writing() as session:
                decide(
                    session,
                    agent_id=agent_id,
                    actor_email=user.email,
                    source=Source.DASHBOARD,
                    comment=comment,
                )
            if attempt.ok:
                verb = "approved" if approve else "rejected"
                notify_after_rerun(f"Agent {agent_id} {verb}.")
                st.rerun()
