"""Admin: users and roles, API tokens, webhook events, model prices, the Jira connection."""

import streamlit as st

from dashboard.admin_sections import (
    render_jira_check,
    render_jira_outbox,
    render_prices,
    render_tokens,
    render_users,
    render_webhooks,
)
from dashboard.feedback import show_pending_notice
from dashboard.identity import ADMINS, require_role

user = require_role(ADMINS)
show_pending_notice()
st.title("Admin")

users, tokens, webhooks, prices, jira = st.tabs(
    ["Users and roles", "API tokens", "Webhook events", "Model prices", "Jira"]
)
with users:
    render_users(user)
with tokens:
    render_tokens(user)
with webhooks:
    render_webhooks(user)
with prices:
    render_prices(user)
with jira:
    render_jira_check()
    st.subheader("Outbox")
    render_jira_outbox()
