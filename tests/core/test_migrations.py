"""Migrations from empty to head on every backend, and models that match them exactly."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from core.analytics.partitions import include_in_schema_comparison
from core.db import get_engine
from core.migrate import alembic_config, current_revision, head_revision, upgrade_to_head
from core.models import Base


def test_downgrade_to_empty_then_upgrade_to_head_is_idempotent(db_url):
    command.downgrade(alembic_config(db_url), "base")
    tables = set(inspect(get_engine(db_url)).get_table_names()) - {"alembic_version"}
    assert tables == set()
    assert current_revision(db_url) is None

    assert upgrade_to_head(db_url) == head_revision()
    assert upgrade_to_head(db_url) == head_revision()  # second run is a no-op
    tables = set(inspect(get_engine(db_url)).get_table_names())
    assert set(Base.metadata.tables) <= tables


def test_models_match_migrations(db_url):
    with get_engine(db_url).connect() as connection:
        opts = {"compare_type": True, "include_name": include_in_schema_comparison}
        context = MigrationContext.configure(connection, opts=opts)
        diff = compare_metadata(context, Base.metadata)
    assert diff == []
