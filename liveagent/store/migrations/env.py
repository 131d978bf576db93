"""Alembic environment, driven from `liveagent.store.migrate.upgrade` (no alembic.ini).

On PostgreSQL a transaction-scoped advisory lock serialises concurrent upgrades, so several service
processes starting at once do not race to create the same tables.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context

from liveagent.store.schema import metadata

MIGRATION_LOCK_ID = 74_210_001  # arbitrary, constant: the key of the PostgreSQL advisory lock

config = context.config


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = sa.create_engine(config.get_main_option("sqlalchemy.url"), poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as connection:
            # batch mode lets later migrations ALTER tables on SQLite too
            context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
            with context.begin_transaction():
                if connection.dialect.name == "postgresql":
                    connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_ID})
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
