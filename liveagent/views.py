"""The presentation's JSON with what it needs from the store: agent names (cached), unread counts,
queue positions and how many agents are online. The shapes themselves are in liveagent/presentation.py."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Dict, List, Optional, Sequence

from liveagent import presentation
from liveagent.presentation import Json
from liveagent.roles import Right, may
from liveagent.store import Conversation, ConversationState, Message, Store
from liveagent.store.overview import Handover
from liveagent.topics import TopicTitles


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class Views:
    def __init__(self, store: Store, average_handling_minutes: float, content_root: Optional[Path] = None) -> None:
        self.store = store
        self.average_handling_minutes = average_handling_minutes
        # the topic files whose titles the briefs show (None: a brief's topics are titled by their labels)
        self.topics = TopicTitles(content_root) if content_root is not None else None
        self._agent_names: Dict[int, str] = {}

    async def agent_name(self, agent_id: Optional[int]) -> Optional[str]:
        """An agent's display name; looked up once per process (names do not change while it runs)."""
        if agent_id is None:
            return None
        if agent_id not in self._agent_names:
            agent = await self.store.agents.get(agent_id)
            self._agent_names[agent_id] = agent.display_name if agent else ""
        return self._agent_names[agent_id] or None

    async def online_agent_ids(self) -> List[int]:
        """Online accounts that handle chats (an editor's presence never makes a human available)."""
        return [agent.id for agent in await self.store.agents.list(online_only=True) if may(agent, Right.HANDLE_CHATS)]

    async def message_json(self, message: Message) -> Json:
        name = await self.agent_name(message.agent_id) if message.sender == "agent" else None
        return presentation.message_json(message, name)

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
            online = len(await self.online_agent_ids())
            return presentation.status(conversation, position=position, online_agents=online,
                                       average_handling_minutes=self.average_handling_minutes)
        return presentation.status(conversation, agent_name=await self.agent_name(conversation.agent_id))

    async def waiting_statuses(self, queue: Sequence[Conversation]) -> List[Json]:
        """The status of every waiting conversation, in queue order, from the one queue read."""
        if not queue:
            return []
        online = len(await self.online_agent_ids())
        return [presentation.waiting_status(position, online, self.average_handling_minutes)
                for position in range(1, len(queue) + 1)]
