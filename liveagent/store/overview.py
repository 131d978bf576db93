"""Reads across conversations, their event trail and messages, for what agents are shown: who handed a
chat over and the visitor's message nobody has answered yet. Read only; every read answers for many
conversations at once, so a queue broadcast costs the same few queries however long the queue is.

Shares the service's engine (``Store.overview``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence

import sqlalchemy as sa

from liveagent.store.engine import Repository, build
from liveagent.store.reconnect import survives_reconnects
from liveagent.store.records import Message
from liveagent.store.schema import conversation_events, messages
from liveagent.store.state import ConversationState, Transition

ASSIGNED, WAITING = ConversationState.ASSIGNED.value, ConversationState.WAITING.value


@dataclass(frozen=True)
class Handover:
    """How a conversation came to be where it is, when another agent had it before: ``transfer`` (from
    one agent to another) or ``requeue`` (back to the queue from its agent)."""

    kind: str
    from_agent_id: Optional[int]
    to_agent_id: Optional[int]
    at: dt.datetime


@survives_reconnects
class Overview(Repository):
    async def handovers(self, conversation_ids: Sequence[str]) -> Dict[str, Handover]:
        """The conversations (of ``conversation_ids``) that are where they are because of a handover:
        held after a transfer (the agent who had it before transferred it: the holder before the
        transfer is the agent of the previous event that made it assigned), or waiting after a requeue."""
        if not conversation_ids:
            return {}
        e = conversation_events.c
        query = (sa.select(e.conversation_id, e.transition, e.to_state, e.agent_id, e.created_at)
                 .where(e.conversation_id.in_(list(conversation_ids)), e.to_state.in_((ASSIGNED, WAITING)))
                 .order_by(e.conversation_id, e.id))
        trails: Dict[str, List[tuple]] = {}
        async with self._engine.connect() as conn:
            for row in await conn.execute(query):
                trails.setdefault(row.conversation_id, []).append(row)
        found: Dict[str, Handover] = {}
        for conversation_id, trail in trails.items():
            last = trail[-1]
            if last.transition == Transition.TRANSFER.value:
                before = [row for row in trail[:-1] if row.to_state == ASSIGNED]
                found[conversation_id] = Handover("transfer", before[-1].agent_id if before else None,
                                                  last.agent_id, last.created_at)
            elif last.transition == Transition.REQUEUE.value:
                found[conversation_id] = Handover("requeue", last.agent_id, None, last.created_at)
        return found

    async def unanswered(self, conversation_ids: Sequence[str]) -> Dict[str, Message]:
        """Each conversation's newest visitor message written after the last agent reply (notes are not
        replies; a quick reply's "/payload" is not a message to answer), when there is one."""
        if not conversation_ids:
            return {}
        m = messages.c
        mine = messages.alias("mine")
        last_agent = (sa.select(sa.func.max(mine.c.id))
                      .where(mine.c.conversation_id == m.conversation_id, mine.c.sender == "agent",
                             mine.c.kind == "text").scalar_subquery())
        typed = sa.and_(m.sender == "visitor", sa.not_(m.text.startswith("/")))
        newest = (sa.select(m.conversation_id, sa.func.max(m.id).label("id"))
                  .where(m.conversation_id.in_(list(conversation_ids)), typed)
                  .group_by(m.conversation_id).subquery())
        query = (sa.select(messages).join(newest, m.id == newest.c.id)
                 .where(m.id > sa.func.coalesce(last_agent, 0)))
        async with self._engine.connect() as conn:
            return {row.conversation_id: build(Message, row) for row in await conn.execute(query)}
