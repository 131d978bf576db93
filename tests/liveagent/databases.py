"""Databases for store tests that run beside others: a SQLite file, or a PostgreSQL database of their own.

The PostgreSQL server is the one on 127.0.0.1:5432 (trust auth, user postgres). Each caller gets a
database named for it, created empty, so these tests never drop tables another test run is using
in the shared ``test`` database. PostgreSQL being down fails the test: a green run means both
backends were exercised.
"""

from __future__ import annotations

import contextlib
import os
from typing import Any, Callable, Dict, Iterator

import pytest
import sqlalchemy as sa

PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"


def _admin() -> sa.engine.Engine:
    return sa.create_engine(PG_ADMIN_URL, poolclass=sa.pool.NullPool, isolation_level="AUTOCOMMIT",
                            connect_args={"connect_timeout": 5})


@contextlib.contextmanager
def postgres_database(name: str) -> Iterator[str]:
    """An empty database ``lumo_<name>_<pid>`` for the duration; yields its asyncpg URL."""
    database = f"lumo_{name}_{os.getpid()}"
    engine = _admin()
    try:
        with engine.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
            connection.execute(sa.text(f'CREATE DATABASE "{database}"'))
    except sa.exc.OperationalError as error:
        engine.dispose()
        pytest.fail(f"PostgreSQL is not reachable at {PG_ADMIN_URL}; start it (trust auth): {error}")
    try:
        yield f"postgresql+asyncpg://postgres@127.0.0.1:5432/{database}"
    finally:
        with engine.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        engine.dispose()


def service_database(name: str, fixture_name: str = "database_env") -> Callable[..., Any]:
    """A fixture ``fixture_name`` for the service's environment, over both backends: SQLite (``{}``: the
    service fixture's own file) and a PostgreSQL database ``name`` of its own (marked ``postgres``)."""

    @pytest.fixture(name=fixture_name, params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
    def database(request: Any) -> Iterator[Dict[str, str]]:
        if request.param == "sqlite":
            yield {}
            return
        with postgres_database(name) as url:
            yield {"LIVEAGENT_DATABASE_URL": url}

    return database
