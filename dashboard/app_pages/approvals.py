"""Approvals: the pending queue, and the review screen of one submission (`?agent=ID`)."""

import streamlit as st

from core import auth, registry
from core.models import AgentStatus
from core.safe_markdown import escape_markdown, safe_markdown
from dashboard.db import reading
from dashboard.feedback import show_pending_notice
from dashboard.identity import DECIDERS, require_role
from dashboard.review_view import decision_form, open_review, render_review

user = require_role(DECIDERS)
show_pending_notice()

target = st.query_params.get("agent", "")
if target.isdigit():
    render_review(int(target), user)
    st.stop()

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
            f"by {escape_markdown(item['owner'])} · model {escape_markdown(item['model'])} · tools "
            f"{escape_markdown(', '.join(item['tools'])) or 'none'} · updated "
            f"{item['updated_at'][:16].replace('T', ' ')} UTC"
        )
        st.markdown(safe_markdown(item["description"]))
        if st.button(
            "Review prompt, code and changes", icon=":material/difference:", key=f"open_{agent_id}"
        ):
            open_review(agent_id)
        decision_form(agent_id, user, refusal=item["refusal"], owner=item["owner"], prefix="queue")
