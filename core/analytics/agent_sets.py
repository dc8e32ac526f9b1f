"""Who used each agent on each day, compactly: daily_agent_user_sets holds one row per (UTC day,
agent) with identified users, its `user_set` the zlib-compressed JSON array of the day's
distinct non-empty users with their event counts, `[[user, events], …]`. On MariaDB each entry
also carries the user's collation key (`[user, events, key]`, as day_sets stores them): there
spellings that differ only in case, accents or trailing spaces are one user, and readers merge
entries by that key exactly as a GROUP BY / COUNT(DISTINCT) over the column would.

The rollup builds the arrays in SQL (`sets_sql`) in the same GROUP BY over its per-(day, agent,
user) counts that gives each (day, agent)'s event counts and unique users; readers (range
uniques with an agent filter or per agent, the top-users ranking, the default views' users)
decode the closed days' rows and merge them with the live days' users read from the events.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, literal_column, select
from sqlalchemy.orm import Session

from core.analytics.compute import RangeRead, U, day_runs, range_filter
from core.analytics.day_sets import mariadb_key, user_collation
from core.analytics.sql import as_date, dialect_name
from core.models import DailyAgentUserSet

S = DailyAgentUserSet.__table__.c

# One user's entry and the aggregate that joins a group's entries (NULLs — the anonymous ''
# user — skipped), per dialect; `[` + … + `]` is the JSON array (NULL when nobody identified).
_ENTRY = {
    "sqlite": "json_array({user}, {events})",
    "postgresql": "CAST(json_build_array({user}, {events}) AS TEXT)",
    # Spelled out: JSON_ARRAY re-escapes the key (2 s more at 1M entries); the key is hex.
    "mysql": "CONCAT('[', JSON_QUOTE({user}), ',', {events}, ',\"', {key}, '\"]')",
}
_JOIN = {
    "sqlite": "'[' || group_concat({entry}) || ']'",
    # Byte order whatever the column's collation: the same array on every run.
    "postgresql": "'[' || string_agg({entry}, ',' ORDER BY {user} COLLATE \"C\") || ']'",
    # GROUP_CONCAT is capped by group_concat_max_len (raised by sql.in_memory_grouping).
    "mysql": "CONCAT('[', GROUP_CONCAT({entry} ORDER BY {user} SEPARATOR ','), ']')",
}


def sets_sql(
    session: Session, *, source: str, day: str, events: str, extra: str = "", user: str = "user_id"
) -> str:
    """SELECT day, agent_id, <extra>, users, doc FROM `source` GROUP BY day, agent_id: per
    (day, agent) of rows (day, agent_id, user, counts…) the number of identified users and
    their JSON array (`events`: a user's event count over the row's columns)."""
    name = dialect_name(session)
    key = mariadb_key(user, user_collation(session)) if name == "mysql" else ""
    entry = _ENTRY[name].format(user=user, events=events, key=key)
    doc = _JOIN[name].format(entry=f"CASE WHEN {user} <> '' THEN {entry} END", user=user)
    users = f"SUM(CASE WHEN {user} <> '' THEN 1 ELSE 0 END)"
    return f"""SELECT {day}, agent_id, {extra}{users}, {doc}
        FROM {source} GROUP BY {day}, agent_id"""


def encode(doc: str) -> bytes:
    return zlib.compress(doc.encode(), 1)


def decode(blob: bytes) -> list[list]:
    return json.loads(zlib.decompress(blob))


def identity(entry: list) -> str:
    """What makes two entries one user: the MariaDB collation key, else the text itself."""
    return entry[2] if len(entry) > 2 else entry[0]


def closed_sets(
    session: Session, *, start: date, stop: date, skip: set[date], agent_id: int | None = None
) -> Iterator[tuple[date, int, list[list]]]:
    """(day, agent, entries) of the stored days in [start, stop) but `skip`."""
    query = select(S.date, S.agent_id, S.user_set).where(S.date >= start, S.date < stop)
    skipped = sorted(d for d in skip if start <= d < stop)
    if skipped:
        query = query.where(S.date.not_in(skipped))
    if agent_id is not None:
        query = query.where(S.agent_id == agent_id)
    for day, agent, blob in session.execute(query):
        yield as_date(day), agent, decode(blob)


def live_entries(
    session: Session, live: set[date], agent_id: int | None = None, *, by_agent: bool = False
) -> Iterator[tuple[int | None, list]]:
    """(agent or None, [user, events(, key)]) of the live days' identified users, from the
    events (grouped by the database: on MariaDB spellings it deems equal are one row)."""
    key = [U.agent_id] if by_agent else []
    collation = user_collation(session) if dialect_name(session) == "mysql" else None
    for run_start, run_end in day_runs(live):
        grouped = (
            select(*key, U.user_id, func.count().label("n"))
            .where(*range_filter(run_start, run_end, agent_id), U.user_id != "")
            .group_by(*key, U.user_id)
            .subquery("live_users")
        )
        columns = [grouped.c.user_id, grouped.c.n]
        if collation:
            columns.append(literal_column(mariadb_key("live_users.user_id", collation)))
        agent = [grouped.c.agent_id] if by_agent else []
        for row in session.execute(select(*agent, *columns)):
            yield (row[0] if by_agent else None), list(row[-len(columns) :])


def entries(session: Session, read: RangeRead) -> Iterator[tuple[int | None, list]]:
    """(agent, entry) of every identified user over the range (one agent, or all; the model
    filter is the caller's): closed days from the stored sets, then the live days from the
    events."""
    stop = min(read.end + timedelta(days=1), read.today)
    if read.start < stop:
        for _, agent, day_entries in closed_sets(
            session, start=read.start, stop=stop, skip=read.live, agent_id=read.agent_id
        ):
            yield from ((agent, e) for e in day_entries)
    yield from live_entries(session, read.live, read.agent_id, by_agent=True)


def users_by_agent(found: Iterator[tuple[int | None, list]]) -> dict[int, set[str]]:
    """{agent: identities of its users} of `entries`."""
    out: dict[int, set[str]] = {}
    for agent, entry in found:
        out.setdefault(agent, set()).add(identity(entry))
    return out


def user_counts(found: Iterator[tuple[int | None, list]]) -> dict[str, list[Any]]:
    """{identity: [a spelling, events]} of `entries`, all agents together."""
    out: dict[str, list[Any]] = {}
    for _, entry in found:
        counted = out.get(identity(entry))
        if counted is None:
            out[identity(entry)] = [entry[0], int(entry[1])]
        else:
            counted[1] += int(entry[1])
    return out


def day_user_count(session: Session, day: date) -> int:
    """Distinct identified users of one stored day across agents."""
    users: set[str] = set()
    for _, _, entries in closed_sets(session, start=day, stop=day + timedelta(days=1), skip=set()):
        users.update(identity(e) for e in entries)
    return len(users)
