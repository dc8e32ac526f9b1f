"""The live days' part of a range's figures (today, later days and days queued for the
rollup) in few statements, with little crossing the wire — what `summary` adds to the rollups.

- `live_totals`: counts, tokens, times and cost of the live days in one statement per run of
  days: grouped by (day, agent, model) — the cost is rounded per (day, agent, model), as the
  rollup rounds it — then by (day, model) in the same statement, the agents' tokens as a JSON
  array: a dozen rows a day cross the wire instead of one per (day, agent, model).
- `users_and_top`: the live days' distinct users (as day_sets stores them: MariaDB collation
  keys) and their top k execution times from one pass per run of days over the covering
  index, each aggregated in the database into one JSON array (PyMySQL decodes rows in
  Python: two strings cost far less than thousands of rows; a DISTINCT or an ORDER BY … LIMIT
  cost MariaDB 3-5x the pass). Where MariaDB cuts an array short (group_concat_max_len, 1 MiB
  by default: ~10k events a day with 20-character users) the statement runs again with the
  limit raised (`array_rows`).

Dates are UTC days; results are exact and the same on every backend.
"""

from __future__ import annotations

import heapq
import json
from contextlib import nullcontext
from datetime import date
from typing import Any

from sqlalchemy import Select, Text, case, cast, func, literal_column, select
from sqlalchemy.orm import Session

from core.analytics import day_sets  # a module: day_sets calls users_and_top
from core.analytics.compute import DailyRows, U, day_runs, range_filter
from core.analytics.prices import PriceBook, cost_micro, micro_to_usd
from core.analytics.sql import as_date, day_of, dialect_name, in_memory_grouping

KINDS = (("executed", "executions"), ("viewed", "views"), ("created", "creations"),
         ("deleted", "deletions"))  # fmt: skip
SUMMED = [label for _, label in KINDS]


def _totals_statement(session: Session, start: date, stop: date, agent_id: int | None):
    """Per (day, model): each kind's count, the executions' time, and their tokens per agent as
    a JSON array (the cost is rounded per (day, agent, model), as the rollup stores it) —
    a dozen rows a day instead of one per (day, agent, model)."""
    day = day_of(session, U.created_at)
    model = func.coalesce(U.model_name, "")
    executed = U.event_type == "executed"
    inner = (
        select(
            day.label("day"),
            model.label("model_name"),
            *(
                func.sum(case((U.event_type == kind, 1), else_=0)).label(label)
                for kind, label in KINDS
            ),
            func.sum(case((executed, U.tokens_used), else_=0)).label("tokens"),
            func.sum(case((executed, U.execution_time_ms), else_=0)).label("ms"),
        )
        .where(*range_filter(start, stop, agent_id))
        .group_by(day, U.agent_id, model)
        .subquery("per_agent")
    )
    c = inner.c
    return select(
        c.day,
        c.model_name,
        *(func.sum(c[label]).label(label) for _, label in KINDS),
        func.sum(c.ms).label("ms"),
        func.count().label("n"),
        json_array(session, case((c.executions > 0, c.tokens))).label("tokens"),
    ).group_by(c.day, c.model_name)


def live_totals(
    session: Session, live: set[date], agent_id: int | None, prices: PriceBook | None = None
) -> DailyRows:
    """The live days' sums for `range_totals`: one agent-level row per day (all agents, or
    `agent_id`; no unique users or p95) and one row per (day, model) with executions."""
    out = DailyRows()
    if not live:
        return out
    prices = prices or PriceBook.load(session)
    days: dict[date, dict[str, Any]] = {}
    for run_start, run_stop in day_runs(live):
        statement = _totals_statement(session, run_start, run_stop, agent_id)
        for raw_day, model, *counts, ms, _, tokens in array_rows(session, statement, 1):
            day = as_date(raw_day)
            row = days.get(day)
            if row is None:
                row = days[day] = {"date": day, "agent_id": agent_id, "cost_micro": 0}
                row |= dict.fromkeys(("total_tokens", "total_execution_ms", *SUMMED), 0)
            for name, count in zip(SUMMED, counts, strict=True):
                row[name] += int(count or 0)
            executions = int(counts[0] or 0)
            if not executions:
                continue
            tokens = [int(t) for t in tokens if t is not None]
            price = prices.micro(model, day)
            cost = sum(cost_micro(t, price) for t in tokens)
            ms = int(ms or 0)
            row["total_tokens"] += sum(tokens)
            row["total_execution_ms"] += ms
            row["cost_micro"] += cost
            out.models.append(
                {
                    "date": day,
                    "model_name": model,
                    "executions": executions,
                    "total_tokens": sum(tokens),
                    "total_execution_ms": ms,
                    "cost_usd": micro_to_usd(cost),
                    "priced": price is not None,
                }
            )
    for row in days.values():
        row["cost_usd"] = micro_to_usd(row.pop("cost_micro"))
        out.agents.append(row)
    return out


def _collation(session: Session) -> str:
    """usage_logs.user_id's collation (MariaDB), looked up once per connection."""
    info = session.connection().info
    if "user_collation" not in info:
        info["user_collation"] = day_sets.user_collation(session)
    return info["user_collation"]


def _user_key(session: Session, column):  # noqa: ANN001, ANN202
    """A user as the stored sets hold it: MariaDB compares users under the column's collation,
    so its sets hold collation keys (CONVERT … USING resets the collation: the column's is
    named); elsewhere the user itself."""
    if dialect_name(session) != "mysql":
        return column
    return literal_column(day_sets.mariadb_key(column.compile().string, _collation(session)))


def json_array(session: Session, column):  # noqa: ANN001, ANN202
    """The aggregate of `column` as JSON array text (NULL for no rows on the servers)."""
    name = dialect_name(session)
    if name == "sqlite":
        return func.json_group_array(column)
    if name == "postgresql":
        return cast(func.json_agg(column), Text)
    return func.json_arrayagg(column)


def _arrays_statement(session: Session, start: date, stop: date):
    """One pass over [start, stop) on the covering index (created_at, event_type,
    execution_time_ms, user_id): every event's user (key) and every execution's time, as two
    JSON arrays (NULL where an event has no user / is no execution). No DISTINCT and no
    ORDER BY: on MariaDB either costs several times the pass; Python takes the set and the top."""
    user = case((U.user_id != "", _user_key(session, U.user_id)))
    ms = case((U.event_type == "executed", U.execution_time_ms))
    return select(func.count(), json_array(session, user), json_array(session, ms)).where(
        *range_filter(start, stop)
    )


def array_rows(session: Session, statement: Select, arrays: int) -> list[tuple]:
    """The rows of `statement`, whose last `arrays` columns are JSON arrays (`json_array`) of one
    element per row aggregated and the column before them that count: decoded. MariaDB cuts an
    array at group_concat_max_len (1 MiB by default) and still closes it, so a short array
    runs the statement again with the limit raised (`in_memory_grouping`). The cut may also
    fall just after a comma ("…,null,]"): text that does not parse counts as cut."""
    for raised in (False, True):
        with in_memory_grouping(session) if raised else nullcontext():
            rows = session.execute(statement).all()
        decoded = [(*r[:-arrays], *(_array(a) for a in r[-arrays:])) for r in rows]
        if all(
            a is not None and len(a) == int(r[-arrays - 1]) for r in decoded for a in r[-arrays:]
        ):
            return decoded
    raise RuntimeError("an aggregated array is longer than MariaDB's group_concat_max_len")


def _array(text: str | None) -> list | None:
    """A JSON array's elements; None for text a cut left unparseable."""
    try:
        return json.loads(text or "[]")
    except json.JSONDecodeError:
        return None


def users_and_top(session: Session, live: set[date], k: int) -> tuple[set[str], list[int]]:
    """The live days' distinct users (stored-set form) and their k largest execution times
    (all of them when fewer), in one statement per run of days."""
    users: set[str] = set()
    times: list[int] = []
    for run_start, run_stop in day_runs(live):
        statement = _arrays_statement(session, run_start, run_stop)
        ((_, run_users, run_times),) = array_rows(session, statement, 2)
        users.update(u for u in run_users if u is not None)
        times.extend(t for t in run_times if t is not None)
    return users, heapq.nlargest(k, times) if k > 0 else []
