"""Persistence of agent sessions: one row per login, so a session can end before its cookie expires.

The cookie carries a random session id; the table keeps only its SHA-256, so reading the table
does not hand out live sessions. A session is live while it has not ended, its absolute lifetime
has not passed, it has been used within the idle timeout and its agent is active. Logout, a
password change, a role change and deactivation end every session of the agent (``end_agent``),
in the same transaction as the change when there is one. Shares the service's engine
(``Store.sessions``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Iterable, Optional, Set

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from liveagent.store.engine import Repository
from liveagent.store.reconnect import survives_reconnects
from liveagent.store.schema import SESSION_END_REASONS, agent_sessions, agents

KEEP_ENDED = dt.timedelta(days=1)  # ended and expired rows are deleted after this (prune)


def digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


@survives_reconnects
class AgentSessions(Repository):
    async def start(self, agent_id: int, lifetime: dt.timedelta, now: Optional[dt.datetime] = None) -> str:
        """A new session of ``agent_id``; returns its id (for the cookie only)."""
        now = now or self._clock()
        session_id = secrets.token_urlsafe(32)
        async with self._writer.begin() as conn:
            await conn.execute(agent_sessions.insert().values(
                id=digest(session_id), agent_id=agent_id, created_at=now, last_seen_at=now,
                expires_at=now + lifetime))
        return session_id

    async def check(self, session_id: str, agent_id: int, idle: dt.timedelta, touch_after: dt.timedelta,
                    now: Optional[dt.datetime] = None) -> bool:
        """Whether the session is live for ``agent_id``; marks it used (at most once per ``touch_after``).

        A session found idle, past its lifetime or of a deactivated agent is ended here, so it stays
        ended even if the idle timeout is raised or the agent activated later.
        """
        now = now or self._clock()
        key = digest(session_id)
        query = (sa.select(agent_sessions, agents.c.active)
                 .select_from(agent_sessions.join(agents, agents.c.id == agent_sessions.c.agent_id))
                 .where(agent_sessions.c.id == key))
        async with self._engine.connect() as conn:
            row = (await conn.execute(query)).first()
        if row is None or row.agent_id != agent_id or row.ended_at is not None:
            return False
        reason = ("deactivated" if not row.active else "expired" if row.expires_at <= now
                  else "idle" if now - row.last_seen_at > idle else None)
        if reason is not None:
            async with self._writer.begin() as conn:
                await conn.execute(agent_sessions.update()
                                   .where(agent_sessions.c.id == key, agent_sessions.c.ended_at.is_(None))
                                   .values(ended_at=now, end_reason=reason))
            return False
        if now - row.last_seen_at >= touch_after:
            async with self._writer.begin() as conn:
                await conn.execute(agent_sessions.update().where(agent_sessions.c.id == key)
                                   .values(last_seen_at=now))
        return True

    async def live(self, session_ids: Iterable[str], idle: dt.timedelta,
                   now: Optional[dt.datetime] = None) -> Set[str]:
        """Of ``session_ids``, the ones still live (read only: for sockets that send nothing)."""
        now = now or self._clock()
        by_digest = {digest(session_id): session_id for session_id in session_ids}
        if not by_digest:
            return set()
        s = agent_sessions.c
        query = (sa.select(s.id)
                 .select_from(agent_sessions.join(agents, agents.c.id == s.agent_id))
                 .where(s.id.in_(list(by_digest)), s.ended_at.is_(None), s.expires_at > now,
                        s.last_seen_at >= now - idle, agents.c.active.is_(True)))
        async with self._engine.connect() as conn:
            return {by_digest[key] for key in (await conn.execute(query)).scalars()}

    async def end(self, session_id: str, reason: str, now: Optional[dt.datetime] = None) -> None:
        async with self._writer.begin() as conn:
            await conn.execute(agent_sessions.update()
                               .where(agent_sessions.c.id == digest(session_id), agent_sessions.c.ended_at.is_(None))
                               .values(ended_at=now or self._clock(), end_reason=_reason(reason)))

    async def end_agent(self, agent_id: int, reason: str, now: Optional[dt.datetime] = None,
                        conn: Optional[AsyncConnection] = None) -> int:
        """Ends every open session of the agent; returns how many. Inside ``conn``'s transaction if given."""
        statement = (agent_sessions.update()
                     .where(agent_sessions.c.agent_id == agent_id, agent_sessions.c.ended_at.is_(None))
                     .values(ended_at=now or self._clock(), end_reason=_reason(reason)))
        if conn is not None:
            return (await conn.execute(statement)).rowcount
        async with self._writer.begin() as own:
            return (await own.execute(statement)).rowcount

    async def prune(self, now: Optional[dt.datetime] = None) -> int:
        """Deletes sessions that ended or expired more than KEEP_ENDED ago."""
        before = (now or self._clock()) - KEEP_ENDED
        s = agent_sessions.c
        async with self._writer.begin() as conn:
            result = await conn.execute(agent_sessions.delete().where(
                sa.or_(s.ended_at < before, s.expires_at < before)))
        return result.rowcount


def _reason(reason: str) -> str:
    if reason not in SESSION_END_REASONS:
        raise ValueError(f"unknown session end reason {reason!r}")
    return reason
