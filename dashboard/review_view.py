"""The review screen (Approvals → Review, `/approvals?agent=ID`) and the decision form.

Everything under review on one page, the diff against the last approved version (or the
previous submission) side by side, and Approve / Reject (a rejection needs a reason).
"""

from __future__ import annotations

import html
from typing import Any

import streamlit as st

from core import auth, registry
from core.errors import DomainError
from core.models import Source
from core.registry import review
from core.safe_markdown import escape_markdown, safe_markdown
from dashboard.db import reading, writing
from dashboard.feedback import notify_after_rerun, showing_errors
from dashboard.identity import DECIDERS, CurrentUser

REVIEW_PAGE = "app_pages/approvals.py"
CODE_LANGUAGES = {
    ".py": "python",
    ".js": "javascript",
    ".ts": "typescript",
    ".json": "json",
    ".yaml": "yaml",
    ".yml": "yaml",
}
DIFF_CSS = """
<style>
table.ar-diff { width: 100%; border-collapse: collapse; table-layout: fixed;
  font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 0.8rem; }
table.ar-diff td { vertical-align: top; padding: 0 0.4rem; white-space: pre-wrap;
  overflow-wrap: anywhere; border-bottom: 1px solid #eef0f5; }
table.ar-diff col.no { width: 2.8rem; }
table.ar-diff td.no { color: #8a91a5; text-align: right; user-select: none; }
table.ar-diff th { text-align: left; padding: 0.2rem 0.4rem; background: #f3f5fa; }
table.ar-diff tr.changed td.old, table.ar-diff tr.removed td.old { background: #ffecec; }
table.ar-diff tr.changed td.new, table.ar-diff tr.added td.new { background: #e6ffec; }
</style>
"""


def open_review(agent_id: int) -> None:
    st.switch_page(REVIEW_PAGE, query_params={"agent": str(agent_id)})


def review_button(agent_id: int, user: CurrentUser) -> None:
    """On an agent's page: 'Review and decide' for approvers while a version is pending."""
    if not user.has_role(DECIDERS):
        return
    try:
        with reading() as session:
            pending = registry.get_agent(session, agent_id=agent_id).status.value == "pending"
    except DomainError:  # an unknown agent: the detail below says so
        return
    if pending and st.button("Review and decide", icon=":material/fact_check:", key="to_review"):
        open_review(agent_id)


def render_review(agent_id: int, user: CurrentUser) -> None:
    if st.button("Back to the queue", icon=":material/arrow_back:", key="back_to_queue"):
        del st.query_params["agent"]
        st.rerun()
    with showing_errors() as attempt, reading() as session:
        data = review.review(session, agent_id=agent_id)
        viewer = auth.get_user(session, email=user.email)
        refusal = registry.allowed_actions(registry.get_agent(session, agent_id=agent_id), viewer)[
            "approve"
        ]
    if not attempt.ok:
        return
    agent, version = data["agent"], data["version"]
    st.title(f"Review: {escape_markdown(version['name'])} v{version['version']}")
    st.markdown(
        f"**{agent['status']}** · submitted by {escape_markdown(version['submitted_by'] or '')} · "
        f"{_when(version['submitted_at'])} · owner {escape_markdown(agent['owner'])}"
    )
    _jira_line(data["jira"])
    if version["content_hash"]:
        st.caption(f"Content hash (SHA-256): `{version['content_hash']}`")
    if agent["status"] == "pending" and agent["version"] == version["version"]:
        decision_form(agent_id, user, refusal=refusal, owner=agent["owner"], prefix="review")
    else:
        st.info(f"This version is {version['status']}: there is nothing to decide.")

    current, changes = st.tabs(["What is submitted", _changes_title(data)])
    with current:
        _submitted(version)
    with changes:
        _changes(data)


def _when(iso: str | None) -> str:
    return f"{iso[:16].replace('T', ' ')} UTC" if iso else "—"


def _jira_line(jira: dict[str, Any]) -> None:
    if not jira["key"]:
        st.caption("No Jira issue (local approval).")
        return
    state = (
        f" · Jira status **{escape_markdown(jira['state'])}**"
        if jira["state"]
        else " · Jira status not reported yet"
    )
    link = f"[{jira['key']}]({jira['url']})" if jira["url"] else f"`{jira['key']}`"
    st.markdown(f"Jira issue {link}{state}")


def _submitted(version: dict[str, Any]) -> None:
    st.markdown("**Description**")
    st.markdown(safe_markdown(version["description"]))
    model, tools = st.columns(2)
    model.markdown(f"**Model and settings**  \n`{version['model']}`")
    tools.markdown("**Tools**  \n" + (", ".join(f"`{t}`" for t in version["tools"]) or "none"))
    st.markdown("**System prompt**")
    if version["system_prompt"]:
        st.code(version["system_prompt"], language=None, wrap_lines=True)
    else:
        st.caption("none")
    st.markdown(f"**Code** {escape_markdown(version['code_filename'] or '')}")
    if version["code"]:
        st.code(version["code"], language=_language(version["code_filename"]), line_numbers=True)
    else:
        st.caption("none")
    st.markdown("**Submission notes**")
    st.markdown(safe_markdown(version["notes"]) if version["notes"] else "—")


def _language(filename: str | None) -> str:
    suffix = "." + filename.rsplit(".", 1)[-1].lower() if filename and "." in filename else ".py"
    return CODE_LANGUAGES.get(suffix, "python")


def _changes_title(data: dict[str, Any]) -> str:
    if data["baseline"] is None:
        return "Changes (first submission)"
    changed = sum(1 for c in data["changes"] if c["changed"])
    return f"Changes since v{data['baseline']['version']} ({changed} field(s))"


def _changes(data: dict[str, Any]) -> None:
    baseline = data["baseline"]
    if baseline is None:
        st.info("First submission: there is no earlier version to compare with.")
        return
    st.caption(
        f"Compared with v{baseline['version']}, the {data['baseline_reason']} "
        f"({baseline['status']}, decided by {baseline['decided_by'] or '—'})."
    )
    changed = [c for c in data["changes"] if c["changed"]]
    if not changed:
        st.success("No change in any reviewed field.")
        return
    st.html(DIFF_CSS)
    for change in changed:
        st.markdown(f"**{change['label']}**")
        st.html(diff_table(change["rows"], baseline["version"], data["version"]["version"]))
    unchanged = [c["label"] for c in data["changes"] if not c["changed"]]
    if unchanged:
        st.caption("Unchanged: " + ", ".join(unchanged))


def diff_table(rows: list[dict[str, Any]], old: int, new: int) -> str:
    """A side-by-side HTML table; every text is escaped (it is user content)."""
    lines = [
        '<table class="ar-diff"><colgroup><col class="no"><col><col class="no"><col></colgroup>'
        f'<tr><th colspan="2">v{old}</th><th colspan="2">v{new}</th></tr>'
    ]
    for row in rows:
        lines.append(
            f'<tr class="{row["kind"]}">'
            f'<td class="no">{row["left_no"] or ""}</td><td class="old">{html.escape(row["left"])}</td>'
            f'<td class="no">{row["right_no"] or ""}</td><td class="new">{html.escape(row["right"])}</td>'
            "</tr>"
        )
    lines.append("</table>")
    return "".join(lines)


def decision_form(
    agent_id: int, user: CurrentUser, *, refusal: str | None, owner: str, prefix: str
) -> None:
    """Approve / Reject with a comment; a rejection needs one (the developer sees it)."""
    if owner == user.email:
        st.info("Your own agent: not yours to decide. Another approver must.")
        return
    if refusal:
        st.warning(refusal)
        return
    with st.form(f"decide_{prefix}_{agent_id}", border=True):
        comment = st.text_input(
            "Comment",
            key=f"decision_comment_{prefix}_{agent_id}",
            help="Required to reject: tell the developer what to change.",
            placeholder="Why you approve or reject (required to reject)",
        )
        approve_col, reject_col = st.columns(2)
        approve = approve_col.form_submit_button("Approve", type="primary", icon=":material/check:")
        reject = reject_col.form_submit_button("Reject", icon=":material/close:")
    if not (approve or reject):
        return
    with showing_errors() as attempt, writing() as session:
        if approve:
            registry.approve_agent(
                session,
                agent_id=agent_id,
                actor_email=user.email,
                source=Source.DASHBOARD,
                comment=comment,
            )
        else:
            review.reject_with_reason(
                session,
                agent_id=agent_id,
                actor_email=user.email,
                source=Source.DASHBOARD,
                reason=comment,
            )
    if attempt.ok:
        notify_after_rerun(f"Agent {agent_id} {'approved' if approve else 'rejected'}.")
        st.query_params.pop("agent", None)  # back to the queue
        st.rerun()
