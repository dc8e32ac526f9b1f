"""One settings object for the whole application, read from the environment and `.env`."""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent

CsvList = Annotated[list[str], NoDecode]


def _split_csv(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class Settings(BaseSettings):
    """Every configurable value; names match the environment variables in DESIGN.md."""

    model_config = SettingsConfigDict(
        env_file=PROJECT_ROOT / ".env", env_file_encoding="utf-8", extra="ignore"
    )

    database_url: str = "sqlite:///data/agent_registry.db"
    sql_echo: bool = False

    jira_base_url: str = ""
    jira_email: str = ""
    jira_api_token: str = Field(default="", repr=False)
    jira_project_key: str = "AGENT"
    jira_webhook_secret: str = Field(default="", repr=False)
    jira_issue_type: str = "Task"
    jira_approved_statuses: CsvList = ["Approved"]
    jira_rejected_statuses: CsvList = ["Rejected"]
    jira_cancelled_statuses: CsvList = ["Cancelled"]
    jira_timeout_seconds: float = 10.0
    # Client retries on 429/5xx/connection errors: backoff base (1 s → 2 s → 4 s) and count.
    jira_retry_base_seconds: float = 1.0
    jira_max_retries: int = 3
    # Outbox (issue creation, attachments, comments owed to Jira): first retry delay, doubling.
    jira_outbox_retry_seconds: float = 30.0
    # After an issue creation whose answer was lost: how long the outbox searches for the
    # issue (with back-off; Jira's search lags behind writes) before it would create again.
    jira_reconcile_seconds: float = 600.0
    # Webhook processing retries (1 s → 2 s → 4 s, then the event is `failed`).
    webhook_retry_base_seconds: float = 1.0
    webhook_max_retries: int = 3
    webhook_allow_unsigned: bool = False
    max_content_length: int = 10 * 1024 * 1024
    # Deepest JSON nesting accepted in a request body (400 above).
    max_json_depth: int = Field(default=32, ge=2, le=512)
    # SQLite waits this long for a lock before giving up (the HTTP answer is then 503).
    sqlite_busy_timeout_ms: int = Field(default=30_000, ge=0)
    # Usage events: created_at must lie between this date and this far after now.
    analytics_earliest_event: date = date(2000, 1, 1)
    analytics_max_future_seconds: int = Field(default=86_400, ge=0)
    # PostgreSQL (usage_logs partitioned by month): keep this many whole months of events
    # before the current one (unset: keep everything; rollups keep every day's figures), and
    # create month partitions this many months ahead.
    analytics_retention_months: int | None = Field(default=None, ge=1)
    analytics_partitions_ahead: int = Field(default=3, ge=0, le=120)

    dashboard_url: str = ""
    # Dashboard login sessions: the cookie's signing key (a random one is kept in
    # data/session_secret when unset; set it when several dashboard processes share a database)
    # and how long a login lasts.
    session_secret: str = Field(default="", repr=False)
    session_hours: float = Field(default=12.0, gt=0)
    deploy_webhook_url: str = ""
    deploy_webhook_secret: str = Field(default="", repr=False)

    embedding_backend: str = "tfidf"
    embedding_model: str = "sentence-transformers/all-MiniLM-L6-v2"
    # Hybrid score = w x semantic cosine + (1 - w) x lexical cosine (sentence-transformers).
    search_semantic_weight: float = Field(default=0.5, ge=0.0, le=1.0)
    # Refit the TF-IDF weights once this share of the agents changed since the last fit.
    search_refit_ratio: float = Field(default=0.1, gt=0.0, le=1.0)
    # pgvector HNSW candidate list size per query (higher: better recall, slower).
    search_hnsw_ef_search: int = Field(default=100, ge=1, le=1000)
    # Status-aware order: approved and production agents rank by similarity x (1 + boost).
    search_status_boost: float = Field(default=0.1, ge=0.0, le=1.0)
    # Re-score the best 30 candidates with the learned re-rank (core/search/rerank.py).
    search_rerank: bool = True
    # Never let Hugging Face libraries reach the network; models come from disk.
    hf_hub_offline: bool = True

    demo_password: str = Field(default="demo", repr=False)
    port: int = 5001

    _split = field_validator(
        "jira_approved_statuses", "jira_rejected_statuses", "jira_cancelled_statuses", mode="before"
    )(_split_csv)

    @property
    def jira_enabled(self) -> bool:
        return bool(self.jira_base_url)

    @property
    def sqlalchemy_url(self) -> str:
        """DATABASE_URL normalised to the drivers we ship (PyMySQL, psycopg 3)."""
        return normalise_database_url(self.database_url)


def normalise_database_url(url: str) -> str:
    """Pick our drivers for bare mysql:// and postgres:// URLs; resolve relative SQLite paths."""
    if url.startswith("mysql://") or url.startswith("mariadb://"):
        url = "mysql+pymysql://" + url.split("://", 1)[1]
    if url.startswith("mysql+pymysql://") and "charset=" not in url:
        url += ("&" if "?" in url else "?") + "charset=utf8mb4"
    if url.startswith("postgres://") or url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    if (
        url.startswith("sqlite:///")
        and not url.startswith(("sqlite:////", "sqlite:///file:"))  # file: URIs are left as given
        and ":memory:" not in url
    ):
        relative = url[len("sqlite:///") :]
        url = "sqlite:///" + str(PROJECT_ROOT / relative)
    return url


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


def reset_settings() -> None:
    """Forget cached settings (tests change the environment)."""
    get_settings.cache_clear()
