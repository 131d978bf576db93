"""SQLite for the async engine with one trip to the connection's thread per statement.

SQLAlchemy's aiosqlite adapter makes four trips per statement (open a cursor, execute, fetch,
close), each a hand-over to aiosqlite's thread and back through the event loop; with the
statements of a transaction (BEGIN, the work, COMMIT) that was most of the service's CPU time per
visitor message. This adapter runs the four steps as one function on the same thread, so each of the
pool's SQLite calls still happens off the event loop, on the connection's own thread, in the same order.
The engine's BEGIN (store.make_engine) waits for the transaction's first statement and goes with
it (``begin_with_next``); ending a transaction when none is open in SQLite (one that ran no
statement, a read, which runs without one, or the pool's reset of a connection given back) costs no trip.
Passed to ``create_async_engine(..., module=dbapi())`` for ``sqlite+aiosqlite`` URLs.

The statements of every visitor message go further (`Lane`): a connection of their own, outside
SQLAlchemy's pool, runs `Prepared` statements (compiled once by SQLAlchemy, with its own type
processing both ways) on the event loop itself, with no trip to a thread: the conversation's row
read, a message and its conversation's timestamps written with BEGIN and COMMIT. Checking a
connection out of the pool and back, SQLAlchemy's execution and result objects, and the trip to a
thread, each cost more than the SQL itself.
"""

from __future__ import annotations

import asyncio
import sqlite3
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple, TypeVar

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
T = TypeVar("T")


class RowcountMismatch(LookupError):
    """A step of `Lane.transaction` changed another number of rows than it expected;
    the transaction was rolled back."""


class Prepared:
    """A statement compiled once for SQLite, bound and read with SQLAlchemy's own type processing (the
    column types' bind and result processors: UTC datetimes as text, JSON as text), so a row written
    through it is the row SQLAlchemy would have written, and a row read the one it would have read."""

    def __init__(self, statement: ClauseElement, dialect: Dialect, keys: Sequence[str] = ()) -> None:
        compiled = statement.compile(dialect=dialect, column_keys=list(keys) or None)
        self.sql = compiled.string
        self._compiled = compiled
        processors = compiled._bind_processors  # noqa: SLF001 - what SQLAlchemy itself applies per execution
        self._binds = [(name, processors.get(name)) for name in compiled.positiontup]
        selected = getattr(statement, "selected_columns", ())
        self._columns = [(column.key, column.type._cached_result_processor(dialect, None))  # noqa: SLF001
                         for column in selected]

    def parameters(self, values: Mapping[str, Any]) -> Tuple[Any, ...]:
        bound = self._compiled.construct_params(dict(values))
        return tuple(bound[name] if process is None else process(bound[name]) for name, process in self._binds)

    def row(self, values: Sequence[Any]) -> Dict[str, Any]:
        """A SELECT's row by column name, each value as SQLAlchemy would return it."""
        return {key: value if process is None else process(value)
                for (key, process), value in zip(self._columns, values, strict=True)}


def on_daemon_thread(connection: aiosqlite.Connection) -> aiosqlite.Connection:
    """``connection`` (not yet awaited) with its thread made a daemon.

    aiosqlite (0.22, pinned) runs each connection on a thread of its own that is not a daemon and ends
    only when the connection is closed or collected: one left open (a store a test never closed, a
    service stopped mid-request) kept the interpreter waiting at exit forever (make test's services group
    hung after its last test, threading._shutdown waiting on `_connection_worker_thread`). Setting the
    connection's own ``daemon`` attribute did nothing since aiosqlite stopped subclassing Thread."""
    connection._thread.daemon = True  # noqa: SLF001 - the thread is made in __init__ and started on await
    return connection


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


# A SQLite error that means "another connection holds what this one needs": nothing was done.
_BUSY = ("database is locked", "database table is locked")
CHECKPOINT_EVERY = 200  # lane commits between two passive checkpoints on the patient connection's thread


def _is_busy(error: sqlite3.OperationalError) -> bool:
    return str(error).startswith(_BUSY)


def _never_waiting(pragmas: Sequence[str]) -> List[str]:
    """The engine's ``pragmas`` for a connection that never waits: its connection settings only (WAL is the
    file's, set by the patient connection), with no busy timeout and no automatic checkpoint."""
    kept = [pragma for pragma in pragmas if not pragma.startswith(("journal_mode", "busy_timeout"))]
    return [*kept, "busy_timeout=0", "wal_autocheckpoint=0"]


def _checkpoint(connection: sqlite3.Connection) -> None:
    connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()


class Lane:
    """A SQLite connection of its own for the statements of every visitor message, run on the event loop.

    Those statements take tens of microseconds. A trip to a connection's thread and back (a queue, a
    wake of the thread, a wake of the event loop) cost more than the statement itself, four times per
    message (bench/REPORT.md, Load). So the lane runs them inline, on a connection that never waits:
    its busy timeout is 0 and it never checkpoints (``wal_autocheckpoint=0``). In WAL mode with
    synchronous=NORMAL those are the only two ways a SQLite call waits on something else (another
    connection's write lock, the disk's fsync); a commit is a write to the log in the page cache.

    - When SQLite answers busy (a write outside the `Writer`'s lock: another process such as
      ``python -m liveagent create-agent``, a migration), the same call goes to the lane's patient
      connection on aiosqlite's thread, which waits with the engine's busy timeout while the event
      loop goes on. Nothing of a refused call was done: a transaction is rolled back whole.
    - Every `CHECKPOINT_EVERY` commits, a passive checkpoint runs on the patient connection's thread,
      so the write-ahead log does not grow without the checkpoints the lane skips.

    Its writes must queue with every other write of the process (the caller holds the `Writer`'s
    lock); its reads run without a transaction, each on its own snapshot, like the repositories'
    reads through the pool. SQLite's errors are raised as sqlite3 raises them.
    """

    def __init__(self, database: str, pragmas: Sequence[str]) -> None:
        self._database = database
        self._pragmas = tuple(pragmas)
        self._connection: Optional[sqlite3.Connection] = None  # inline, on the event loop's thread
        self._patient: Optional[aiosqlite.Connection] = None  # on its own thread, with the busy timeout
        self._opening = asyncio.Lock()
        self._commits = 0
        self._checkpointing: Optional[asyncio.Task] = None

    async def _opened(self) -> sqlite3.Connection:
        if self._connection is None:
            async with self._opening:
                if self._connection is None:
                    # The patient connection first: the engine's pragmas, WAL among them, may wait for a lock.
                    patient = await on_daemon_thread(
                        aiosqlite.connect(self._database, isolation_level=None, check_same_thread=False))
                    for pragma in self._pragmas:
                        await patient.execute(f"PRAGMA {pragma}")
                    self._patient = patient
                    inline = sqlite3.connect(self._database, isolation_level=None, check_same_thread=False)
                    for pragma in _never_waiting(self._pragmas):
                        inline.execute(f"PRAGMA {pragma}")
                    self._connection = inline
        return self._connection

    async def _call(self, function: Callable[..., T], *args: Any) -> T:
        connection = await self._opened()
        try:
            return function(connection, *args)
        except sqlite3.OperationalError as error:
            if not _is_busy(error):
                raise
        patient = self._patient
        assert patient is not None
        return await patient._execute(function, patient._conn, *args)  # noqa: SLF001 - one trip to its thread

    async def fetch(self, query: Prepared, values: Mapping[str, Any]) -> List[Dict[str, Any]]:
        """The rows of the SELECT ``query`` bound with ``values``."""
        _, rows, _, _ = await self._call(_run, None, query.sql, query.parameters(values))
        return [query.row(row) for row in rows]

    async def transaction(self, begin: str, steps: Sequence[Step]) -> List[int]:
        """``begin``, every step, COMMIT (ROLLBACK on an error or `RowcountMismatch`); the lastrowid of
        each step."""
        lastrowids = await self._call(_run_transaction, begin, steps)
        self._commits += 1
        if self._commits % CHECKPOINT_EVERY == 0 and (self._checkpointing is None or self._checkpointing.done()):
            self._checkpointing = asyncio.ensure_future(self._checkpoint())
        return lastrowids

    async def _checkpoint(self) -> None:
        patient = self._patient
        if patient is not None:
            await patient._execute(_checkpoint, patient._conn)  # noqa: SLF001

    async def close(self) -> None:
        if self._checkpointing is not None:
            await asyncio.gather(self._checkpointing, return_exceptions=True)
            self._checkpointing = None
        if self._patient is not None:
            patient, self._patient = self._patient, None
            await patient.close()
        if self._connection is not None:
            connection, self._connection = self._connection, None
            connection.close()


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

    def _nothing_to_end(self) -> bool:
        """Whether no SQLite transaction is open, so a COMMIT or ROLLBACK (SQLAlchemy's at the end of a
        transaction, the pool's reset when the connection goes back) needs no trip: nothing ran since
        the BEGIN, or nothing began one (a read runs without a transaction,
        store.make_engine). sqlite3 answers ``in_transaction`` from the connection's state, without a
        trip; nothing else runs on the connection while SQLAlchemy ends its transaction."""
        if self.pending_begin is not None:
            self.pending_begin = None
            return True
        return not self._connection._conn.in_transaction  # noqa: SLF001 - aiosqlite's sqlite3 connection

    def rollback(self) -> None:
        if not self._nothing_to_end():
            super().rollback()

    def commit(self) -> None:
        if not self._nothing_to_end():
            super().commit()

    def cursor(self, server_side: bool = False) -> Any:
        if server_side:
            return super().cursor(server_side=True)
        return OneTripCursor(self)


class OneTripDBAPI(AsyncAdapt_aiosqlite_dbapi):
    def connect(self, *args: Any, **kwargs: Any) -> OneTripConnection:
        kwargs.pop("async_fallback", None)
        kwargs["check_same_thread"] = False  # used only on aiosqlite's thread (see SQLAlchemy's adapter)
        return OneTripConnection(self, await_only(on_daemon_thread(self.aiosqlite.connect(*args, **kwargs))))


def dbapi() -> OneTripDBAPI:
    return OneTripDBAPI(aiosqlite, sqlite3)
