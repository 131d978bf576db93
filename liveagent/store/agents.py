"""Persistence of agents: accounts with argon2 password hashes, roles, activation and presence.

The password hash never leaves this module. A change of password or role and a deactivation end
every session of the agent in the same transaction (``AgentSessions.end_agent``, docs/security.md).
Shares the service's engine (``Store.agents``).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any, Dict, List, Optional

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.ext.asyncio import AsyncEngine

from liveagent.store.assignment import hold_assignment_lock
from liveagent.store.engine import Clock, NotFound, Repository, Writer, build, one_of
from liveagent.store.reconnect import survives_reconnects
from liveagent.store.records import Agent
from liveagent.store.schema import PRESENCES, ROLES, agents
from liveagent.store.sessions import AgentSessions

MAX_CAPACITY = 20  # chats at once: more than anyone can follow


@survives_reconnects
class Agents(Repository):
    """Agents, their passwords, roles and presence."""

    def __init__(
        self, engine: AsyncEngine, writer: Writer, clock: Clock, hasher: PasswordHasher, sessions: AgentSessions
    ) -> None:
        super().__init__(engine, writer, clock)
        self._hasher = hasher
        self._sessions = sessions
        self._dummy_hash: Optional[str] = None

    async def create(self, username: str, display_name: str, password: str, role: str = "agent") -> Agent:
        """A new agent (presence offline); ValueError for an unknown role or a taken username."""
        one_of("role", role, ROLES)
        password_hash = await asyncio.to_thread(self._hasher.hash, password)
        values = {"username": username, "display_name": display_name, "password_hash": password_hash, "role": role}
        try:  # the unique constraint decides, so two simultaneous sign-ups cannot both win
            async with self._writer.begin() as conn:
                agent_id = (await conn.execute(agents.insert().values(**values))).inserted_primary_key[0]
                return build(Agent, (await conn.execute(sa.select(agents).where(agents.c.id == agent_id))).one())
        except sa.exc.IntegrityError as error:
            raise ValueError(f"username {username!r} is taken") from error

    def _verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    async def verify_login(self, username: str, password: str, now: Optional[dt.datetime] = None) -> Optional[Agent]:
        """The agent when the password is right and the agent is active, else None.

        Every attempt costs one hash check, also for an unknown username (a dummy hash) and for a
        deactivated agent, so neither the answer nor its timing tells which usernames exist. The
        backoff after failures is liveagent/login_backoff.py's. Hashing runs in a thread to keep the
        event loop responsive.
        """
        async with self._engine.connect() as conn:
            row = (await conn.execute(sa.select(agents).where(agents.c.username == username))).first()
        if row is None:
            if self._dummy_hash is None:
                self._dummy_hash = await asyncio.to_thread(self._hasher.hash, "not-a-real-password")
            await asyncio.to_thread(self._verify, self._dummy_hash, password)
            return None
        ok = await asyncio.to_thread(self._verify, row.password_hash, password)
        if not ok or not row.active:
            return None
        if self._hasher.check_needs_rehash(row.password_hash):
            new_hash = await asyncio.to_thread(self._hasher.hash, password)
            async with self._writer.begin() as conn:
                await conn.execute(agents.update().where(agents.c.id == row.id).values(password_hash=new_hash))
        return build(Agent, row)

    # Changes that end every session of the agent, in the same transaction (docs/security.md).

    async def _change(self, username: str, values: Dict[str, Any], reason: Optional[str]) -> Agent:
        async with self._writer.begin() as conn:
            row = (await conn.execute(sa.select(agents).where(agents.c.username == username))).first()
            if row is None:
                raise NotFound(f"agent {username!r}")
            await conn.execute(agents.update().where(agents.c.id == row.id).values(**values))
            if reason is not None:
                await self._sessions.end_agent(row.id, reason, self._clock(), conn=conn)
            return build(Agent, (await conn.execute(sa.select(agents).where(agents.c.id == row.id))).one())

    async def set_password(self, username: str, password: str) -> Agent:
        """A new password; every session of the agent ends."""
        password_hash = await asyncio.to_thread(self._hasher.hash, password)
        return await self._change(username, {"password_hash": password_hash}, "password")

    async def set_role(self, username: str, role: str) -> Agent:
        """A new role; every session of the agent ends (the next login carries the new rights)."""
        one_of("role", role, ROLES)
        return await self._change(username, {"role": role}, "role")

    async def set_active(self, username: str, active: bool) -> Agent:
        """Deactivating ends every session and refuses logins (presence goes offline); activating allows them."""
        if active:
            return await self._change(username, {"active": True}, None)
        return await self._change(username, {"active": False, "presence": "offline"}, "deactivated")

    async def touch(self, agent_id: int, now: dt.datetime) -> None:
        """Record that the agent's console is alive (a heartbeat) without changing presence."""
        async with self._writer.begin() as conn:
            await conn.execute(agents.update().where(agents.c.id == agent_id).values(last_seen_at=now))

    async def set_presence(self, agent_id: int, presence: str, now: dt.datetime) -> Agent:
        """A new presence, under the assignment lock (store/assignment.py): an automatic assignment
        sees an agent as online or not, never half-way. Coming online clears the count of
        response-time limits missed in a row."""
        one_of("presence", presence, PRESENCES)
        values: Dict[str, Any] = {"presence": presence, "last_seen_at": now}
        if presence == "online":
            values["missed_in_row"] = 0
        async with self._writer.begin() as conn:
            await hold_assignment_lock(conn)
            updated = await conn.execute(agents.update().where(agents.c.id == agent_id).values(**values))
            if updated.rowcount != 1:
                raise NotFound(f"agent {agent_id}")
            return build(Agent, (await conn.execute(sa.select(agents).where(agents.c.id == agent_id))).one())

    async def set_capacity(self, agent_id: int, capacity: int) -> Agent:
        """How many chats the agent may hold at once (0: none), under the assignment lock. A lower
        capacity takes no chat away: the agent gets no new one until below it."""
        if isinstance(capacity, bool) or not isinstance(capacity, int) or not 0 <= capacity <= MAX_CAPACITY:
            raise ValueError(f"capacity must be an integer from 0 to {MAX_CAPACITY}, not {capacity!r}")
        async with self._writer.begin() as conn:
            await hold_assignment_lock(conn)
            updated = await conn.execute(agents.update().where(agents.c.id == agent_id).values(capacity=capacity))
            if updated.rowcount != 1:
                raise NotFound(f"agent {agent_id}")
            return build(Agent, (await conn.execute(sa.select(agents).where(agents.c.id == agent_id))).one())

    async def answered(self, agent_id: int) -> None:
        """The agent wrote to a visitor: their response-time limits missed in a row start again from 0."""
        async with self._writer.begin() as conn:
            await conn.execute(agents.update().where(agents.c.id == agent_id, agents.c.missed_in_row != 0)
                               .values(missed_in_row=0))

    async def get(self, agent_id: int) -> Optional[Agent]:
        async with self._engine.connect() as conn:
            row = (await conn.execute(sa.select(agents).where(agents.c.id == agent_id))).first()
        return None if row is None else build(Agent, row)

    async def list(self, online_only: bool = False) -> List[Agent]:
        query = sa.select(agents).order_by(agents.c.display_name, agents.c.id)
        if online_only:
            query = query.where(agents.c.presence == "online")
        async with self._engine.connect() as conn:
            return [build(Agent, row) for row in await conn.execute(query)]

