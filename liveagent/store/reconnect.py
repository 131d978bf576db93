"""Riding out a database restart: Store calls that lost their connection are tried again.

When PostgreSQL restarts (fail-over, upgrade), every pooled connection dies and, for a few seconds,
new ones are refused. Without this, each visitor or agent message arriving in those seconds would
fail and be lost. Each public coroutine of the decorated class is retried with growing pauses for
up to ``RETRY_SECONDS`` when the error says the connection is gone; any other error is raised at
once. The engine's ``pool_pre_ping`` replaces dead pooled connections on the next checkout.

A retried write runs its whole transaction again. If the database died after committing but
before acknowledging, the write would be applied twice; PostgreSQL restarts end sessions before
they commit, so in practice a retried write was not applied.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import inspect
import logging
import time
from typing import Any, Callable, Type, TypeVar

import sqlalchemy as sa

logger = logging.getLogger(__name__)
RETRY_SECONDS = 30.0
T = TypeVar("T")
_retrying_already: contextvars.ContextVar[bool] = contextvars.ContextVar("store_retrying", default=False)


# SQLSTATE classes that mean "this server is not taking work now": 08 connection exception, 57P01-57P03
# admin/crash shutdown and "cannot connect now" (a restart in progress, which asyncpg raises as
# CannotConnectNowError and SQLAlchemy wraps as a plain DBAPIError).
_GONE_SQLSTATES = ("08", "57P01", "57P02", "57P03")


def connection_lost(error: BaseException) -> bool:
    if isinstance(error, (sa.exc.OperationalError, sa.exc.InterfaceError)):
        return True
    if isinstance(error, sa.exc.DBAPIError):
        if error.connection_invalidated:
            return True
        error = error.orig
    # The driver's own error: wrapped by SQLAlchemy, or raised as it is when the pool opens a new
    # connection to a server that is going down (asyncpg's CannotConnectNowError, 57P03).
    if str(getattr(error, "sqlstate", None) or "").startswith(_GONE_SQLSTATES):
        return True
    return isinstance(error, (ConnectionError, OSError))


def _retrying(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    async def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        if self._engine.dialect.name != "postgresql" or _retrying_already.get():
            return await method(self, *args, **kwargs)
        token = _retrying_already.set(True)
        try:
            return await _with_retries(method, self, *args, **kwargs)
        finally:
            _retrying_already.reset(token)

    return wrapper


async def _with_retries(method: Callable[..., Any], self: Any, *args: Any, **kwargs: Any) -> Any:
    deadline = time.monotonic() + RETRY_SECONDS
    delay = 0.1
    while True:
        try:
            return await method(self, *args, **kwargs)
        except Exception as error:  # noqa: BLE001 - filtered right below
            if not connection_lost(error) or time.monotonic() + delay > deadline:
                raise
            logger.warning("Database connection lost in %s (%s); retrying in %.1f s",
                           method.__name__, type(error).__name__, delay)
            await asyncio.sleep(delay)
            delay = min(2.0, delay * 2)


def survives_reconnects(cls: Type[T]) -> Type[T]:
    """Class decorator: every public coroutine method retries on a lost database connection.

    It applies when the instance's ``_engine`` is PostgreSQL (SQLite has no connection to lose).
    Calls nested inside a retried call are not retried separately.
    """
    for name, member in list(vars(cls).items()):
        if not name.startswith("_") and inspect.iscoroutinefunction(member):
            setattr(cls, name, _retrying(member))
    return cls
