"""Plotly figures for the Analytics page, built from core.analytics query rows."""

from __future__ import annotations

from typing import Any

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

LAYOUT = {
    "margin": {"l": 10, "r": 10, "t": 40, "b": 10},
    "height": 320,
    "legend": {"orientation": "h", "y": -0.2},
    "hovermode": "x unified",
    # Horizontal day labels, few enough not to overlap in a half-width chart at 800 px.
    "xaxis": {"tickformat": "%d %b", "nticks": 6, "tickangle": 0, "automargin": True},
}


def frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    table = pd.DataFrame(rows)
    if "cost_usd" in table:
        table["cost_usd"] = table["cost_usd"].astype(float)
    if "date" in table:
        table["date"] = pd.to_datetime(table["date"])
    return table


def per_day(series: pd.DataFrame, days: pd.DatetimeIndex) -> pd.DataFrame:
    """Totals per day over every agent, with the days that had no events as zero."""
    columns = ["executions", "total_tokens", "cost_usd"]
    if series.empty:
        totals = pd.DataFrame(0, index=days, columns=columns)
    else:
        totals = series.groupby("date")[columns].sum().reindex(days, fill_value=0)
    totals.index.name = "date"
    return totals.reset_index()


def executions_per_day(daily: pd.DataFrame) -> go.Figure:
    figure = px.bar(daily, x="date", y="executions", title="Executions per day")
    return figure.update_layout(**LAYOUT, xaxis_title=None, yaxis_title="executions")


def tokens_by_model(models: pd.DataFrame) -> go.Figure:
    if models.empty:
        models = pd.DataFrame({"date": [], "total_tokens": [], "model_name": []})
    figure = px.bar(
        models, x="date", y="total_tokens", color="model_name", title="Tokens per day by model"
    )
    return figure.update_layout(**LAYOUT, xaxis_title=None, yaxis_title="tokens")


def execution_time(latency: pd.DataFrame) -> go.Figure:
    """p50/p95 (or average/p95) execution time per day, one line each."""
    if "date" not in latency:  # no executions in the range: an empty chart, not an error
        latency = pd.DataFrame({"date": [], "p50_execution_ms": [], "p95_execution_ms": []})
    value_columns = [
        c for c in ("p50_execution_ms", "avg_execution_ms", "p95_execution_ms") if c in latency
    ]
    long = latency.melt(id_vars="date", value_vars=value_columns, var_name="measure")
    long["measure"] = long["measure"].str.replace("_execution_ms", "")
    figure = px.line(
        long, x="date", y="value", color="measure", markers=True, title="Execution time per day"
    )
    return figure.update_layout(**LAYOUT, xaxis_title=None, yaxis_title="ms")


def cost_per_day(daily: pd.DataFrame) -> go.Figure:
    figure = px.area(daily, x="date", y="cost_usd", title="Cost per day (USD)")
    return figure.update_layout(**LAYOUT, xaxis_title=None, yaxis_title="USD")


def weighted_latency(
    series: pd.DataFrame, days: pd.DatetimeIndex, *, exact_p95: bool
) -> pd.DataFrame:
    """Average execution time per day weighted by executions (exact), and p95 when the rows
    are a single agent's (a p95 over several agents cannot be derived from theirs)."""
    out = pd.DataFrame({"date": days})
    if series.empty:
        out["avg_execution_ms"] = None
        return out
    rows = series[series["executions"] > 0].copy()
    rows["weighted"] = rows["avg_execution_ms"] * rows["executions"]
    grouped = rows.groupby("date")[["weighted", "executions"]].sum()
    avg = (grouped["weighted"] / grouped["executions"]).rename("avg_execution_ms")
    out = out.merge(avg, left_on="date", right_index=True, how="left")
    if exact_p95:
        p95 = rows.groupby("date")["p95_execution_ms"].max()
        out = out.merge(p95, left_on="date", right_index=True, how="left")
    return out
