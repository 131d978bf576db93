"""The Store: the one object the service opens and closes, holding the engine and the repositories.

Each repository owns one kind of data (``store.conversations``, ``store.messages``, ``store.agents``,
``store.canned``, ``store.tickets``, ``store.sessions``, ``store.logins``, ``store.audit``,
``store.content``, ``store.retention``, ``store.insights``, ``store.feedback``,
``store.suggestions``; ``store.overview`` reads across them for the console); all of them share one
engine, one `Writer` and one clock (liveagent/store/engine.py). Nothing here runs SQL of its own.
"""

from __future__ import annotations

import asyncio
from typing import Any, Optional

from argon2 import PasswordHasher
from sqlalchemy.ext.asyncio import AsyncEngine

from liveagent.store.agents import Agents
from liveagent.store.audit import AuditLog
from liveagent.store.canned import CannedReplies
from liveagent.store.content import ContentLog
from liveagent.store.conversations import Conversations
from liveagent.store.engine import DEFAULT_DATABASE_URL, Clock, Writer, make_engine, make_lane, utcnow
from liveagent.store.feedback import AnswerFeedback
from liveagent.store.insights import Insights
from liveagent.store.logins import LoginFailures
from liveagent.store.messages import Messages
from liveagent.store.migrate import upgrade
from liveagent.store.overview import Overview
from liveagent.store.retention import VisitorData
from liveagent.store.sessions import AgentSessions
from liveagent.store.suggestions import Suggestions
from liveagent.store.tickets import Tickets


class Store:
    """All persistence of the live-agent service. Create with `await Store.open(url)`."""

    def __init__(self, engine: AsyncEngine, clock: Clock = utcnow, hasher: Optional[PasswordHasher] = None) -> None:
        self._engine = engine
        self._writer = writer = Writer(engine, make_lane(engine))
        self.conversations = Conversations(engine, writer, clock)
        self.messages = Messages(engine, writer, clock)
        self.sessions = AgentSessions(engine, writer, clock)
        self.agents = Agents(engine, writer, clock, hasher or PasswordHasher(), self.sessions)
        self.canned = CannedReplies(engine, writer, clock)
        self.tickets = Tickets(engine, writer, clock)
        self.logins = LoginFailures(engine, writer, clock)
        self.audit = AuditLog(engine, writer, clock)
        self.content = ContentLog(engine, writer, clock)
        self.retention = VisitorData(engine, writer, clock)
        self.insights = Insights(engine, writer, clock)
        self.suggestions = Suggestions(engine, writer, clock)
        self.overview = Overview(engine, writer, clock)
        self.feedback = AnswerFeedback(engine, writer, clock)

    @classmethod
    async def open(cls, database_url: str = DEFAULT_DATABASE_URL, **options: Any) -> "Store":
        """Migrate the database to the newest schema, then connect (nothing connects at import)."""
        await asyncio.to_thread(upgrade, database_url)
        return cls(make_engine(database_url), **options)

    async def close(self) -> None:
        await self._writer.close()
        await self._engine.dispose()

    @property
    def engine(self) -> AsyncEngine:
        return self._engine
