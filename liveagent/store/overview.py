"""Reads across conversations, their event trail and messages, for what agents and waiting visitors are
shown: who handed a chat over, the visitor's message nobody has answered yet, how many chats each agent
holds and how long agents' chats take. Read only; every read answers for many conversations at once,
so a queue broadcast costs the same few queries however long the queue is.

Shares the service's engine (``Store.overview``).
"""

from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence

import sqlalchemy as sa

from liveagent.store.engine import Repository, build
from liveagent.store.reconnect import survives_reconnects
from liveagent.store.records import Message
from liveagent.store.schema import conversation_events, conversations, messages
from liveagent.store.state import ConversationState, Transition

ASSIGNED, WAITING = ConversationState.ASSIGNED.value, ConversationState.WAITING.value
ENDED = (ConversationState.CLOSED.value, ConversationState.BOT.value, WAITING)  # an agent's chat ends


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

    async def held_counts(self) -> Dict[int, int]:
        """agent id -> how many conversations the agent holds now."""
        c = conversations.c
        query = (sa.select(c.agent_id, sa.func.count()).where(c.state == ASSIGNED, c.agent_id.is_not(None))
                 .group_by(c.agent_id))
        async with self._engine.connect() as conn:
            return {int(agent_id): int(count) for agent_id, count in await conn.execute(query)}

    async def handling_minutes(self, since: dt.datetime, samples: int = 50, at_least: int = 5) -> Optional[float]:
        """The median time an agent held a chat, in minutes: from the claim (waiting -> assigned) until it
        left the agents (closed, back to the bot or the queue; transfers in between count as one), over
        the ``samples`` most recent such chats that ended after ``since``. None with fewer than
        ``at_least`` of them: too few to say."""
        e = conversation_events.c
        start = conversation_events.alias("start")
        started = (sa.select(sa.func.max(start.c.created_at))
                   .where(start.c.conversation_id == e.conversation_id, start.c.id < e.id,
                          start.c.to_state == ASSIGNED, start.c.from_state != ASSIGNED)
                   .scalar_subquery())
        query = (sa.select(e.created_at, started.label("started"))
                 .where(e.from_state == ASSIGNED, e.to_state.in_(ENDED), e.created_at >= since)
                 .order_by(e.id.desc()).limit(samples))
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        durations = [(ended - began).total_seconds() / 60 for ended, began in rows if began is not None]
        if len(durations) < at_least:
            return None
        return statistics.median(durations)
