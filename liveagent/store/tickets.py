"""Persistence of tickets: contact requests left when no agent could take the conversation.

Shares the service's engine (``Store.tickets``).
"""

from __future__ import annotations

import datetime as dt
from typing import List, Optional, Tuple

import sqlalchemy as sa

from liveagent.store.engine import Repository, build
from liveagent.store.reconnect import survives_reconnects
from liveagent.store.records import Ticket
from liveagent.store.schema import tickets


@survives_reconnects
class Tickets(Repository):
    """Tickets, oldest first; the newest-first pages for the console."""

    async def create(
        self,
        conversation_id: Optional[str],
        name: str,
        contact: str,
        message: str,
        *,
        customer_id: Optional[str] = None,
        now: Optional[dt.datetime] = None,
    ) -> Ticket:
        """A contact request; ``customer_id`` only for a customer whose identity was verified."""
        async with self._writer.begin() as conn:
            result = await conn.execute(
                tickets.insert().values(
                    conversation_id=conversation_id,
                    name=name,
                    contact=contact,
                    message=message,
                    customer_id=customer_id,
                    created_at=now or self._clock(),
                )
            )
            ticket_id = result.inserted_primary_key[0]
            return build(Ticket, (await conn.execute(sa.select(tickets).where(tickets.c.id == ticket_id))).one())

    async def list(self, unhandled_only: bool = False) -> List[Ticket]:
        query = sa.select(tickets).order_by(tickets.c.id)
        if unhandled_only:
            query = query.where(tickets.c.handled_at.is_(None))
        async with self._engine.connect() as conn:
            return [build(Ticket, row) for row in await conn.execute(query)]

    async def page(
        self, limit: int, before: Optional[int] = None, unhandled_only: bool = False
    ) -> Tuple[List[Ticket], Optional[int]]:
        """At most ``limit`` tickets, newest first, with ids below ``before``; and the ``before`` of
        the next page (None on the last one)."""
        query = sa.select(tickets).order_by(tickets.c.id.desc()).limit(limit + 1)
        if before is not None:
            query = query.where(tickets.c.id < before)
        if unhandled_only:
            query = query.where(tickets.c.handled_at.is_(None))
        async with self._engine.connect() as conn:
            page = [build(Ticket, row) for row in await conn.execute(query)]
        if len(page) > limit:
            return page[:limit], page[limit - 1].id
        return page, None

    async def about(self, conversation_id: str) -> bool:
        """Whether a contact request was left in this conversation (agents may then read it: liveagent/roles.py)."""
        query = sa.select(sa.exists(sa.select(tickets.c.id).where(tickets.c.conversation_id == conversation_id)))
        async with self._engine.connect() as conn:
            return bool((await conn.execute(query)).scalar_one())

    async def count_unhandled(self) -> int:
        query = sa.select(sa.func.count()).select_from(tickets).where(tickets.c.handled_at.is_(None))
        async with self._engine.connect() as conn:
            return int((await conn.execute(query)).scalar_one())

    async def mark_handled(
        self, ticket_id: int, agent_id: int, now: Optional[dt.datetime] = None
    ) -> Optional[Ticket]:
        """Mark a ticket handled (None when it does not exist); a second call keeps the first handler and time."""
        by_id = tickets.c.id == ticket_id
        async with self._writer.begin() as conn:
            await conn.execute(
                tickets.update()
                .where(by_id, tickets.c.handled_at.is_(None))
                .values(handled_by=agent_id, handled_at=now or self._clock())
            )
            row = (await conn.execute(sa.select(tickets).where(by_id))).first()
        return None if row is None else build(Ticket, row)
