"""A developer's inbox: decisions and comments on their agents (Overview, count in the sidebar)."""

from __future__ import annotations

import streamlit as st

from core.models import Role
from core.registry import inbox
from core.safe_markdown import escape_markdown
from dashboard.agent_detail import open_agent
from dashboard.db import reading, writing
from dashboard.feedback import showing_errors
from dashboard.identity import CREATORS, CurrentUser

INBOX_LIMIT = 20


def sidebar_count(user: CurrentUser) -> None:
    """'Inbox: N new' under the user's name (agent owners only)."""
    if not user.has_role(CREATORS):
        return
    with reading() as session:
        unread = inbox.unread_count(session, email=user.email)
    if unread:
        st.page_link(
            "app_pages/overview.py",
            label=f"Inbox: {unread} new",
            icon=":material/inbox:",
        )
    else:
        st.caption(":material/inbox: Inbox: nothing new")


def render_inbox(user: CurrentUser) -> None:
    """The Overview's inbox section: newest first, new items marked; 'Mark all as read'."""
    if not user.has_role(CREATORS):
        return
    with reading() as session:
        box = inbox.inbox(session, email=user.email, limit=INBOX_LIMIT)
    if not box["items"] and user.role != Role.DEVELOPER:
        return  # approvers and admins without agents: no empty section on their Overview
    st.subheader(f"Inbox ({box['unread']} new)" if box["unread"] else "Inbox")
    if not box["items"]:
        st.caption("Decisions and comments on your agents will appear here.")
        return
    with st.container(border=True, key="inbox", height=420):  # scrolls; Overview stays short
        for index, item in enumerate(box["items"]):
            _item(item, index)
    if box["unread"] and st.button(
        "Mark all as read", icon=":material/done_all:", key="inbox_read"
    ):
        with showing_errors(), writing(clear_caches=False) as session:
            inbox.mark_read(session, email=user.email)
        st.rerun()


def _item(item: dict, index: int) -> None:
    when = item["at"][:16].replace("T", " ")
    new = " · **new**" if item["new"] else ""
    text, link = st.columns([6, 1], vertical_alignment="center")
    if item["kind"] == "status":
        move = f"{item['from']} → {item['to']}" if item["from"] else item["to"]
        headline = (
            f":material/gavel: **{escape_markdown(item['agent_name'])}** v{item['version']}: {move}"
        )
        reason_label = "Reason" if item["to"] == "rejected" else "Comment"
    else:
        headline = f":material/chat: **{escape_markdown(item['agent_name'])}**: new comment"
        reason_label = ""
    text.markdown(
        f"{headline}{new}  \n{escape_markdown(item['actor'])} via {item['source']} · {when} UTC"
    )
    if item["text"]:
        prefix = f"{reason_label}: " if reason_label else ""
        text.caption(prefix + escape_markdown(item["text"]))
    if link.button("Open", key=f"inbox_open_{index}"):
        open_agent(item["agent_id"])
