"""One agent: configuration, versions, status timeline, Jira link, comments and actions."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from core import auth, registry
from core.models import Source
from core.safe_markdown import code_span, escape_markdown, safe_markdown
from dashboard.db import reading, writing
from dashboard.feedback import notify_after_rerun, showing_errors
from dashboard.identity import CREATORS, CurrentUser

AGENT_KEY = "agent_id"
EDIT_KEY = "edit_agent_id"
STATUS_ICONS = {
    "draft": ":material/edit:",
    "pending": ":material/hourglass_top:",
    "approved": ":material/check_circle:",
    "rejected": ":material/cancel:",
    "production": ":material/rocket_launch:",
}
ACTIONS = {  # the actions this page offers, with their core call and past tense
    "submit": (registry.submit_agent, "submitted for approval"),
    "cancel": (registry.cancel_agent, "submission cancelled"),
    "deploy": (registry.deploy_agent, "deployed to production"),
}


def open_agent(agent_id: int) -> None:
    """Go to the Agents page showing this agent (the address, `/agents?agent=ID`, is shareable)."""
    st.switch_page("app_pages/agents.py", query_params={"agent": str(agent_id)})


def _load(agent_id: int, email: str) -> dict[str, Any]:
    with reading() as session:
        agent = registry.get_agent(session, agent_id=agent_id)
        viewer = auth.get_user(session, email=email)
        return {
            "status": registry.agent_status(session, agent_id=agent_id),
            "system_prompt": agent.system_prompt,
            "code": agent.code,
            "code_filename": agent.code_filename,
            "versions": [
                {
                    "version": v.version,
                    "status": v.status.value,
                    "submitted_by": v.submitted_by,
                    "submitted_at": v.submitted_at,
                    # approved_by holds whoever decided, approver or rejecter
                    "decided_by": v.approved_by or "",
                    "decided_at": v.approved_at,
                    "content_hash": v.content_hash,
                    "deployed_at": v.deployed_at,
                    "notes": v.notes or "",
                }
                for v in registry.list_versions(session, agent_id=agent_id)
            ],
            "actions": registry.allowed_actions(agent, viewer),
        }


def _jira_sync(sync: dict) -> None:
    """The Jira side's state (queued / sent / retrying until … / failed: reason)."""
    state = sync.get("state", "none")
    if state == "failed":
        st.error(f"Jira: {sync['detail']}")
    elif state == "retrying":
        st.warning(f"Jira: {sync['detail']}")
    elif state in ("queued", "sent"):
        st.caption(f"Jira: {sync['detail']}")


def render_agent_detail(agent_id: int, user: CurrentUser) -> None:
    with showing_errors() as attempt:
        data = _load(agent_id, user.email)
    if not attempt.ok:
        return
    info = data["status"]
    st.title(escape_markdown(info["name"]))
    st.markdown(
        f"{STATUS_ICONS.get(info['status'], '')} **{info['status']}** · version {info['version']}"
        + (f" · v{info['production_version']} in production" if info["production_version"] else "")
        + f" · owner {escape_markdown(info['owner'])} · model {code_span(info['model'])}"
    )
    st.caption(f"Content SHA-256 `{info['content_hash']}`")
    if info["jira_issue_url"]:
        st.link_button(f"Jira {info['jira_issue_key']}", info["jira_issue_url"])
    elif info["jira_issue_key"]:
        st.caption(f"Jira issue {info['jira_issue_key']}")
    if info.get("jira_issue_deleted"):
        st.warning(f"Jira issue {info['jira_issue_deleted']} was deleted in Jira", icon="🗑️")
    _jira_sync(info.get("jira_sync") or {})
    _actions(agent_id, user, data["actions"])

    config, versions, timeline, comments = st.tabs(
        ["Configuration", "Versions", "Status timeline", f"Comments ({len(info['comments'])})"]
    )
    with config:
        st.markdown(safe_markdown(info["description"]))
        st.markdown("**Tools:** " + (", ".join(code_span(t) for t in info["tools"]) or "none"))
        if data["system_prompt"]:
            st.markdown("**System prompt**")
            st.code(data["system_prompt"], language=None, wrap_lines=True)
        if data["code"]:
            st.markdown(f"**Code** {escape_markdown(data['code_filename'] or '')}")
            st.code(data["code"], language="python", line_numbers=True)
    with versions:
        if data["versions"]:
            _versions_table(data["versions"])
        else:
            st.caption("Not submitted yet: versions are frozen at each submission.")
    with timeline:
        for row in reversed(info["history"]):
            move = f"{row['from']} → {row['to']}" if row["from"] else row["to"]
            st.markdown(
                f"**{move}** · {escape_markdown(row['actor'])} via {row['source']} · {row['at'][:16].replace('T', ' ')} UTC"
                + (
                    f" · on content `{row['content_hash'][:12]}…`"
                    if row.get("content_hash")
                    else ""
                )
                + (f"\n\n{safe_markdown(row['comment'])}" if row["comment"] else "")
            )
    with comments:
        for comment in info["comments"]:
            with st.chat_message("user", avatar=":material/person:"):
                st.markdown(
                    f"**{escape_markdown(comment['author'])}** · {comment['at'][:16].replace('T', ' ')} UTC"
                )
                if comment.get("deleted_at"):
                    st.caption("Deleted in Jira")
                    st.markdown(
                        "\n\n".join(
                            f"~~{p.strip()}~~"
                            for p in safe_markdown(comment["body"]).split("\n\n")
                            if p.strip()
                        )
                    )
                else:
                    st.markdown(safe_markdown(comment["body"]))
        _comment_form(agent_id, user)


VERSION_COLUMNS = {
    "version": st.column_config.NumberColumn("Version", format="v%d"),
    "status": "Status",
    "submitted_by": "Submitted by",
    "submitted_at": st.column_config.DatetimeColumn("Submitted (UTC)", format="YYYY-MM-DD HH:mm"),
    "decided_by": "Decided by",
    "decided_at": st.column_config.DatetimeColumn("Decided (UTC)", format="YYYY-MM-DD HH:mm"),
    "deployed_at": st.column_config.DatetimeColumn("Deployed (UTC)", format="YYYY-MM-DD HH:mm"),
    "notes": "Notes",
}


def _versions_table(versions: list[dict[str, Any]]) -> None:
    table = pd.DataFrame(versions)[list(VERSION_COLUMNS)]
    for column in ("submitted_at", "decided_at", "deployed_at"):
        table[column] = pd.to_datetime(table[column], utc=True).dt.tz_localize(None)
    st.dataframe(table, hide_index=True, width="stretch", column_config=VERSION_COLUMNS)


def _actions(agent_id: int, user: CurrentUser, actions: dict[str, str | None]) -> None:
    can_act = any(actions[name] is None for name in ACTIONS)
    note_key = f"action_note_{agent_id}"
    note = st.text_input("Comment for the action (optional)", key=note_key) if can_act else ""
    columns = st.columns(4)
    edit_reason = actions["edit"]
    if not user.has_role(CREATORS):
        edit_reason = edit_reason or f"the {user.role.value} role cannot edit agents"
    if columns[0].button(
        "Edit", icon=":material/edit:", disabled=edit_reason is not None, key="act_edit"
    ):
        st.session_state[EDIT_KEY] = agent_id
        st.switch_page("app_pages/agent_form.py")
    for column, (name, (action, done)) in zip(columns[1:], ACTIONS.items(), strict=True):
        reason = actions[name]
        if column.button(name.title(), disabled=reason is not None, key=f"act_{name}"):
            with showing_errors() as attempt, writing() as session:
                kwargs = {"notes": note} if name == "submit" else {"comment": note}
                action(
                    session,
                    agent_id=agent_id,
                    actor_email=user.email,
                    source=Source.DASHBOARD,
                    **kwargs,
                )
            if attempt.ok:
                notify_after_rerun(f"Agent {agent_id} {done}.")
                st.session_state.pop(note_key, None)  # used up: a later action starts empty
                st.rerun()
    reasons = {n: r for n, r in actions.items() if r and n in ("edit", *ACTIONS)}
    if reasons:
        with st.expander("Why some actions are disabled"):
            for name, reason in reasons.items():
                st.caption(f"**{name}**: {reason}")


def _comment_form(agent_id: int, user: CurrentUser) -> None:
    with st.form(f"comment_{agent_id}", clear_on_submit=True):
        body = st.text_area("Add a comment", key=f"comment_body_{agent_id}")
        posted = st.form_submit_button("Post comment")
    if posted:
        with showing_errors() as attempt, writing() as session:
            registry.add_comment(
                session,
                agent_id=agent_id,
                actor_email=user.email,
                body=body,
                source=Source.DASHBOARD,
            )
        if attempt.ok:
            notify_after_rerun("Comment posted.")
            st.rerun()
