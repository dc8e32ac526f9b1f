"""daily_agent_users (one row per day, agent and user) becomes daily_agent_user_sets (one row
per day and agent: its identified users with their event counts, compressed)

Revision ID: 0017_agent_user_sets
Revises: 0016_daily_sets

The upgrade converts the stored rows in the database's own GROUP BY (core.analytics.agent_sets
builds each (day, agent)'s JSON array) and compresses them here, a few thousand rows at a time;
the downgrade expands them back into one row per (day, agent, user). Nothing to run by hand.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import Session

revision = "0017_agent_user_sets"
down_revision = "0016_daily_sets"
branch_labels = None
depends_on = None

BLOB = sa.LargeBinary().with_variant(mysql.LONGBLOB(), "mysql", "mariadb")


def _agent_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["agent_id"], ["agent_configs.id"], name=op.f(f"fk_{table}_agent_id_agent_configs"),
        ondelete="CASCADE",
    )  # fmt: skip


def _day_chunks(table: str) -> list[tuple]:
    """[lo, hi] date bounds covering `table`'s days, ~a month each (bounded memory)."""
    days = [d for (d,) in op.get_bind().execute(sa.text(f"SELECT DISTINCT date FROM {table}"))]
    days.sort()
    return [(days[i], days[min(i + 30, len(days) - 1)]) for i in range(0, len(days), 31)]


def upgrade() -> None:
    from core.analytics import agent_sets
    from core.analytics.sql import in_memory_grouping

    op.create_table(
        "daily_agent_user_sets",
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("agent_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("users", sa.Integer(), nullable=False),
        sa.Column("user_set", BLOB, nullable=False),
        _agent_fk("daily_agent_user_sets"),
        sa.PrimaryKeyConstraint("date", "agent_id", name=op.f("pk_daily_agent_user_sets")),
    )
    bind = op.get_bind()
    session = Session(bind=bind)
    chunk = "(SELECT * FROM daily_agent_users WHERE date >= :lo AND date <= :hi) chunk"
    select = sa.text(agent_sets.sets_sql(session, source=chunk, day="date", events="events"))
    insert = sa.text(
        "INSERT INTO daily_agent_user_sets (date, agent_id, users, user_set) "
        "VALUES (:date, :agent_id, :users, :user_set)"
    )
    with in_memory_grouping(session):  # MariaDB: GROUP_CONCAT holds a whole (day, agent)
        for lo, hi in _day_chunks("daily_agent_users"):
            rows = bind.execute(select, {"lo": lo, "hi": hi}).all()
            values = [
                {"date": r[0], "agent_id": r[1], "users": r[2], "user_set": agent_sets.encode(r[3])}
                for r in rows
                if r[2]
            ]
            if values:
                bind.execute(insert, values)
    op.drop_table("daily_agent_users")


def downgrade() -> None:
    from core.analytics import agent_sets

    op.create_table(
        "daily_agent_users",
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("agent_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("user_id", sa.String(length=255), nullable=False),
        sa.Column("events", sa.Integer(), nullable=False),
        _agent_fk("daily_agent_users"),
        sa.PrimaryKeyConstraint("date", "agent_id", "user_id", name=op.f("pk_daily_agent_users")),
    )
    bind = op.get_bind()
    insert = sa.text(
        "INSERT INTO daily_agent_users (date, agent_id, user_id, events) "
        "VALUES (:date, :agent_id, :user_id, :events)"
    )
    select = sa.text(
        "SELECT date, agent_id, user_set FROM daily_agent_user_sets "
        "WHERE date >= :lo AND date <= :hi"
    )
    for lo, hi in _day_chunks("daily_agent_user_sets"):
        triples = [
            {"date": day, "agent_id": agent, "user_id": e[0], "events": int(e[1])}
            for day, agent, blob in bind.execute(select, {"lo": lo, "hi": hi})
            for e in agent_sets.decode(blob)
        ]
        if triples:
            bind.execute(insert, triples)
    op.drop_table("daily_agent_user_sets")
