"""Search agents by meaning, and find agents similar to any result."""

import pandas as pd
import streamlit as st

from core.models import AgentStatus
from core.safe_markdown import escape_markdown, safe_markdown
from dashboard import search_data
from dashboard.agent_detail import open_agent
from dashboard.feedback import showing_errors
from dashboard.identity import ALL_ROLES, require_role

require_role(ALL_ROLES)
st.title("Search")

if not search_data.available():
    st.info("Semantic search is not configured yet.", icon=":material/info:")
    st.stop()

RELEVANCE_BADGE = {"strong": "green", "good": "blue", "weak": "orange", "none": "gray"}
no_match = search_data.no_match_threshold()

with st.form("search"):
    query = st.text_input("What should the agent do?", placeholder="summarise support tickets")
    left, middle, right = st.columns(3)
    threshold = left.slider(
        "Minimum similarity",
        0.0,
        1.0,
        no_match,
        0.01,
        help=f"Below {no_match:.2f} a result is no good match (calibrated, see docs/search.md).",
    )
    limit = middle.number_input("Limit", min_value=1, max_value=100, value=10)
    statuses = right.multiselect(
        "Status",
        [s.value for s in AgentStatus],
        default=search_data.DEFAULT_STATUSES,
        help="Approved and production agents by default; add draft, pending or rejected to "
        "see those too, or clear the filter for every status.",
    )
    searched = st.form_submit_button("Search", type="primary", icon=":material/search:")

if searched:
    st.session_state["search_args"] = (query, threshold, int(limit), tuple(statuses))
    st.session_state.pop("similar_to", None)

args = st.session_state.get("search_args")
if args and args[0].strip():
    with showing_errors() as attempt:
        results = search_data.search(
            query=args[0], min_similarity=args[1], limit=args[2], statuses=list(args[3])
        )
    if attempt.ok and not results:
        st.info(
            f"No good match for “{args[0]}”. Rephrase, lower the minimum similarity, "
            "or add other statuses."
        )
    elif attempt.ok:
        shown = ", ".join(args[3]) if args[3] else "all"
        st.caption(f"{len(results)} result(s) for “{args[0]}” · status: {shown}")
        for item in results:
            with st.container(border=True):
                title, score = st.columns([4, 1])
                title.markdown(
                    f"**#{item['id']} {escape_markdown(item['name'])}** · {item['status']}"
                )
                title.caption(f"owner {item.get('owner', '—')}")
                score.metric("Similarity", f"{item['similarity']:.2f}")
                relevance = item.get("relevance", "weak")
                score.badge(f"{relevance} match", color=RELEVANCE_BADGE.get(relevance, "gray"))
                if item.get("description"):
                    st.caption(safe_markdown(item["description"][:300]))
                open_col, similar_col = st.columns([1, 1])
                if open_col.button("Open", key=f"search_open_{item['id']}"):
                    open_agent(item["id"])
                if similar_col.button("Similar agents", key=f"similar_{item['id']}"):
                    st.session_state["similar_to"] = item["id"]
elif searched:
    st.warning("Type what you are looking for first.")

similar_to = st.session_state.get("similar_to")
if similar_to:
    st.subheader(f"Agents similar to #{similar_to}")
    with showing_errors():
        similar = search_data.similar(agent_id=similar_to, limit=5)
        if similar:
            st.dataframe(
                pd.DataFrame(similar)[["id", "name", "status", "similarity"]],
                hide_index=True,
                width="stretch",
            )
        else:
            st.caption("No similar agents.")
