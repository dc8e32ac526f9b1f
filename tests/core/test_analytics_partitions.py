"""PostgreSQL: usage_logs partitioned by month — rows land in their month's partition, any
insert works (DEFAULT partition), retention drops whole months while rollups keep the history,
and migration 0014 keeps existing rows both ways. Elsewhere the maintenance is a no-op."""

from __future__ import annotations

import json
import os
from datetime import UTC, date, datetime, timedelta

import pytest
from alembic import command
from sqlalchemy import func, select

from core import analytics
from core.analytics import partitions
from core.analytics.jobs import maintain_partitions
from core.analytics.runner import roll_up
from core.cli import main
from core.db import get_engine, session_scope
from core.errors import ValidationError
from core.migrate import alembic_config, upgrade_to_head
from core.models import DailyMetric, RollupQueue, UsageLog

POSTGRES = os.environ.get("TEST_POSTGRES_URL")
needs_postgres = pytest.mark.skipif(not POSTGRES, reason="TEST_POSTGRES_URL is not set")
THIS_MONTH = datetime.now(UTC).date().replace(day=1)


@pytest.fixture
def pg(db_url) -> str:  # noqa: ANN001
    """The PostgreSQL database, with only the partitions a fresh migration has."""
    if not db_url.startswith("postgresql"):
        pytest.skip("partitions exist on PostgreSQL only")
    with get_engine(db_url).begin() as connection:
        for name in partitions.month_partitions(connection).values():
            connection.exec_driver_sql(f"DROP TABLE {name}")
        connection.exec_driver_sql("COMMENT ON TABLE usage_logs_default IS NULL")
        partitions.ensure_partitions(connection, months_ahead=3)
    return db_url


@pytest.fixture
def agent(people, make_agent) -> int:  # noqa: ANN001
    return make_agent(people["developer"]).id


def _event(agent: int, moment: datetime, user: str = "ana@corp.example") -> dict:
    return {
        "agent_id": agent,
        "event_type": "executed",
        "user": user,
        "tokens_used": 10,
        "execution_time_ms": 5,
        "created_at": moment.isoformat(),
    }


def _where(url: str) -> dict[str, int]:
    """{partition: rows} for the rows of usage_logs."""
    with get_engine(url).connect() as connection:
        rows = connection.exec_driver_sql(
            "SELECT tableoid::regclass::text, count(*) FROM usage_logs GROUP BY 1"
        )
        return dict(rows.all())


def _log(url: str, events: list[dict]) -> None:
    with session_scope(url, write=True) as session:
        analytics.log_events(session, events=events)


@needs_postgres
def test_rows_land_in_their_month_partition(pg, agent):
    now = datetime.now(UTC).replace(microsecond=0)
    _log(pg, [_event(agent, now), _event(agent, now)])
    assert _where(pg) == {partitions.partition_name(THIS_MONTH): 2}
    with get_engine(pg).connect() as connection:
        names = partitions.month_partitions(connection)
    assert list(names) == [partitions.add_months(THIS_MONTH, i) for i in range(4)]


@needs_postgres
def test_inserts_outside_every_month_partition_land_in_the_default_one(pg, agent):
    old = datetime(2001, 3, 4, 5, 6, 7, tzinfo=UTC)
    _log(pg, [_event(agent, old)])
    with get_engine(pg).begin() as connection:  # far in the future: no validation in SQL
        connection.exec_driver_sql(
            "INSERT INTO usage_logs (agent_id, event_type, user_id, tokens_used, "
            "execution_time_ms, created_at) VALUES (%s, 'viewed', '', 0, 0, '2150-01-01')",
            (agent,),
        )
    assert _where(pg) == {"usage_logs_default": 2}

    report = maintain_partitions(url=pg)  # the job gives waiting months their partition
    assert report is not None
    assert report.created == ["usage_logs_y2001m03", "usage_logs_y2150m01"]
    assert report.moved_rows == 2
    assert _where(pg) == {"usage_logs_y2001m03": 1, "usage_logs_y2150m01": 1}
    assert maintain_partitions(url=pg).created == []  # idempotent


@needs_postgres
def test_retention_drops_old_months_and_rollups_keep_their_history(pg, agent):
    old_day = datetime.combine(partitions.add_months(THIS_MONTH, -5), datetime.min.time())
    old_day = old_day.replace(day=10, hour=12, tzinfo=UTC)
    kept_day = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
    _log(pg, [_event(agent, old_day, "a"), _event(agent, old_day, "b"), _event(agent, kept_day)])
    # Queued, not rolled up yet: retention rolls the old day up before dropping its events.
    report = maintain_partitions(url=pg, drop_older_than=2)
    old_month = partitions.partition_name(old_day.date().replace(day=1))
    assert old_month in report.created  # moved out of the default partition, then dropped
    assert old_month in report.dropped
    cutoff = partitions.add_months(THIS_MONTH, -2)
    assert report.retained_since == cutoff
    assert all(name >= partitions.partition_name(cutoff) for name in report.partitions)

    with session_scope(pg) as session:
        events = session.scalar(select(func.count()).select_from(UsageLog))
        metric = session.execute(
            select(DailyMetric.executions, DailyMetric.unique_users).where(
                DailyMetric.date == old_day.date()
            )
        ).one()
        queued = session.scalars(select(RollupQueue.date)).all()
    assert events == 1
    assert tuple(metric) == (2, 2)
    assert all(day >= cutoff for day in queued)

    # Later rollups never recompute across the cutoff: the history stays.
    roll_up(url=pg, all_days=True)
    roll_up(url=pg)
    with pytest.raises(ValidationError, match="dropped"):
        roll_up(url=pg, day=old_day.date())
    with session_scope(pg) as session:
        executions = session.scalar(
            select(DailyMetric.executions).where(DailyMetric.date == old_day.date())
        )
        today = session.scalar(
            select(DailyMetric.executions).where(DailyMetric.date == kept_day.date())
        )
    assert executions == 2
    assert today == 1


@needs_postgres
def test_dry_run_lists_what_would_be_dropped_and_drops_nothing(pg, agent, capsys):
    old = datetime.combine(partitions.add_months(THIS_MONTH, -4), datetime.min.time())
    _log(pg, [_event(agent, old.replace(tzinfo=UTC))])
    maintain_partitions(url=pg)
    assert main(["analytics", "partitions", "--drop-older-than", "1", "--dry-run", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["dropped"] == [partitions.partition_name(old.date())]
    assert sum(_where(pg).values()) == 1


@needs_postgres
def test_migration_keeps_existing_rows_both_ways(pg, agent):
    moments = [datetime(2024, 2, 29, 23, 59, 59, tzinfo=UTC), datetime.now(UTC)]
    _log(pg, [_event(agent, m) for m in moments])
    with session_scope(pg) as session:
        before = session.execute(select(UsageLog.id, UsageLog.created_at).order_by("id")).all()

    command.downgrade(alembic_config(pg), "0013_daily_users")
    try:
        with get_engine(pg).connect() as connection:
            assert not partitions.is_partitioned(connection)
        with session_scope(pg) as session:
            rows = session.execute(select(UsageLog.id, UsageLog.created_at).order_by("id")).all()
            assert rows == before
        _log(pg, [_event(agent, moments[1])])  # the id sequence survived
    finally:
        upgrade_to_head(pg)
    with get_engine(pg).connect() as connection:
        assert partitions.is_partitioned(connection)
    after = _where(pg)
    assert after["usage_logs_y2024m02"] == 1
    assert after[partitions.partition_name(THIS_MONTH)] == 2
    with session_scope(pg) as session:
        ids = session.scalars(select(UsageLog.id).order_by("id")).all()
    assert ids[:2] == [row.id for row in before]
    assert len(set(ids)) == 3


def test_maintenance_is_a_no_op_where_nothing_is_partitioned(db_url, capsys):
    if db_url.startswith("postgresql"):
        pytest.skip("PostgreSQL is partitioned")
    assert maintain_partitions(url=db_url, drop_older_than=1) is None
    assert main(["analytics", "partitions", "--drop-older-than", "2"]) == 0
    assert "not partitioned" in capsys.readouterr().out
    with session_scope(db_url) as session:
        assert partitions.retained_since(session) is None


def test_retention_cutoff_keeps_whole_months():
    assert partitions.retention_cutoff(1, today=date(2026, 3, 31)) == date(2026, 2, 1)
    assert partitions.retention_cutoff(14, today=date(2026, 3, 1)) == date(2025, 1, 1)
    with pytest.raises(ValidationError):
        partitions.retention_cutoff(0)
