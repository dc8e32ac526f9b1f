"""Usage events, their daily rollups and model prices."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    Double,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import Mapped, mapped_column

from core.models.base import Base
from core.models.types import UTCDateTime, utcnow

# BIGINT primary keys autoincrement on SQLite only as INTEGER.
BigId = BigInteger().with_variant(Integer, "sqlite")
# Compact per-day sets (daily_totals); MariaDB's BLOB stops at 64 KiB.
Blob = LargeBinary().with_variant(mysql.LONGBLOB(), "mysql", "mariadb")

EVENT_TYPES = ("created", "executed", "viewed", "deleted")


class UsageLog(Base):
    __tablename__ = "usage_logs"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agent_configs.id", ondelete="CASCADE"))
    event_type: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[str] = mapped_column(String(255), default="")
    model_name: Mapped[str | None] = mapped_column(String(120))
    tokens_used: Mapped[int] = mapped_column(Integer, default=0)
    execution_time_ms: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        # Covers range scans for unique users and p95 over a date range (no table lookups).
        Index(
            "ix_usage_logs_created_covering",
            "created_at",
            "event_type",
            "execution_time_ms",
            "user_id",
        ),
        Index("ix_usage_logs_agent_created", "agent_id", "created_at"),
    )


class DailyMetric(Base):
    __tablename__ = "daily_metrics"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    date: Mapped[date] = mapped_column(Date)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agent_configs.id", ondelete="CASCADE"))
    executions: Mapped[int] = mapped_column(Integer, default=0)
    views: Mapped[int] = mapped_column(Integer, default=0)
    creations: Mapped[int] = mapped_column(Integer, default=0)
    deletions: Mapped[int] = mapped_column(Integer, default=0)
    total_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    unique_users: Mapped[int] = mapped_column(Integer, default=0)
    # Exact sum of execution times: averages over any range are sums over counts.
    total_execution_ms: Mapped[int] = mapped_column(BigInteger, default=0)
    avg_execution_ms: Mapped[float | None] = mapped_column(Double)
    p95_execution_ms: Mapped[float | None] = mapped_column(Double)
    cost_usd: Mapped[Decimal] = mapped_column(Numeric(18, 6), default=Decimal(0))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    __table_args__ = (UniqueConstraint("date", "agent_id", name="uq_daily_metrics_date_agent"),)


class DailyModelMetric(Base):
    """Executions per (date, agent, model): cost per model and the per-model daily series."""

    __tablename__ = "daily_model_metrics"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    date: Mapped[date] = mapped_column(Date)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agent_configs.id", ondelete="CASCADE"))
    model_name: Mapped[str] = mapped_column(String(120))
    executions: Mapped[int] = mapped_column(Integer, default=0)
    total_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    total_execution_ms: Mapped[int] = mapped_column(BigInteger, default=0)
    cost_usd: Mapped[Decimal] = mapped_column(Numeric(18, 6), default=Decimal(0))
    priced: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (
        UniqueConstraint("date", "agent_id", "model_name", name="uq_daily_model_metrics_key"),
        Index("ix_daily_model_metrics_date_model", "date", "model_name"),
        # A range's unpriced models without reading its priced rows (summary, 0015).
        Index("ix_daily_model_metrics_unpriced", "priced", "date", "model_name"),
    )


class DailyAgentUserSet(Base):
    """Who used an agent on a day, compactly: one row per (UTC date, agent) with identified
    users, holding their number and, zlib-compressed JSON (core.analytics.agent_sets), each
    distinct non-empty user with that user's event count. Filled by the rollup: exact unique
    users and top users over any range of closed days without reading the events."""

    __tablename__ = "daily_agent_user_sets"

    date: Mapped[date] = mapped_column(Date, primary_key=True)
    agent_id: Mapped[int] = mapped_column(
        ForeignKey("agent_configs.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    users: Mapped[int] = mapped_column(Integer)
    user_set: Mapped[bytes] = mapped_column(Blob)


class DailyTotal(Base):
    """Per UTC day across all agents: the figures a sum of agent rows cannot give (a user of
    two agents counts once; p95 of all the day's executions). Filled by the rollup."""

    __tablename__ = "daily_totals"

    date: Mapped[date] = mapped_column(Date, primary_key=True)
    unique_users: Mapped[int] = mapped_column(Integer, default=0)
    p95_execution_ms: Mapped[float | None] = mapped_column(Double)
    # analytics.day_sets: the day's distinct users and slowest times (NULL: rolled up before).
    user_set: Mapped[bytes | None] = mapped_column(Blob)
    slow_times: Mapped[bytes | None] = mapped_column(Blob)
    slow_floor: Mapped[int | None] = mapped_column(Integer)


class RollupQueue(Base):
    """Dates with events not yet rolled up; `version` grows with every batch that touches one."""

    __tablename__ = "analytics_rollup_queue"

    date: Mapped[date] = mapped_column(Date, primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, default=1)


class ModelPrice(Base):
    """USD per 1K tokens for a model name or a glob pattern (`gpt-4o*`), from a date on."""

    __tablename__ = "model_prices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_pattern: Mapped[str] = mapped_column(String(120))
    usd_per_1k_tokens: Mapped[Decimal] = mapped_column(Numeric(12, 6))
    effective_from: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("model_pattern", "effective_from", name="uq_model_prices_pattern_from"),
    )


class RecentAgentUser(Base):
    """Who used each agent on the closed days of the last VIEW windows (agent 0: any agent),
    with the last such day: exact unique users of any range ending today that starts inside
    them. Rebuilt by core.analytics.windows when the rollup job closes a day."""

    __tablename__ = "analytics_recent_users"

    agent_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    user_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    last_day: Mapped[date] = mapped_column(Date)


class WindowFigures(Base):
    """The closed days of a default view (first_day..last_day, last_day = yesterday) per agent
    (agent 0: all agents): executions, unique users, p95 and the top of the execution times
    (`tail`: "ms:count" pairs, largest first) so today's events merge in for the exact p95."""

    __tablename__ = "analytics_window_figures"

    first_day: Mapped[date] = mapped_column(Date, primary_key=True)
    agent_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_day: Mapped[date] = mapped_column(Date)
    executions: Mapped[int] = mapped_column(Integer, default=0)
    unique_users: Mapped[int] = mapped_column(Integer, default=0)
    p95_execution_ms: Mapped[float | None] = mapped_column(Double)
    tail: Mapped[str] = mapped_column(Text, default="")


class DayLatency(Base):
    """A closed UTC day's exact p50/p95 execution time per agent (agent 0: all agents; its row
    exists for every built day, executions 0 when none): the Analytics latency chart without
    reading the events. Built by core.analytics.day_latency for the last 90 closed days."""

    __tablename__ = "analytics_day_latency"

    date: Mapped[date] = mapped_column(Date, primary_key=True)
    agent_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    executions: Mapped[int] = mapped_column(Integer, default=0)
    p50_execution_ms: Mapped[float | None] = mapped_column(Double)
    p95_execution_ms: Mapped[float | None] = mapped_column(Double)


class WindowUser(Base):
    """Each user's events (all agents) on a default view's closed days (first_day..yesterday):
    the top-users ranking of the view without reading a month of daily_agent_user_sets."""

    __tablename__ = "analytics_window_users"

    first_day: Mapped[date] = mapped_column(Date, primary_key=True)
    user_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    events: Mapped[int] = mapped_column(Integer)
