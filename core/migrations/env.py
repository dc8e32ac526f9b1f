"""Alembic environment: runs against the engine core.db gives for the configured URL."""

from alembic import context

from core.analytics.partitions import include_in_schema_comparison
from core.db import get_engine
from core.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    url = config.get_main_option("sqlalchemy.url") or None
    engine = get_engine(url)
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # Batch operations copy a table and DROP the old one; with foreign keys on, that
            # DROP cascade-deletes every row referencing it (e.g. all history of agent_configs).
            # The pragma only takes effect outside a transaction: set it on the driver.
            _sqlite_foreign_keys(connection, on=False)
        try:
            context.configure(
                connection=connection,
                target_metadata=target_metadata,
                render_as_batch=sqlite,
                compare_type=True,
                include_name=include_in_schema_comparison,
            )
            with context.begin_transaction():
                context.run_migrations()
            connection.commit()
        finally:
            if sqlite:
                _sqlite_foreign_keys(connection, on=True)


def _sqlite_foreign_keys(connection, *, on: bool) -> None:  # noqa: ANN001
    connection.connection.driver_connection.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; run `python -m core init-db`")
run_migrations_online()
