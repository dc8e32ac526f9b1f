"""The Streamlit dashboard: thin pages over `core` (run with `streamlit run dashboard/app.py`)."""
