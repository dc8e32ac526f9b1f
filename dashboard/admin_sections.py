"""The Admin page's sections, each a few lines of I/O around core calls."""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from core import analytics, auth
from core.config import get_settings
from core.errors import ValidationError
from core.jira import check as jira_check
from core.jira import inbox as jira_inbox
from core.jira import outbox as jira_outbox
from core.models import Role, WebhookStatus
from dashboard.db import reading, writing
from dashboard.feedback import notify_after_rerun, showing_errors
from dashboard.identity import CurrentUser

ISSUED_TOKEN_KEY = "_issued_token"


def render_users(admin: CurrentUser) -> None:
    with reading() as session:
        users = [
            {
                "email": u.email,
                "name": u.name,
                "role": u.role.value,
                "active": u.is_active,
                "password": bool(u.password_hash),
            }
            for u in auth.list_users(session)
        ]
    st.dataframe(pd.DataFrame(users), hide_index=True, width="stretch")
    roles = [r.value for r in Role]
    left, right = st.columns(2)
    with left.container(border=True):
        st.markdown("**Change a role or access**")
        # Outside the form so the role and access below follow the picked user.
        email = st.selectbox("User", [u["email"] for u in users], key="role_user")
        picked = next((u for u in users if u["email"] == email), None)
        with st.form("user_role", border=False):
            role = st.selectbox(
                "Role",
                roles,
                index=roles.index(picked["role"]) if picked else 0,
                key=f"role_value_{email}",
            )
            active = st.checkbox(
                "Active", value=picked["active"] if picked else True, key=f"role_active_{email}"
            )
            changed = st.form_submit_button("Save")
    if changed:
        with showing_errors(left) as attempt, writing() as session:
            if email == admin.email and (role != Role.ADMIN.value or not active):
                raise ValidationError("you cannot demote or deactivate yourself")
            auth.set_active(session, email=email, active=active, actor_email=admin.email)
            if active:
                auth.set_role(session, email=email, role=role, actor_email=admin.email)
        if attempt.ok:
            notify_after_rerun(f"{email}: {role}, {'active' if active else 'deactivated'}.")
            st.rerun()
    with right.form("user_add", clear_on_submit=False):
        st.markdown("**Add a user**")
        new_email = st.text_input("Email", key="add_user_email")
        new_name = st.text_input("Name", key="add_user_name")
        new_role = st.selectbox("Role", roles, key="add_user_role")
        new_password = st.text_input(
            "Password (leave empty for single sign-on only)", type="password", key="add_user_pw"
        )
        added = st.form_submit_button("Add user")
    if added:
        with showing_errors(right) as attempt, writing() as session:
            auth.create_user(
                session,
                email=new_email,
                name=new_name,
                role=new_role,
                password=new_password or None,
                actor_email=admin.email,
            )
        if attempt.ok:
            notify_after_rerun(f"User {new_email} added.")
            st.rerun()


def render_tokens(admin: CurrentUser) -> None:
    issued = st.session_state.pop(ISSUED_TOKEN_KEY, None)
    if issued:
        st.success(f"Token “{issued[0]}” created. Copy it now: it is shown only once.")
        st.code(issued[1], language=None)
    with reading() as session:
        tokens = [
            {
                "id": t.id,
                "name": t.name,
                "prefix": t.prefix + "…",
                "created_at": t.created_at,
                "last_used_at": t.last_used_at,
                "revoked_at": t.revoked_at,
            }
            for t in auth.list_api_tokens(session)
        ]
    if tokens:
        st.dataframe(pd.DataFrame(tokens), hide_index=True, width="stretch")
    else:
        st.caption("No API tokens yet. Event ingest over HTTP needs one.")
    left, right = st.columns(2)
    with left.form("token_create"):
        name = st.text_input("Token name", placeholder="ingest from gateway", key="token_name")
        created = st.form_submit_button("Create token")
    if created:
        with showing_errors(left) as attempt, writing() as session:
            token = auth.create_api_token(session, name=name, created_by_email=admin.email)
        if attempt.ok:
            st.session_state[ISSUED_TOKEN_KEY] = (token.name, token.token)
            st.rerun()
    live = {t["id"]: f"#{t['id']} {t['name']}" for t in tokens if t["revoked_at"] is None}
    if not live:
        return
    with right.form("token_revoke"):
        token_id = st.selectbox("Token", list(live), format_func=live.get, key="token_revoke_id")
        revoked = st.form_submit_button("Revoke")
    if revoked and token_id is not None:
        with showing_errors(right) as attempt, writing() as session:
            auth.revoke_api_token(session, token_id=token_id, actor_email=admin.email)
        if attempt.ok:
            notify_after_rerun(f"Token {live[token_id]} revoked.")
            st.rerun()


def render_webhooks(admin: CurrentUser) -> None:
    left, right = st.columns([1, 1])
    status = left.selectbox(
        "Status",
        [None, *[s.value for s in WebhookStatus]],
        format_func=lambda s: s or "any",
        key="webhook_status",
    )
    limit = right.number_input(
        "Show", min_value=10, max_value=1000, value=50, step=10, key="webhook_limit"
    )
    with reading() as session:
        events = jira_inbox.list_events(
            session, status=WebhookStatus(status) if status else None, limit=int(limit)
        )
    if not events:
        st.caption("No webhook deliveries match.")
        return
    st.dataframe(pd.DataFrame(events), hide_index=True, width="stretch")
    with_errors = [e for e in events if e.get("error")]
    for event in with_errors[:20]:
        with st.expander(f"{event['delivery_id']} · {event['status']} · {event['event_type']}"):
            st.code(event["error"], language=None)
    with st.form("webhook_replay"):
        delivery = st.selectbox(
            "Delivery to replay", [e["delivery_id"] for e in events], key="replay_delivery"
        )
        replay = st.form_submit_button("Replay")
    if replay:
        with showing_errors() as attempt, writing() as session:
            row = jira_inbox.replay_delivery(session, ref=delivery, actor_email=admin.email)
        if attempt.ok:
            notify_after_rerun(f"Delivery {delivery} replayed: now {row['status']}.")
            st.rerun()
    if any(e["status"] == WebhookStatus.FAILED.value for e in events) and st.button(
        "Replay every failed delivery", key="replay_failed"
    ):
        with st.spinner("Replaying failed deliveries…"), showing_errors() as attempt:
            rows = jira_inbox.replay_failed_deliveries(actor_email=admin.email)
        st.cache_data.clear()
        if attempt.ok:
            notify_after_rerun(f"Replayed {len(rows)} failed deliveries.")
            st.rerun()


def render_prices(admin: CurrentUser) -> None:
    with reading() as session:
        prices = analytics.list_prices(session)
    st.caption("USD per 1,000 tokens, by model name or glob pattern (e.g. `gpt-4o*`).")
    if prices:
        st.dataframe(pd.DataFrame(prices), hide_index=True, width="stretch")
    left, right = st.columns(2)
    with left.form("price_set"):
        st.markdown("**Set a price**")
        pattern = st.text_input("Model or pattern", key="price_pattern")
        usd = st.text_input("USD per 1K tokens", placeholder="0.0025", key="price_usd")
        since = st.date_input("Effective from", value=None, key="price_since")
        saved = st.form_submit_button("Save price")
    if saved:
        with showing_errors(left) as attempt, writing() as session:
            analytics.set_price(
                session,
                model_pattern=pattern,
                usd_per_1k_tokens=usd,
                effective_from=since,
                actor_email=admin.email,
            )
        if attempt.ok:
            notify_after_rerun(f"Price for {pattern} saved; costs recomputed.")
            st.rerun()
    if not prices:
        return
    with right.form("price_delete"):
        st.markdown("**Delete a price**")
        choice = st.selectbox(
            "Price",
            prices,
            format_func=lambda p: f"{p['model_pattern']} from {p['effective_from']}",
            key="price_delete_choice",
        )
        deleted = st.form_submit_button("Delete price")
    if deleted and choice:
        with showing_errors(right) as attempt, writing() as session:
            analytics.delete_price(
                session,
                model_pattern=choice["model_pattern"],
                effective_from=date.fromisoformat(choice["effective_from"]),
                actor_email=admin.email,
            )
        if attempt.ok:
            notify_after_rerun(f"Price for {choice['model_pattern']} deleted.")
            st.rerun()


def render_jira_check() -> None:
    if not get_settings().jira_enabled:  # the normal local set-up, not a fault
        st.info(
            "Jira is not configured: approvals run locally (dashboard and CLI). Set "
            "`JIRA_BASE_URL`, `JIRA_EMAIL` and `JIRA_API_TOKEN` to send submissions to Jira.",
            icon=":material/info:",
        )
        return
    st.caption("Checks the credentials, project, issue type and workflow statuses in Jira.")
    if st.button("Check the Jira connection", key="jira_check"):
        with st.spinner("Asking Jira…"):
            report = jira_check.check_jira()
        for line in report.ok_lines:
            st.success(line)
        for line in report.warnings:
            st.warning(line)
        for line in report.problems:
            st.error(line)


def render_jira_outbox() -> None:
    """Calls owed to Jira (and deploy notices) not yet delivered, with a retry button."""
    show_sent = st.checkbox("Include delivered", value=False, key="outbox_all")
    with reading() as session:
        rows = jira_outbox.list_rows(session, include_sent=show_sent)
    if not rows:
        st.caption("Nothing waiting: every Jira call was delivered.")
        return
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    retryable = [r for r in rows if r["state"] != "sent"]
    if not retryable:
        return
    with st.form("outbox_retry"):
        row_id = st.selectbox(
            "Row to retry now",
            [r["id"] for r in retryable],
            format_func=lambda i: next(
                f"#{r['id']} {r['kind']} (agent {r['agent_id']}) · {r['state']}"
                for r in retryable
                if r["id"] == i
            ),
            key="outbox_row",
        )
        retry = st.form_submit_button("Retry")
    if retry:
        with showing_errors() as attempt, writing() as session:
            jira_outbox.retry_rows(session, row_id=row_id)
        if attempt.ok:
            notify_after_rerun(f"Outbox row {row_id} is due now; it is sent in the background.")
            st.rerun()
