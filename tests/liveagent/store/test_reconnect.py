"""Which database errors count as a lost connection (retried) and which are the caller's own (raised)."""

from __future__ import annotations

import asyncpg
import sqlalchemy as sa

from liveagent.store.reconnect import connection_lost


class DriverError(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(sqlstate)
        self.sqlstate = sqlstate


def wrapped(sqlstate: str) -> sa.exc.DBAPIError:
    return sa.exc.DBAPIError("SELECT 1", {}, DriverError(sqlstate))


def test_a_server_restarting_or_shutting_down_is_a_lost_connection():
    for sqlstate in ("57P03", "57P01", "57P02", "08006", "08001"):
        assert connection_lost(wrapped(sqlstate)), sqlstate


def test_a_new_connection_refused_by_a_server_going_down_is_a_lost_connection():
    # raised by asyncpg as it is (not wrapped by SQLAlchemy) when the pool opens a new connection
    assert connection_lost(asyncpg.exceptions.CannotConnectNowError("the database system is shutting down"))
    assert connection_lost(DriverError("57P01"))
    assert not connection_lost(asyncpg.exceptions.UniqueViolationError("duplicate key"))


def test_errors_of_the_statement_itself_are_not_retried():
    for sqlstate in ("23505", "40001", "42P01", "22P02", ""):
        assert not connection_lost(wrapped(sqlstate)), sqlstate
    assert not connection_lost(ValueError("no"))


def test_operational_errors_and_dropped_sockets_are():
    assert connection_lost(sa.exc.OperationalError("SELECT 1", {}, Exception("gone")))
    assert connection_lost(ConnectionResetError())
