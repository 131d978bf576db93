"""Persistence of failed logins for the backoff (liveagent/login_backoff.py decides what they mean).

Rows are keyed by a keyed digest the caller computes, so the table holds no typed username and
no client address. A failure count starts again after ``decay`` without failures. Shares the
service's engine (``Store.logins``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Dict, Iterable, Optional

import sqlalchemy as sa

from liveagent.store.engine import Repository
from liveagent.store.reconnect import survives_reconnects
from liveagent.store.schema import login_failures


@dataclass(frozen=True)
class Failures:
    failures: int
    last_failure_at: Optional[dt.datetime]
    succeeded_at: Optional[dt.datetime]


@survives_reconnects
class LoginFailures(Repository):
    async def get(self, keys: Iterable[str]) -> Dict[str, Failures]:
        keys = list(keys)
        query = sa.select(login_failures).where(login_failures.c.key.in_(keys))
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return {row.key: Failures(row.failures, row.last_failure_at, row.succeeded_at) for row in rows}

    async def fail(self, keys: Iterable[str], decay: dt.timedelta, now: Optional[dt.datetime] = None) -> None:
        """One more failure for each key (counting from 1 again when the last one is older than ``decay``)."""
        now = now or self._clock()
        c = login_failures.c
        async with self._writer.begin() as conn:
            for key in keys:
                insert = self._insert(login_failures).values(key=key, failures=1, last_failure_at=now, updated_at=now)
                fresh = sa.or_(c.last_failure_at.is_(None), c.last_failure_at < now - decay)
                await conn.execute(insert.on_conflict_do_update(index_elements=[c.key], set_={
                    "failures": sa.case((fresh, 1), else_=c.failures + 1),
                    "last_failure_at": now, "updated_at": now}))

    async def succeed(self, key: str, now: Optional[dt.datetime] = None) -> None:
        """A right password for this key: its failures are forgotten and it is marked known-good."""
        now = now or self._clock()
        insert = self._insert(login_failures).values(key=key, failures=0, succeeded_at=now, updated_at=now)
        async with self._writer.begin() as conn:
            await conn.execute(insert.on_conflict_do_update(index_elements=[login_failures.c.key], set_={
                "failures": 0, "last_failure_at": None, "succeeded_at": now, "updated_at": now}))

    async def prune(self, keep_failures: dt.timedelta, keep_known_good: dt.timedelta,
                    now: Optional[dt.datetime] = None) -> int:
        """Deletes rows untouched for ``keep_failures`` unless they succeeded within ``keep_known_good``."""
        now = now or self._clock()
        c = login_failures.c
        async with self._writer.begin() as conn:
            result = await conn.execute(login_failures.delete().where(
                c.updated_at < now - keep_failures,
                sa.or_(c.succeeded_at.is_(None), c.succeeded_at < now - keep_known_good)))
        return result.rowcount
