"""SQLite for the async engine with one trip to the connection's thread per statement.

SQLAlchemy's aiosqlite adapter makes four trips per statement (open a cursor, execute, fetch,
close), each a hand-over to aiosqlite's thread and back through the event loop; with the
statements of a transaction (BEGIN, the work, COMMIT) that was most of the service's CPU time per
visitor message. This adapter runs the four steps as one function on the same thread, so every
SQLite call still happens off the event loop, on the connection's own thread, in the same order.
The engine's BEGIN (store.make_engine) waits for the transaction's first statement and goes with
it (``begin_with_next``); a transaction that ran no statement ends without a trip.
The hottest write (a message and its conversation's timestamps) goes further: `Prepared`
statements, compiled once by SQLAlchemy, run with the transaction's BEGIN and COMMIT in a single
trip (`OneTripConnection.run_transaction`).
Passed to ``create_async_engine(..., module=dbapi())`` for ``sqlite+aiosqlite`` URLs.
"""

from __future__ import annotations

import sqlite3
from typing import Any, List, Mapping, Optional, Sequence, Tuple

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import ClauseElement
from sqlalchemy.util.concurrency import await_only

Outcome = Tuple[Optional[Sequence[Any]], List[Any], int, int]  # description, rows, lastrowid, rowcount


class RowcountMismatch(LookupError):
    """A step of `OneTripConnection.run_transaction` changed another number of rows than it expected;
    the transaction was rolled back."""


class Prepared:
    """An INSERT or UPDATE compiled once for SQLite, bound with SQLAlchemy's own type processing
    (the column types' bind processors: UTC datetimes as text, JSON as text), so a row written
    through it is the row SQLAlchemy would have written."""

    def __init__(self, statement: ClauseElement, dialect: Dialect, keys: Sequence[str]) -> None:
        compiled = statement.compile(dialect=dialect, column_keys=list(keys))
        self.sql = compiled.string
        self._compiled = compiled
        processors = compiled._bind_processors  # noqa: SLF001 - what SQLAlchemy itself applies per execution
        self._binds = [(name, processors.get(name)) for name in compiled.positiontup]

    def parameters(self, values: Mapping[str, Any]) -> Tuple[Any, ...]:
        bound = self._compiled.construct_params(dict(values))
        return tuple(bound[name] if process is None else process(bound[name]) for name, process in self._binds)


Step = Tuple[str, Tuple[Any, ...], Optional[int]]  # SQL, parameters, the rowcount it must have (or None)


def _run_transaction(connection: sqlite3.Connection, begin: str, steps: Sequence[Step]) -> List[int]:
    """``begin``, every step, COMMIT - or ROLLBACK on an error or a rowcount other than expected."""
    cursor = connection.cursor()
    try:
        cursor.execute(begin)
        lastrowids = []
        for operation, parameters, rowcount in steps:
            cursor.execute(operation, parameters)
            if rowcount is not None and cursor.rowcount != rowcount:
                raise RowcountMismatch(f"{cursor.rowcount} rows changed, not {rowcount}: {operation.split()[0]}")
            lastrowids.append(cursor.lastrowid)
        connection.commit()
        return lastrowids
    except BaseException:
        connection.rollback()
        raise
    finally:
        cursor.close()


def _run(connection: sqlite3.Connection, begin: Optional[str], operation: str, parameters: Any) -> Outcome:
    """One statement, start to finish (after ``begin``, when the transaction starts with it), on the
    connection's thread."""
    cursor = connection.cursor()
    try:
        if begin:
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

    async def run_transaction(self, steps: Sequence[Step]) -> List[int]:
        """The whole of the SQLAlchemy transaction just begun, in one trip; the lastrowid of each step.

        Called first thing inside ``engine.begin()`` (its BEGIN is still pending) and nothing else
        runs in that transaction: the COMMIT or ROLLBACK SQLAlchemy sends at its end finds nothing
        left to do. Raises `RowcountMismatch` or the SQLite error, translated like SQLAlchemy's
        adapter does, after rolling back.
        """
        begin, self.pending_begin = self.pending_begin, None
        if begin is None:
            raise RuntimeError("run_transaction must be the first thing a transaction does")
        connection: aiosqlite.Connection = self._connection
        try:
            return await connection._execute(_run_transaction, connection._conn, begin, steps)  # noqa: SLF001
        except RowcountMismatch:
            raise
        except Exception as error:  # noqa: BLE001 - translated like SQLAlchemy's own adapter does
            self._handle_exception(error)
            raise
        finally:
            self.pending_begin = ""  # SQLAlchemy's COMMIT or ROLLBACK: nothing is open any more

    def begin_with_next(self, statement: str) -> None:
        """``statement`` (BEGIN or BEGIN IMMEDIATE) runs right before the next one, in the same trip."""
        self.pending_begin = statement

    def rollback(self) -> None:
        if self.pending_begin is not None:  # nothing ran (or run_transaction ended it): nothing to end
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
