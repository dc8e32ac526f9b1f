"""Plotly figures for the Analytics page, built from core.analytics query rows.

Every chart spans the same days (`Window`: the x axis is set to the selected range, so
side-by-side charts start and end on the same date whatever days hold data), and the current
day, still running, is shaded and labelled "today (partial)".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

LAYOUT = {
    "margin": {"l": 10, "r": 10, "t": 40, "b": 10},
    "height": 320,
    "legend": {"orientation": "h", "y": -0.2},
    "hovermode": "x unified",
}
# Horizontal day labels, few enough not to overlap in a half-width chart at 800 px.
X_AXIS = {"type": "date", "tickformat": "%d %b", "nticks": 6, "tickangle": 0, "automargin": True}
PARTIAL_DAY_LABEL = "today (partial)"
LATENCY_NAMES = {"p50": "median (p50)", "avg": "average", "p95": "p95"}
HALF_DAY = pd.Timedelta(hours=12)


@dataclass(frozen=True)
class Window:
    """The days every chart shows (inclusive) and the current, partial day when inside them."""

    start: date
    end: date
    today: date

    @property
    def days(self) -> pd.DatetimeIndex:
        return pd.date_range(self.start, self.end, freq="D")

    @property
    def x_range(self) -> list[str]:
        """Half a day either side: the first and last day's bars are whole."""
        first = pd.Timestamp(self.start) - HALF_DAY
        last = pd.Timestamp(self.end) + HALF_DAY
        return [first.isoformat(), last.isoformat()]

    @property
    def partial_day(self) -> date | None:
        return self.today if self.start <= self.today <= self.end else None


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


def _finish(figure: go.Figure, window: Window, y_title: str) -> go.Figure:
    figure.update_layout(**LAYOUT, yaxis_title=y_title)
    figure.update_xaxes(**X_AXIS, title=None, range=window.x_range)
    partial = window.partial_day
    if partial is not None:
        figure.add_vrect(
            x0=(pd.Timestamp(partial) - HALF_DAY).isoformat(),
            x1=(pd.Timestamp(partial) + HALF_DAY).isoformat(),
            fillcolor="gray",
            opacity=0.15,
            line_width=0,
            annotation_text=PARTIAL_DAY_LABEL,
            annotation_position="top right",
            annotation_font_size=10,
        )
    return figure


def executions_per_day(daily: pd.DataFrame, window: Window) -> go.Figure:
    figure = px.bar(
        daily, x="date", y="executions", title="Executions per day", labels={"date": "Day"}
    )
    return _finish(figure, window, "executions")


def tokens_by_model(models: pd.DataFrame, window: Window) -> go.Figure:
    if models.empty:
        models = pd.DataFrame({"date": [], "total_tokens": [], "model_name": []})
    figure = px.bar(
        models,
        x="date",
        y="total_tokens",
        color="model_name",
        title="Tokens per day by model",
        labels={"model_name": "Model", "total_tokens": "Tokens", "date": "Day"},
    )
    return _finish(figure, window, "tokens")


def execution_time(latency: pd.DataFrame, window: Window) -> go.Figure:
    """p50/p95 (or average/p95) execution time per day, one line each."""
    if "date" not in latency:  # no executions in the range
        latency = pd.DataFrame({"date": [], "p50_execution_ms": [], "p95_execution_ms": []})
    value_columns = [
        c for c in ("p50_execution_ms", "avg_execution_ms", "p95_execution_ms") if c in latency
    ]
    long = latency.melt(id_vars="date", value_vars=value_columns, var_name="statistic")
    long["statistic"] = long["statistic"].str.replace("_execution_ms", "").map(LATENCY_NAMES)
    figure = px.line(
        long,
        x="date",
        y="value",
        color="statistic",
        markers=True,
        title="Execution time per day",
        labels={"statistic": "Execution time", "value": "ms", "date": "Day"},
    )
    return _finish(figure, window, "ms")


def cost_per_day(daily: pd.DataFrame, window: Window) -> go.Figure:
    figure = px.area(
        daily, x="date", y="cost_usd", title="Cost per day (USD)", labels={"cost_usd": "USD"}
    )
    return _finish(figure, window, "USD")


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
