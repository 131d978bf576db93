"""The database engine the repositories share: SQLite/PostgreSQL specifics, the one writer, the errors.

Every repository (conversations, messages, agents, canned replies, tickets, sessions, logins, audit,
content, retention) derives from `Repository`, so they all hold the same engine, `Writer` and clock
and build their frozen records from rows the same way. This module imports no repository, so none
of them needs to import the `Store` that assembles them.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import enum
import functools
import typing
from dataclasses import fields
from typing import (
    Any,
    AsyncIterator,
    Callable,
    Dict,
    Iterable,
    List,
    Mapping,
    Optional,
    Sequence,
    Tuple,
    Type,
    TypeVar,
    Union,
)

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Row, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import AsyncAdaptedQueuePool

from liveagent.store.sqlite_driver import Lane, OneTripConnection, Step, dbapi

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///var/liveagent.sqlite"
SQLITE_POOL_SIZE = 8
_WRITE = "liveagent_write"  # execution option: on SQLite such transactions start with BEGIN IMMEDIATE
_READ = "liveagent_read"  # execution option: on SQLite such connections read without a transaction
# synchronous=NORMAL: in WAL mode a commit survives the service crashing and the file is never corrupted;
# only a power cut or an OS crash can lose the last commits. It saves an fsync on every write, on the path
# of every answer (PostgreSQL is the store when that matters: docs/deploy.md).
SQLITE_PRAGMAS = ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON", "busy_timeout=10000")

Clock = Callable[[], dt.datetime]
T = TypeVar("T")


class NotFound(LookupError):
    """The conversation, agent, reply or ticket does not exist."""


class ConcurrentUpdate(RuntimeError):
    """A transition lost the optimistic-locking race more times than is plausible."""


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


@functools.lru_cache(maxsize=None)
def _enum_fields(cls: type) -> Tuple[Tuple[str, Type[enum.Enum]], ...]:
    """The fields of a record dataclass typed with an Enum (e.g. a conversation's state)."""
    hints = typing.get_type_hints(cls)
    return tuple(
        (f.name, hints[f.name])
        for f in fields(cls)
        if isinstance(hints[f.name], type) and issubclass(hints[f.name], enum.Enum)
    )


def build(cls: Type[T], row: Union[Row, Mapping[str, Any]]) -> T:
    """The record `cls` (a frozen dataclass) from a row holding a column for each of its fields (a
    SQLAlchemy row, or a `Prepared` statement's row by column name).

    Enum-typed fields (states, transitions) are converted from the stored strings."""
    columns = row._mapping if isinstance(row, Row) else row
    values = {f.name: columns[f.name] for f in fields(cls)}  # type: ignore[arg-type]
    for name, kind in _enum_fields(cls):
        values[name] = kind(values[name])
    return cls(**values)


def one_of(name: str, value: str, allowed: Iterable[str]) -> str:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(allowed)}, not {value!r}")
    return value


def make_engine(database_url: str = DEFAULT_DATABASE_URL) -> AsyncEngine:
    """An AsyncEngine; for SQLite with WAL, foreign keys, a busy timeout and explicit transactions.

    pysqlite's own implicit BEGIN is switched off and the engine emits BEGIN itself: write
    transactions (`Writer`) use BEGIN IMMEDIATE, so two writers queue on the busy timeout instead of
    failing when one's read snapshot turns stale. The repositories' reads (`Repository`, an engine
    with ``_READ``) run without a transaction, each statement on its own snapshot: what PostgreSQL's
    default READ COMMITTED gives the same code, at one trip to the connection's thread per
    statement instead of two. Other transactions (``engine.begin()``) BEGIN as usual.
    """
    options: Dict[str, Any] = {}
    if make_url(database_url).get_backend_name() == "sqlite":
        # SQLAlchemy 1.4 gives file SQLite a NullPool: a new connection, aiosqlite thread and
        # PRAGMAs for every query (most of the service's ~30 ms per message, measured). A
        # pool keeps them; WAL lets the pooled readers run beside the one writer.
        options = {"poolclass": AsyncAdaptedQueuePool, "pool_size": SQLITE_POOL_SIZE, "max_overflow": 0}
        if make_url(database_url).get_driver_name() == "aiosqlite":  # one thread trip per statement, not four
            options["module"] = dbapi()
    else:  # a restarted PostgreSQL leaves dead connections in the pool: test each at checkout
        options = {"pool_pre_ping": True}
    engine = create_async_engine(database_url, **options)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine.sync_engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            for pragma in SQLITE_PRAGMAS:
                cursor.execute(f"PRAGMA {pragma}")
            cursor.close()

        @event.listens_for(engine.sync_engine, "begin")
        def _on_begin(connection: Any) -> None:
            adapted = connection.connection.dbapi_connection
            options = connection.get_execution_options()
            if options.get(_READ):
                # A repository's read: each statement on its own snapshot, as in PostgreSQL's default
                # READ COMMITTED; no BEGIN, so nothing to end when the connection goes back to the pool.
                return
            begin = "BEGIN IMMEDIATE" if options.get(_WRITE) else "BEGIN"
            if isinstance(adapted, OneTripConnection):
                adapted.begin_with_next(begin)  # in the same trip as the transaction's first statement
            else:
                connection.exec_driver_sql(begin)

    return engine


def make_lane(engine: AsyncEngine) -> Optional[Lane]:
    """The hot statements' own connection (sqlite_driver.Lane) for a SQLite file through aiosqlite; None
    for PostgreSQL (its pool is cheap to use) and in-memory SQLite (a second connection is another
    database)."""
    url = engine.url
    if url.get_backend_name() != "sqlite" or url.get_driver_name() != "aiosqlite":
        return None
    if not url.database or url.database == ":memory:" or url.database.startswith("file:"):
        return None
    return Lane(url.database, SQLITE_PRAGMAS)


class Writer:
    """Opens write transactions (BEGIN IMMEDIATE on SQLite); on SQLite one at a time per process.

    SQLite has one writer at a time. Left to SQLite, a second writer sleeps in its busy handler
    and retries at growing intervals (up to 100 ms a try), so under load some writes wait far
    longer than others; an asyncio lock queues them in arrival order instead. PostgreSQL
    writes run concurrently. ``lane``: SQLite's connection for the hot statements (`make_lane`),
    whose writes queue on the same lock.
    """

    def __init__(self, engine: AsyncEngine, lane: Optional[Lane] = None) -> None:
        self._engine = engine.execution_options(**{_WRITE: True})
        self._lock = asyncio.Lock() if engine.dialect.name == "sqlite" else None
        self.lane = lane

    async def run_on_lane(self, steps: Sequence[Step]) -> List[int]:
        """``steps`` as one write transaction on the lane, in line with every other write (SQLite only)."""
        if self.lane is None:
            raise RuntimeError("run_on_lane needs SQLite's lane")
        async with self._lock:  # type: ignore[union-attr] - a lane exists only on SQLite, which has the lock
            return await self.lane.transaction("BEGIN IMMEDIATE", steps)

    async def close(self) -> None:
        """Closes the lane (the pool's connections close with the engine)."""
        if self.lane is not None:
            await self.lane.close()

    @contextlib.asynccontextmanager
    async def begin(self) -> AsyncIterator[AsyncConnection]:
        if self._lock is None:
            async with self._engine.begin() as conn:
                yield conn
            return
        async with self._lock, self._engine.begin() as conn:
            yield conn


class Repository:
    """Base of the repositories: the engine they read with, the writer they write with, their clock.

    Subclasses are decorated with `reconnect.survives_reconnects`, which reads `_engine`.
    """

    def __init__(self, engine: AsyncEngine, writer: Writer, clock: Clock = utcnow) -> None:
        self._engine = engine.execution_options(**{_READ: True})  # reads only: writes go through the writer
        self._writer = writer
        self._lane = writer.lane  # SQLite: the hot statements' own connection; None on PostgreSQL
        self._clock = clock

    def _insert(self, table: sa.Table) -> Any:
        """An INSERT that supports ON CONFLICT on both backends."""
        dialect = postgresql if self._engine.dialect.name == "postgresql" else sqlite
        return dialect.insert(table)
