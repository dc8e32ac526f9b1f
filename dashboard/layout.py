"""App-wide styling: narrow screens (cards wrap instead of truncating) and hidden helpers."""

from __future__ import annotations

import streamlit as st

# Streamlit's metric cards ellipsise a value wider than their column ("3…" at 800 px), and
# six columns of cards get narrow. Let a row of cards wrap onto more lines, and let a value
# wrap and shrink a little instead of being cut. Side-by-side charts go one per row when too
# narrow for their date labels.
CSS = """
<style>
[class*="st-key-session_cookie_"] { display: none; }
[data-testid="stHorizontalBlock"]:has(> [data-testid="stColumn"] [data-testid="stMetric"]) {
  flex-wrap: wrap;
  row-gap: 0.5rem;
}
[data-testid="stHorizontalBlock"] > [data-testid="stColumn"]:has([data-testid="stMetric"]) {
  min-width: 8.5rem;
}
[data-testid="stHorizontalBlock"]:has(> [data-testid="stColumn"] [data-testid="stPlotlyChart"]) {
  flex-wrap: wrap;
}
[data-testid="stHorizontalBlock"] > [data-testid="stColumn"]:has([data-testid="stPlotlyChart"]) {
  min-width: 20rem;
}
[data-testid="stMetricValue"] {
  font-size: clamp(1.35rem, 2.4vw, 2.25rem);
}
[data-testid="stMetricValue"] > div,
[data-testid="stMetricValue"] * {
  white-space: normal !important;
  overflow: visible !important;
  text-overflow: clip !important;
  overflow-wrap: anywhere;
}
</style>
"""


def apply_styles() -> None:
    st.html(CSS)
