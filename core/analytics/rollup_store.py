"""The store phase of a rollup computed by rollup_sql into the connection's temporary tables:
make daily_model_metrics, daily_metrics and daily_agent_user_sets equal the computed rows —
UPDATE … FROM the changed ones only, INSERT the missing ones, DELETE the stale ones (days and
agents without events any more) — and rewrite daily_totals for the range (day_sets)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import text
from sqlalchemy.orm import Session

from core.analytics import day_sets
from core.analytics.rollup_sql import (
    AGENT_COLUMNS,
    MODEL_COLUMNS,
    Dialect,
    drop_temp,
    rollup_where,
)
from core.analytics.sql import dialect_name, in_memory_grouping
from core.models import utcnow


def _update(
    d: Dialect,
    table: str,
    source: str,
    keys: list[tuple[str, str]],
    sets: dict[str, str],
    compare: dict[str, tuple[str, str]],
) -> str:
    """UPDATE `table` from `source` where any column differs; `sets` maps column → value SQL
    over the source alias `s`; `compare` compares some columns in another form."""
    changed = " OR ".join(
        d.differs(*compare.get(c, (f"t.{c}", v))) for c, v in sets.items() if c != "updated_at"
    )
    join = " AND ".join(f"t.{tc} = s.{sc}" for tc, sc in keys)
    if d.name == "mysql":
        assign = ", ".join(f"t.{c} = {v}" for c, v in sets.items())
        return f"UPDATE {table} t JOIN {source} s ON {join} SET {assign} WHERE {changed}"
    assign = ", ".join(f"{c} = {v}" for c, v in sets.items())
    # SQLite/PostgreSQL: the target cannot take an alias in SET, but can in FROM's join.
    return f"UPDATE {table} AS t SET {assign} FROM {source} s WHERE {join} AND ({changed})"


def _empty(session: Session, table: str, where: str, params: dict) -> bool:
    """No rows of `table` in the range (`where` on its date column)."""
    return (
        session.execute(text(f"SELECT 1 FROM {table} WHERE {where} LIMIT 1"), params).first()
        is None
    )


def _sync(
    session: Session,
    d: Dialect,
    *,
    table: str,
    source: str,
    keys: list[tuple[str, str]],
    values: dict[str, str],
    where: str,
    params: dict,
    compare: dict[str, tuple[str, str]] | None = None,
) -> tuple[int, int]:
    """Make `table`'s rows in `where` equal `source`'s: update changed, insert missing, delete
    stale. Returns (written, deleted). When the range holds no rows yet (a first rollup) the
    source is inserted as it is: nothing to compare, nothing stale."""
    columns = [tc for tc, _ in keys] + list(values)
    selected = [f"s.{sc}" for _, sc in keys] + list(values.values())
    insert = (
        f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(selected)} FROM {source} s"
    )
    if _empty(session, table, where, params):
        return session.execute(text(insert), params).rowcount, 0
    written = 0
    if values:
        statement = _update(d, table, source, keys, values, compare or {})
        written += session.execute(text(statement), params).rowcount
    match = " AND ".join(f"t.{tc} = s.{sc}" for tc, sc in keys)
    written += session.execute(
        text(f"{insert} WHERE NOT EXISTS (SELECT 1 FROM {table} t WHERE {match})"), params
    ).rowcount
    match_t = " AND ".join(f"s.{sc} = {table}.{tc}" for tc, sc in keys)
    deleted = session.execute(
        text(
            f"""DELETE FROM {table} WHERE {where}
            AND NOT EXISTS (SELECT 1 FROM {source} s WHERE {match_t})"""
        ),
        params,
    ).rowcount
    return written, deleted


def store(session: Session, *, start: date | None, end: date | None) -> tuple[int, int]:
    """Write the computed rows; returns (rows written, stale rows deleted) of the two metric
    tables (daily_agent_user_sets is kept in step but not counted)."""
    d = Dialect(dialect_name(session))
    where, params = rollup_where(d, start, end)
    now = utcnow()
    params["now"] = now.isoformat(" ", "microseconds") if d.name == "sqlite" else now
    money = d.money("s.cost_micro")
    model_values = {c: f"s.{c}" for c in MODEL_COLUMNS} | {"cost_usd": money}
    w1, d1 = _sync(
        session,
        d,
        table="daily_model_metrics",
        source="ru_mm",
        keys=[("date", "day"), ("agent_id", "agent_id"), ("model_name", "model_name")],
        values=model_values,
        where=where,
        params=params,
        compare={"cost_usd": ("ROUND(t.cost_usd * 1000000)", "s.cost_micro")},
    )
    agent_values = {c: f"s.{c}" for c in AGENT_COLUMNS} | {
        "cost_usd": money,
        "updated_at": ":now",
    }
    w2, d2 = _sync(
        session,
        d,
        table="daily_metrics",
        source="ru_dm",
        keys=[("date", "day"), ("agent_id", "agent_id")],
        values=agent_values,
        where=where,
        params=params,
        compare={"cost_usd": ("ROUND(t.cost_usd * 1000000)", "s.cost_micro")},
    )
    _sync(
        session,
        d,
        table="daily_agent_user_sets",
        source="ru_blobs",
        keys=[("date", "day"), ("agent_id", "agent_id")],
        values={"users": "s.users", "user_set": "s.user_set"},
        where=where,
        params=params,
    )
    with in_memory_grouping(session):
        day_sets.store_totals(session, where=where, params=params)
    drop_temp(session)
    return w1 + w2, d1 + d2
