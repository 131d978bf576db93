"""The supervisors' view of the floor (docs/agent-api.md, "The floor"): who is online, each agent's load
against their capacity, the chats they hold and how long each has gone unanswered against the
response-time limit, and the queue in its order with waits, reasons and priorities.

``floor_json`` and its helpers are pure shapes over what ``Floor.snapshot`` reads (one read of the
agents, the held counts, the assigned chats and the queue). ``Floor.changed`` is called by whatever
changes the floor (a transition, a presence or capacity change, an agent's first answer); it sends one
``floor`` event with the whole snapshot to every supervisor's console, at most once per
``FLOOR_DEBOUNCE_SECONDS`` however many changes came meanwhile, so consoles never poll.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from typing import Dict, Optional, Sequence

from liveagent.hub import AgentHub
from liveagent.presentation import Json
from liveagent.roles import Right, may
from liveagent.settings import Settings
from liveagent.store import Agent, Conversation, Store
from liveagent.views import Views

logger = logging.getLogger(__name__)

FLOOR_DEBOUNCE_SECONDS = 0.25


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def agent_row(agent: Agent, load: int) -> Json:
    """An agent on the floor: presence, and the chats they hold now against how many they take at once."""
    return {"id": agent.id, "username": agent.username, "display_name": agent.display_name, "role": agent.role,
            "presence": agent.presence, "capacity": agent.capacity, "load": load}


def answered(conversation: Conversation) -> bool:
    """Whether the holder has written to the visitor since they got the chat (notes are no answer)."""
    written, got = conversation.last_agent_message_at, conversation.assigned_at
    return written is not None and (got is None or written >= got)


def response_times(conversation: Conversation, now: dt.datetime, limit_seconds: float) -> Json:
    """How long the holder has had the chat, whether they answered, and by how much an unanswered chat is
    over the response-time limit (None: answered, within the limit, or no limit)."""
    held = None if conversation.assigned_at is None else max(0, int((now - conversation.assigned_at).total_seconds()))
    done = answered(conversation)
    over = None
    if limit_seconds and held is not None and not done and held > limit_seconds:
        over = int(held - limit_seconds)
    return {"assigned_seconds": held, "answered": done, "over_limit_seconds": over}


def floor_json(agents: Sequence[Agent], held: Dict[int, int], chats: Sequence[Json], queue: Sequence[Json],
               *, assignment: str, limit_seconds: float) -> Json:
    """The whole floor: ``chats`` and ``queue`` are briefs (``queue`` in the queue's order)."""
    return {
        "assignment": assignment,
        "response_limit_seconds": int(limit_seconds),
        "agents": [agent_row(agent, held.get(agent.id, 0)) for agent in agents],
        "chats": list(chats),
        "queue": [{**brief, "position": position} for position, brief in enumerate(queue, 1)],
    }


class Floor:
    def __init__(self, store: Store, views: Views, hub: AgentHub, settings: Settings) -> None:
        self.store, self.views, self.hub, self.settings = store, views, hub, settings
        self._pending: Optional[asyncio.Task] = None
        self._dirty = False  # a change not yet in a snapshot sent

    async def snapshot(self, now: Optional[dt.datetime] = None) -> Json:
        now = now or utcnow()
        agents = [a for a in await self.store.agents.list() if a.active and may(a, Right.HANDLE_CHATS)]
        held = await self.store.overview.held_counts()
        assigned = await self.store.conversations.assigned()
        limit = self.settings.response_limit_seconds
        chats = [{**brief, **response_times(conversation, now, limit)}
                 for conversation, brief in zip(assigned, await self.views.briefs(assigned), strict=True)]
        queue = await self.views.briefs(await self.store.conversations.queue())
        return floor_json(agents, held, chats, queue, assignment=self.settings.assignment, limit_seconds=limit)

    def changed(self) -> None:
        """Something on the floor changed: supervisors get the new snapshot shortly (one for many changes).

        A change while a snapshot is being read may have come too late for it: the pending send then
        reads the floor once more."""
        self._dirty = True
        if self._pending is None or self._pending.done():
            self._pending = asyncio.ensure_future(self._send_soon())

    async def _send_soon(self) -> None:
        while self._dirty:
            await asyncio.sleep(FLOOR_DEBOUNCE_SECONDS)
            self._dirty = False  # changes from here on are read by this snapshot or make another
            try:
                await self.send()
            except Exception:  # noqa: BLE001 - a passing database error: the next change sends again
                logger.exception("Sending the floor to supervisors failed")

    async def send(self) -> None:
        supervisors = {a.id for a in await self.store.agents.list() if a.active and may(a, Right.SUPERVISE)}
        if supervisors:
            self.hub.broadcast({"type": "floor", "floor": await self.snapshot()}, only=supervisors)

    async def close(self) -> None:
        """Stops a pending send (the service is stopping)."""
        pending, self._pending = self._pending, None
        if pending is not None and not pending.done():
            pending.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pending

