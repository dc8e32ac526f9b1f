"""Analytics: usage over a date range with agent and model filters."""

import streamlit as st

from dashboard import analytics_data
from dashboard.identity import ALL_ROLES, require_role

require_role(ALL_ROLES)
st.title("Analytics")
if not analytics_data.available():
    st.info("Usage analytics are not configured yet.", icon=":material/info:")
    st.stop()
