"""The rollup computed entirely in the database, in two phases on one connection.

Compute (a read transaction; on SQLite temporary tables take no lock on the main database):
- `ru_model`: executions, tokens and time per (day, agent, model); on SQLite/MariaDB with the
  p95 candidate of each model's rows from a CUME_DIST window over the (day, agent) — the
  exact p95 of the (day, agent) is the smallest candidate (one pass for both);
- `ru_users`: event counts per (day, agent, user), the anonymous '' user included;
- `ru_sets`: one GROUP BY (day, agent) over `ru_users` — the event counts, the number of
  identified users and their JSON array with each one's count (agent_sets: the rows of
  daily_agent_user_sets, compressed into `ru_blobs`); on SQLite/MariaDB `ru_agent` is a copy of
  its counts, on PostgreSQL its own hashed pass with `percentile_disc(0.95)`;
- `ru_price`: the price of each model name over date intervals (the glob matching runs in
  Python once per model name: `PriceBook`), joined to `ru_model` for the cost in integer
  millionths of a dollar, rounded half-up — `ru_mm` and `ru_dm` are the finished rows.
Store (rollup_store, a write transaction): UPDATE … FROM the changed rows only, INSERT the
missing ones, DELETE the stale ones (days/agents without events any more) of
daily_model_metrics, daily_metrics and daily_agent_user_sets (one row per (day, agent));
daily_totals is rewritten for the range (one row per day, with the day's compact sets).
"""

from __future__ import annotations

import json
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from core.analytics import agent_sets
from core.analytics.prices import PriceBook
from core.analytics.sql import dialect_name, in_memory_grouping
from core.models import ModelPrice

TEMP_TABLES = (
    "ru_model",
    "ru_users",
    "ru_sets",
    "ru_blobs",
    "ru_days",
    "ru_agent",
    "ru_price",
    "ru_mm",
    "ru_dm",
)
FAR_FUTURE = date(9999, 12, 31)
DAY_SQL = {
    "sqlite": "substr(created_at, 1, 10)",
    "postgresql": "CAST(created_at AS DATE)",
    "mysql": "DATE(created_at)",
}
AGENT_COLUMNS = [
    "executions",
    "views",
    "creations",
    "deletions",
    "total_tokens",
    "unique_users",
    "total_execution_ms",
    "avg_execution_ms",
    "p95_execution_ms",
]
MODEL_COLUMNS = ["executions", "total_tokens", "total_execution_ms", "priced"]


class Dialect:
    """The few SQL spellings that differ between SQLite, PostgreSQL and MariaDB."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.day = DAY_SQL[name]
        self.temp = "TEMP" if name == "sqlite" else "TEMPORARY"
        self.div = "DIV" if name == "mysql" else "/"
        self.double = {"sqlite": "REAL", "postgresql": "DOUBLE PRECISION", "mysql": "DOUBLE"}[name]
        self.text = "LONGTEXT" if name == "mysql" else "TEXT"
        self.blob = {"sqlite": "BLOB", "postgresql": "BYTEA", "mysql": "LONGBLOB"}[name]

    def money(self, micro: str) -> str:
        """Integer millionths of a dollar as the cost_usd column's value, exactly."""
        if self.name == "sqlite":
            return f"({micro}) / 1000000.0"
        kind = "NUMERIC" if self.name == "postgresql" else "DECIMAL"
        return f"CAST({micro} AS {kind}(24, 6)) / 1000000"

    def differs(self, a: str, b: str) -> str:
        """Null-safe a ≠ b."""
        if self.name == "sqlite":
            return f"{a} IS NOT {b}"
        if self.name == "postgresql":
            return f"{a} IS DISTINCT FROM {b}"
        return f"NOT ({a} <=> {b})"

    def bound(self, day: date) -> Any:
        """A day as a parameter compared with usage_logs.created_at."""
        if self.name == "sqlite":
            return day.isoformat()  # the text prefix of every timestamp that day
        return datetime.combine(day, time.min)

    def date_param(self, day: date) -> Any:
        return day.isoformat() if self.name == "sqlite" else day


def _events_where(d: Dialect, start: date | None, end: date | None) -> tuple[str, dict]:
    clauses, params = [], {}
    if start is not None:
        clauses.append("created_at >= :lo")
        params["lo"] = d.bound(start)
    if end is not None:
        clauses.append("created_at < :hi")
        params["hi"] = d.bound(end)
    return " AND ".join(clauses) or "1 = 1", params


def rollup_where(
    d: Dialect, start: date | None, end: date | None, column: str = "date"
) -> tuple[str, dict]:
    clauses, params = [], {}
    if start is not None:
        clauses.append(f"{column} >= :dlo")
        params["dlo"] = d.date_param(start)
    if end is not None:
        clauses.append(f"{column} < :dhi")
        params["dhi"] = d.date_param(end)
    return " AND ".join(clauses) or "1 = 1", params


def drop_temp(session: Session) -> None:
    for table in TEMP_TABLES:
        temporary = "TEMPORARY " if dialect_name(session) == "mysql" else ""
        session.execute(text(f"DROP {temporary}TABLE IF EXISTS {table}"))


def _count(kind: str) -> str:
    return f"SUM(CASE WHEN event_type = '{kind}' THEN 1 ELSE 0 END)"


def _columns(d: Dialect, spec: str) -> str:
    """Column declarations: D = date, I = integer, B = bigint, F = double, Y = boolean,
    T = text, Z = binary, Vn = varchar(n). The declared types match the stored tables' (on SQLite their affinity
    decides whether an index serves a join: a TEXT day would not match a DATE column)."""
    kinds = {"D": "DATE", "I": "INTEGER", "B": "BIGINT", "F": d.double, "Y": "BOOLEAN"}
    kinds |= {"T": d.text, "Z": d.blob}
    out = []
    for item in spec.split():
        name, kind = item.split(":")
        out.append(f"{name} {kinds.get(kind) or f'VARCHAR({kind[1:]})'}")
    return ", ".join(out)


TEMP_COLUMNS = {
    "ru_model": "day:D agent_id:I model_name:V120 executions:B total_tokens:B total_ms:B p95:B",
    "ru_agent": "day:D agent_id:I executions:B views:B creations:B deletions:B p95:B",
    "ru_users": "day:D agent_id:I user_id:V255 executions:B views:B creations:B deletions:B",
    "ru_sets": "day:D agent_id:I executions:B views:B creations:B deletions:B users:B doc:T",
    "ru_blobs": "day:D agent_id:I users:B user_set:Z",
    "ru_days": "day:D users:B user_set:Z",
    "ru_price": "model_name:V120 valid_from:D valid_to:D micro:B",
    "ru_mm": "day:D agent_id:I model_name:V120 executions:B total_tokens:B "
    "total_execution_ms:B cost_micro:B priced:Y p95:B",
    "ru_dm": "day:D agent_id:I executions:B views:B creations:B deletions:B total_tokens:B "
    "unique_users:B total_execution_ms:B avg_execution_ms:F p95_execution_ms:F cost_micro:B",
}


def _create(session: Session, d: Dialect, table: str, select_sql: str | None, params=None) -> None:  # noqa: ANN001
    """CREATE a temporary table with declared types, filled by `select_sql` if given."""
    # SQLite/MariaDB: rows arrive sorted, ru_sets groups them in key order. PostgreSQL hashes
    # them instead (a text key under a linguistic collation costs ~30 s at 1M rows).
    keyed = table == "ru_users" and d.name != "postgresql"
    key = ", PRIMARY KEY (day, agent_id, user_id)" if keyed else ""
    tail = " WITHOUT ROWID" if key and d.name == "sqlite" else ""
    if table in ("ru_sets", "ru_blobs"):  # declared, not added: MariaDB would copy the texts
        key = ", PRIMARY KEY (day, agent_id)"
    if table == "ru_days":
        key = ", PRIMARY KEY (day)"
    session.execute(
        text(f"CREATE {d.temp} TABLE {table} ({_columns(d, TEMP_COLUMNS[table])}{key}){tail}")
    )
    if select_sql is not None:
        names = ", ".join(item.split(":")[0] for item in TEMP_COLUMNS[table].split())
        session.execute(text(f"INSERT INTO {table} ({names}) {select_sql}"), params or {})


def _model_pass(d: Dialect, where: str) -> str:
    model = "COALESCE(model_name, '')"
    if d.name == "postgresql":
        return f"""SELECT {d.day} AS day, agent_id, {model} AS model_name, COUNT(*),
                   SUM(tokens_used), SUM(execution_time_ms), NULL
            FROM usage_logs WHERE event_type = 'executed' AND {where}
            GROUP BY 1, 2, 3"""
    return f"""SELECT day, agent_id, model_name, COUNT(*), SUM(tokens_used),
               SUM(execution_time_ms), MIN(CASE WHEN cd >= 0.95 THEN execution_time_ms END)
        FROM (SELECT {d.day} AS day, agent_id, {model} AS model_name, tokens_used,
                     execution_time_ms,
                     CUME_DIST() OVER (PARTITION BY {d.day}, agent_id
                                       ORDER BY execution_time_ms) AS cd
              FROM usage_logs WHERE event_type = 'executed' AND {where}) ranked
        GROUP BY day, agent_id, model_name"""


def _agent_pass(d: Dialect, where: str) -> str:
    p95 = ", NULL"
    if d.name == "postgresql":
        p95 = """, percentile_disc(0.95) WITHIN GROUP (ORDER BY execution_time_ms)
                 FILTER (WHERE event_type = 'executed')"""
    return f"""SELECT {d.day} AS day, agent_id, {_count("executed")}, {_count("viewed")},
               {_count("created")}, {_count("deleted")} {p95}
        FROM usage_logs WHERE {where} GROUP BY {d.day}, agent_id"""


def _users_pass(d: Dialect, where: str) -> str:
    """Event counts per (day, agent, user), the anonymous '' user included: the distinct
    users and (on SQLite/MariaDB) the per-agent counts in one sort."""
    # MariaDB: SQL_BIG_RESULT groups by sorting (packed keys) instead of a temporary table
    # of 1 KiB utf8mb4 keys that spills to disk (3x slower at 1M groups).
    hint = "SQL_BIG_RESULT " if d.name == "mysql" else ""
    return f"""SELECT {hint}{d.day}, agent_id, user_id, {_count("executed")}, {_count("viewed")},
               {_count("created")}, {_count("deleted")}
        FROM usage_logs WHERE {where} GROUP BY {d.day}, agent_id, user_id"""


USER_EVENTS = "executions + views + creations + deletions"
_AGENT_FROM_SETS = (
    "SELECT day, agent_id, executions, views, creations, deletions, NULL FROM ru_sets"
)


def _sets_pass(session: Session) -> str:
    """Per (day, agent) of ru_users: event counts, identified users and their array."""
    sums = "".join(f"SUM({c}), " for c in ("executions", "views", "creations", "deletions"))
    return agent_sets.sets_sql(
        session, source="ru_users", day="day", events=USER_EVENTS, extra=sums
    )


def _blobs(session: Session, d: Dialect) -> None:
    """ru_blobs: ru_sets' arrays compressed (daily_agent_user_sets' rows); ru_days: each day's
    distinct users, the union of its agents' (day_sets: daily_totals.user_set)."""
    _create(session, d, "ru_blobs", None)
    _create(session, d, "ru_days", None)
    rows, days = [], {}
    query = text("SELECT day, agent_id, users, doc FROM ru_sets WHERE users > 0")
    for day, agent, users, doc in session.execute(query):
        rows.append(
            {"day": day, "agent_id": agent, "users": users, "user_set": agent_sets.encode(doc)}
        )
        days.setdefault(day, set()).update(agent_sets.identity(e) for e in json.loads(doc))
    _insert(session, "ru_blobs", rows)
    _insert(
        session,
        "ru_days",
        [
            {
                "day": day,
                "users": len(users),
                "user_set": agent_sets.encode(json.dumps(list(users))),
            }
            for day, users in days.items()
        ],
    )


def _insert(session: Session, table: str, rows: list[dict]) -> None:
    if rows:
        names = list(rows[0])
        values = ", ".join(f":{n}" for n in names)
        session.execute(text(f"INSERT INTO {table} ({', '.join(names)}) VALUES ({values})"), rows)


def price_intervals(prices: PriceBook, rows: list[ModelPrice], models: list[str]) -> list[dict]:
    """[valid_from, valid_to) intervals of each model's price in millionths (priced ones only):
    a model's price can only change on the effective date of a matching pattern."""
    starts = sorted({r.effective_from for r in rows})
    out = []
    for model in models:
        for i, begin in enumerate(starts):
            micro = prices.micro(model, begin)
            if micro is None:
                continue
            until = starts[i + 1] if i + 1 < len(starts) else FAR_FUTURE
            out.append(
                {"model_name": model, "valid_from": begin, "valid_to": until, "micro": micro}
            )
    return out


def _prices(session: Session, d: Dialect) -> None:
    _create(session, d, "ru_price", None)
    models = [m for (m,) in session.execute(text("SELECT DISTINCT model_name FROM ru_model"))]
    rows = list(session.query(ModelPrice))
    if not rows or not models:
        return
    intervals = price_intervals(PriceBook.load(session), rows, [m for m in models if m])
    for row in intervals:
        row["valid_from"] = d.date_param(row["valid_from"])
        row["valid_to"] = d.date_param(row["valid_to"])
    if intervals:
        session.execute(
            text(
                "INSERT INTO ru_price (model_name, valid_from, valid_to, micro) "
                "VALUES (:model_name, :valid_from, :valid_to, :micro)"
            ),
            intervals,
        )


def _finished_rows(session: Session, d: Dialect) -> None:
    """ru_mm / ru_dm: the rows daily_model_metrics / daily_metrics must hold."""
    cost = (
        f"CASE WHEN p.micro IS NULL THEN 0 ELSE (m.total_tokens * p.micro + 500) {d.div} 1000 END"
    )
    _create(
        session,
        d,
        "ru_mm",
        f"""SELECT m.day, m.agent_id, m.model_name, m.executions, m.total_tokens,
                   m.total_ms, {cost}, (p.micro IS NOT NULL), m.p95
            FROM ru_model m LEFT JOIN ru_price p ON p.model_name = m.model_name
                 AND m.day >= p.valid_from AND m.day < p.valid_to""",
    )
    p95 = "a.p95" if d.name == "postgresql" else "s.p95"
    _create(
        session,
        d,
        "ru_dm",
        f"""SELECT a.day, a.agent_id, a.executions, a.views, a.creations, a.deletions,
                   COALESCE(s.total_tokens, 0) AS total_tokens,
                   COALESCE(u.users, 0) AS unique_users,
                   COALESCE(s.total_ms, 0) AS total_execution_ms,
                   CASE WHEN a.executions > 0
                        THEN CAST(COALESCE(s.total_ms, 0) AS {d.double}) / a.executions
                   END AS avg_execution_ms,
                   CAST({p95} AS {d.double}) AS p95_execution_ms,
                   COALESCE(s.cost_micro, 0) AS cost_micro
            FROM ru_agent a
            LEFT JOIN (SELECT day, agent_id, SUM(total_tokens) AS total_tokens,
                              SUM(total_execution_ms) AS total_ms,
                              SUM(cost_micro) AS cost_micro, MIN(p95) AS p95
                       FROM ru_mm GROUP BY day, agent_id) s
                   ON s.day = a.day AND s.agent_id = a.agent_id
            LEFT JOIN ru_sets u ON u.day = a.day AND u.agent_id = a.agent_id""",
    )
    for table, key in (("ru_mm", "day, agent_id, model_name"), ("ru_dm", "day, agent_id")):
        session.execute(text(f"CREATE INDEX {table}_key ON {table} ({key})"))
    if d.name == "postgresql":
        for table in ("ru_mm", "ru_dm", "ru_users"):
            session.execute(text(f"ANALYZE {table}"))


def compute(session: Session, *, start: date | None, end: date | None) -> None:
    """Fill the temporary tables for the days in [start, end) (None: unbounded)."""
    d = Dialect(dialect_name(session))
    drop_temp(session)
    where, params = _events_where(d, start, end)
    with in_memory_grouping(session):
        _create(session, d, "ru_model", _model_pass(d, where), params)
        _create(session, d, "ru_users", _users_pass(d, where), params)
        _create(session, d, "ru_sets", _sets_pass(session))
        if d.name == "postgresql":  # p95 by percentile_disc beside the counts (hashed groups)
            _create(session, d, "ru_agent", _agent_pass(d, where), params)
        else:
            _create(session, d, "ru_agent", _AGENT_FROM_SETS)
    _prices(session, d)
    _finished_rows(session, d)
    _blobs(session, d)
