"""The presentation's JSON with what it needs from the store: agent names (cached), unread counts, queue
positions, handovers, topic titles, and for waiting visitors the free places among the agents online and
how long their chats take. The shapes themselves are in liveagent/presentation.py."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

from liveagent import presentation
from liveagent.presentation import Json
from liveagent.roles import Right, may
from liveagent.store import Agent, Conversation, ConversationState, Message, Store
from liveagent.store.overview import Handover
from liveagent.store.schema import DEFAULT_CAPACITY
from liveagent.topics import TopicTitles

HANDLING_WINDOW = dt.timedelta(days=30)  # the chats the handling time is measured on ended this recently
HANDLING_REREAD = dt.timedelta(minutes=1)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def capacity_of(agent: Agent) -> int:
    """How many chats the agent takes at once: the agent's own capacity where the store keeps one
    (automatic assignment, issue 16), else the default."""
    return int(getattr(agent, "capacity", DEFAULT_CAPACITY))


class Views:
    def __init__(self, store: Store, average_handling_minutes: float, content_root: Optional[Path] = None) -> None:
        self.store = store
        self.average_handling_minutes = average_handling_minutes
        # the topic files whose titles the briefs show (None: a brief's topics are titled by their labels)
        self.topics = TopicTitles(content_root) if content_root is not None else None
        self._agent_names: Dict[int, str] = {}
        self._handling: Optional[Tuple[dt.datetime, Optional[float]]] = None  # (read at, measured minutes)

    async def agent_name(self, agent_id: Optional[int]) -> Optional[str]:
        """An agent's display name; looked up once per process (names do not change while it runs)."""
        if agent_id is None:
            return None
        if agent_id not in self._agent_names:
            agent = await self.store.agents.get(agent_id)
            self._agent_names[agent_id] = agent.display_name if agent else ""
        return self._agent_names[agent_id] or None

    async def online_agents(self) -> List[Agent]:
        """Online accounts that handle chats (an editor's presence never makes a human available)."""
        return [agent for agent in await self.store.agents.list(online_only=True) if may(agent, Right.HANDLE_CHATS)]

    async def online_agent_ids(self) -> List[int]:
        return [agent.id for agent in await self.online_agents()]

    async def handling_minutes(self) -> float:
        """How long an agent's chat takes: the median of the recent ones (read at most once a minute),
        the assumed one (Settings.average_handling_minutes) while there are too few to say."""
        now = utcnow()
        if self._handling is None or now - self._handling[0] >= HANDLING_REREAD:
            measured = await self.store.overview.handling_minutes(now - HANDLING_WINDOW)
            self._handling = (now, measured)
        measured = self._handling[1]
        return measured if measured is not None else self.average_handling_minutes

    async def staffing(self) -> presentation.Staffing:
        """The places free now and in all among the agents online, and how long a chat takes."""
        online = await self.online_agents()
        held = await self.store.overview.held_counts() if online else {}
        places = [capacity_of(agent) for agent in online]
        free = sum(max(0, place - held.get(agent.id, 0)) for agent, place in zip(online, places, strict=True))
        return presentation.Staffing(free, sum(places), await self.handling_minutes())

    async def message_json(self, message: Message, helpful: Optional[bool] = None) -> Json:
        name = await self.agent_name(message.agent_id) if message.sender == "agent" else None
        return presentation.message_json(message, name, helpful)

    async def brief(self, conversation: Conversation, agent_id: Optional[int] = None,
                    unread: Optional[Dict[str, int]] = None) -> Json:
        """The console's view of a conversation; with ``agent_id``, that agent's unread count in it
        (``unread``: the agent's counts, when the caller has read them already)."""
        return (await self.briefs([conversation], agent_id, unread))[0]

    async def briefs(self, conversations: Sequence[Conversation], agent_id: Optional[int] = None,
                     unread: Optional[Dict[str, int]] = None) -> List[Json]:
        """Briefs of many conversations from one read each of unread counts, handovers and unanswered messages."""
        if not conversations:
            return []
        if agent_id is not None and unread is None:
            unread = await self.store.messages.unread_counts(agent_id)
        ids = [c.id for c in conversations]
        handovers = await self.store.overview.handovers(ids)
        unanswered = await self.store.overview.unanswered(ids)
        now = utcnow()
        found = []
        for conversation in conversations:
            topics = await self.topics.describe(presentation.brief_intents(conversation)) if self.topics else None
            message = unanswered.get(conversation.id)
            found.append(presentation.brief(
                conversation, await self.agent_name(conversation.agent_id), (unread or {}).get(conversation.id, 0),
                now, topics, handover=await self.handover_json(conversation, handovers.get(conversation.id)),
                unanswered=await self.message_json(message) if message is not None else None))
        return found

    async def handover_json(self, conversation: Conversation, handover: Optional[Handover]) -> Optional[Json]:
        """Who handed the conversation over (and to whom), while it is where the handover put it."""
        if handover is None or presentation.HANDOVER_STATES.get(handover.kind) != conversation.state:
            return None
        return presentation.handover(handover, await self.agent_name(handover.from_agent_id),
                                     await self.agent_name(handover.to_agent_id))

    async def status(self, conversation: Optional[Conversation]) -> Json:
        """The status line of one conversation (its queue place read from the store when it waits)."""
        if conversation is None:
            return presentation.new_status()
        state = ConversationState(conversation.state)
        if state == ConversationState.WAITING:
            position = await self.store.conversations.queue_position(conversation.id) or 1
            return presentation.status(conversation, position=position, staffing=await self.staffing())
        return presentation.status(conversation, agent_name=await self.agent_name(conversation.agent_id))

    async def waiting_statuses(self, queue: Sequence[Conversation]) -> List[Json]:
        """The status of every waiting conversation, in queue order, from the one queue read."""
        if not queue:
            return []
        staffing = await self.staffing()
        return [presentation.waiting_status(position, staffing, conversation)
                for position, conversation in enumerate(queue, start=1)]
