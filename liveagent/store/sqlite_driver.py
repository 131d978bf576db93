"""SQLite for the async engine with one trip to the connection's thread per statement.

SQLAlchemy's aiosqlite adapter makes four trips per statement (open a cursor, execute, fetch,
close), each a hand-over to aiosqlite's thread and back through the event loop; with the
statements of a transaction (BEGIN, the work, COMMIT) that was most of the service's CPU time per
visitor message. This adapter runs the four steps as one function on the same thread, so every
SQLite call still happens off the event loop, on the connection's own thread, in the same order.
The engine's BEGIN (store.make_engine) waits for the transaction's first statement and goes with
it (``begin_with_next``); a transaction that ran no statement ends without a trip.
Passed to ``create_async_engine(..., module=dbapi())`` for ``sqlite+aiosqlite`` URLs.
"""

from __future__ import annotations

import sqlite3
from typing import Any, List, Optional, Sequence, Tuple

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.util.concurrency import await_only

Outcome = Tuple[Optional[Sequence[Any]], List[Any], int, int]  # description, rows, lastrowid, rowcount


def _run(connection: sqlite3.Connection, begin: Optional[str], operation: str, parameters: Any) -> Outcome:
    """One statement, start to finish (after ``begin``, when the transaction starts with it), on the
    connection's thread."""
    cursor = connection.cursor()
    try:
        if begin is not None:
            cursor.execute(begin)
        cursor.execute(operation, () if parameters is None else parameters)
        if cursor.description:
            return cursor.description, cursor.fetchall(), -1, -1
        return None, [], cursor.lastrowid, cursor.rowcount
    finally:
        cursor.close()


class OneTripCursor(AsyncAdapt_aiosqlite_cursor):
    __slots__ = ()

    def execute(self, operation: str, parameters: Any = None) -> None:
        connection: aiosqlite.Connection = self._connection
        adapted: OneTripConnection = self._adapt_connection
        begin, adapted.pending_begin = adapted.pending_begin, None
        try:
            description, rows, lastrowid, rowcount = self.await_(
                connection._execute(_run, connection._conn, begin, operation, parameters))
        except Exception as error:  # noqa: BLE001 - translated like SQLAlchemy's own adapter does
            self._adapt_connection._handle_exception(error)
            return
        self.description, self._rows, self.lastrowid, self.rowcount = description, rows, lastrowid, rowcount


class OneTripConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ("pending_begin",)

    def __init__(self, dbapi: Any, connection: aiosqlite.Connection) -> None:
        super().__init__(dbapi, connection)
        self.pending_begin: Optional[str] = None

    def begin_with_next(self, statement: str) -> None:
        """``statement`` (BEGIN or BEGIN IMMEDIATE) runs right before the next one, in the same trip."""
        self.pending_begin = statement

    def rollback(self) -> None:
        if self.pending_begin is not None:  # nothing ran: SQLite has no transaction to end
            self.pending_begin = None
            return
        super().rollback()

    def commit(self) -> None:
        if self.pending_begin is not None:
            self.pending_begin = None
            return
        super().commit()

    def cursor(self, server_side: bool = False) -> Any:
        if server_side:
            return super().cursor(server_side=True)
        return OneTripCursor(self)


class OneTripDBAPI(AsyncAdapt_aiosqlite_dbapi):
    def connect(self, *args: Any, **kwargs: Any) -> OneTripConnection:
        kwargs.pop("async_fallback", None)
        kwargs["check_same_thread"] = False  # used only on aiosqlite's thread (see SQLAlchemy's adapter)
        connection = self.aiosqlite.connect(*args, **kwargs)
        connection.daemon = True
        return OneTripConnection(self, await_only(connection))


def dbapi() -> OneTripDBAPI:
    return OneTripDBAPI(aiosqlite, sqlite3)
