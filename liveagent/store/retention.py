"""Deleting what the service keeps about visitors: the retention purge and per-visitor erasure.

Shares the service's engine (``Store.retention``). A conversation goes with everything that hangs
off it: messages, the answers suggested for them, state events, read marks, tickets (contact requests)
and missed-messages inbox entries. The audit log is not touched (it names conversations by their random id only).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any, Dict, List, Optional, Sequence

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from liveagent.store.engine import Repository
from liveagent.store.reconnect import survives_reconnects
from liveagent.store.schema import (
    answer_feedback,
    conversation_events,
    conversations,
    messages,
    missed_messages,
    read_marks,
    reply_suggestions,
    tickets,
)

BATCH = 200  # conversations per delete transaction: short locks, bounded parameter lists


@dataclass(frozen=True)
class Deleted:
    """How many rows went, per kind."""

    conversations: int = 0
    messages: int = 0
    events: int = 0
    read_marks: int = 0
    tickets: int = 0
    missed: int = 0
    suggestions: int = 0
    audit_entries: int = 0

    def __add__(self, other: "Deleted") -> "Deleted":
        return Deleted(**{name: getattr(self, name) + getattr(other, name) for name in self.__dataclass_fields__})

    def as_dict(self) -> Dict[str, int]:
        return asdict(self)


def _expired(cutoff: dt.datetime) -> Any:
    """Closed or idle since before ``cutoff``: every message and transition moves ``updated_at``,
    and a contact request newer than the cutoff keeps its conversation."""
    c, t = conversations.c, tickets.c
    recent_ticket = sa.exists().where(t.conversation_id == c.id, t.created_at >= cutoff)
    return sa.and_(c.updated_at < cutoff, ~recent_ticket)


@survives_reconnects
class VisitorData(Repository):
    async def conversations_of_customer(self, customer_id: str) -> List[str]:
        """Conversations in which the bot verified this customer (``conversations.customer_id``) or the
        customer, verified, left a contact request (``tickets.customer_id``; such a ticket always has one)."""
        of_tickets = sa.select(tickets.c.conversation_id).where(tickets.c.customer_id == customer_id,
                                                                 tickets.c.conversation_id.is_not(None))
        query = sa.select(conversations.c.id).where(
            sa.or_(conversations.c.customer_id == customer_id, conversations.c.id.in_(of_tickets)))
        async with self._engine.connect() as conn:
            return [row[0] for row in await conn.execute(query.order_by(conversations.c.id))]

    async def delete_conversations(self, conversation_ids: Sequence[str]) -> Deleted:
        """Erasure: these conversations and everything hanging off them, whatever their age."""
        deleted = Deleted()
        ids = list(dict.fromkeys(conversation_ids))
        for start in range(0, len(ids), BATCH):
            async with self._writer.begin() as conn:
                deleted += await self._delete(conn, conversations.c.id.in_(ids[start:start + BATCH]))
        return deleted

    async def purge(self, cutoff: dt.datetime) -> Deleted:
        """Retention: conversations closed or idle since before ``cutoff``, batch by batch, and
        contact requests without a conversation that are older than the cutoff."""
        deleted = Deleted()
        while True:
            async with self._writer.begin() as conn:
                batch = await self._delete(conn, _expired(cutoff), limit=BATCH)
            deleted += batch
            if batch.conversations < BATCH:
                break
        return deleted + await self.purge_orphan_tickets(cutoff)

    async def expired_conversations(self, cutoff: dt.datetime, after: str = "",
                                    limit: Optional[int] = None) -> List[str]:
        """Up to ``limit`` (BATCH) ids of conversations retention deletes at ``cutoff``, in id order after
        ``after`` (liveagent/retention.py erases their Rasa trackers before ``purge_conversations``)."""
        query = (sa.select(conversations.c.id).where(_expired(cutoff), conversations.c.id > after)
                 .order_by(conversations.c.id).limit(limit or BATCH))
        async with self._engine.connect() as conn:
            return [row[0] for row in await conn.execute(query)]

    async def purge_conversations(self, cutoff: dt.datetime, conversation_ids: Sequence[str]) -> Deleted:
        """Retention of these conversations: those still expired at ``cutoff`` go (re-checked in the
        delete's transaction: a conversation that came back to life meanwhile stays)."""
        deleted = Deleted()
        ids = list(dict.fromkeys(conversation_ids))
        for start in range(0, len(ids), BATCH):
            async with self._writer.begin() as conn:
                deleted += await self._delete(conn, sa.and_(conversations.c.id.in_(ids[start:start + BATCH]),
                                                            _expired(cutoff)))
        return deleted

    async def purge_orphan_tickets(self, cutoff: dt.datetime) -> Deleted:
        """Retention: contact requests without a conversation that are older than ``cutoff``."""
        async with self._writer.begin() as conn:
            orphans = await conn.execute(
                tickets.delete().where(tickets.c.conversation_id.is_(None), tickets.c.created_at < cutoff))
        return Deleted(tickets=orphans.rowcount)

    async def _delete(self, conn: AsyncConnection, which: Any, limit: Optional[int] = None) -> Deleted:
        """Delete the conversations matching ``which`` (re-read inside this transaction and, on
        PostgreSQL, locked, so a message arriving meanwhile waits instead of dangling)."""
        query = sa.select(conversations.c.id).where(which).order_by(conversations.c.id)
        if limit is not None:
            query = query.limit(limit)
        ids = [row[0] for row in await conn.execute(query.with_for_update())]
        if not ids:
            return Deleted()
        counts: Dict[str, int] = {}
        # feedback first: it refers to the messages (not counted apart: it is part of the messages)
        await conn.execute(answer_feedback.delete().where(answer_feedback.c.conversation_id.in_(ids)))
        for name, table in (("suggestions", reply_suggestions), ("messages", messages),
                            ("events", conversation_events), ("read_marks", read_marks),
                            ("tickets", tickets), ("missed", missed_messages)):
            counts[name] = (await conn.execute(table.delete().where(table.c.conversation_id.in_(ids)))).rowcount
        gone = await conn.execute(conversations.delete().where(conversations.c.id.in_(ids)))
        return Deleted(conversations=gone.rowcount, **counts)
