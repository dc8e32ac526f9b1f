"""Demo data for `python -m core seed-demo`."""
