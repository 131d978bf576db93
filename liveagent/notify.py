"""Who is told what: from what happened to a conversation to the visitor, the agents, the queue and the bot.

ConversationService decides and applies (``Store.transition``); it hands every result here, and
only a result that changed something is announced (an idempotent repeat, such as a transfer to
the agent who already holds the chat, tells nobody). What each transition tells is one table,
``ANNOUNCEMENTS``; the rules around it:
- the visitor gets a system message (also shown to the agent holding the chat) and a status line;
- the bot (Rasa) resumes whenever the conversation goes back to the bot or closes;
- an agent who receives a chat by transfer or automatic assignment, or loses it to a transfer or a
  requeue, gets its new state;
- when a conversation joined or left the queue, every agent gets the queue and every waiting
  visitor their place, all from one read of the queue; when an agent's chat ended (a place came
  free), every waiting visitor their place and wait anew.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Dict, List, Optional, Sequence, Tuple

from liveagent import copy
from liveagent.hub import AgentHub
from liveagent.presentation import Json
from liveagent.rasa_client import RasaClient, RasaUnavailable
from liveagent.store import Conversation, ConversationState, Message, Store, Transition, TransitionResult
from liveagent.views import Views

logger = logging.getLogger(__name__)

Emit = Callable[[str, Any, str], Awaitable[None]]


@dataclass(frozen=True)
class Announcement:
    """What a transition tells: copy keys of the visitor's system message and status line."""

    message: Optional[str] = None  # the system message (None: none)
    status: bool = True  # whether the visitor gets a status line (a queue broadcast gives waiting ones theirs)
    status_text: Optional[str] = None  # replaces the status line's own text
    status_extra: Dict[str, Any] = field(default_factory=dict)
    # who of the agents gets the conversation's new state: "holder" (the new holder), "previous" (the one
    # who lost it) or both
    tell_agents: Tuple[str, ...] = ()


ANNOUNCEMENTS: Dict[Transition, Announcement] = {
    Transition.ESCALATE: Announcement(status=False),  # the queue broadcast tells them their place
    Transition.CANCEL: Announcement("status.cancelled", status_text="status.cancelled"),
    Transition.CLAIM: Announcement("status.assigned"),
    # automatic assignment: the agent is alerted as for a transfer (the console's "state" event)
    Transition.ASSIGN: Announcement("status.assigned", tell_agents=("holder",)),
    Transition.TRANSFER: Announcement("status.transferred", tell_agents=("holder", "previous")),
    Transition.REQUEUE: Announcement("status.requeued", status=False, tell_agents=("previous",)),
    Transition.RETURN_TO_BOT: Announcement("status.returned_to_bot", status_text="status.returned_to_bot"),
    Transition.CLOSE: Announcement("status.closed", status_text="status.rating_request",
                                   status_extra={"ask_rating": True}),
    Transition.REOPEN: Announcement(status=False),
    # the visitor ended a chat the bot served: the end-of-chat rating, as after an agent's close
    Transition.END: Announcement("status.ended", status_text="status.rating_request_bot",
                                 status_extra={"ask_rating": True}),
}

BOT_RESUMES = frozenset({ConversationState.BOT, ConversationState.CLOSED})


def touches_queue(result: TransitionResult) -> bool:
    """Whether the conversation joined or left the queue."""
    before = result.previous.state if result.previous is not None else None
    return ConversationState.WAITING in (before, result.conversation.state)


def frees_a_place(result: TransitionResult) -> bool:
    """Whether an agent's chat ended (closed or back to the bot): a place for a waiting visitor."""
    before = result.previous.state if result.previous is not None else None
    return before == ConversationState.ASSIGNED and result.conversation.state != ConversationState.ASSIGNED


class Notifier:
    def __init__(self, store: Store, emit: Emit, hub: AgentHub, rasa: RasaClient, views: Views,
                 floor_changed: Callable[[], None] = lambda: None) -> None:
        self.store = store
        self.floor_changed = floor_changed  # the supervisors' floor (liveagent/floor.py) shows every change
        self.emit = emit
        self.hub = hub
        self.rasa = rasa
        self.views = views

    # ---- transitions ---------------------------------------------------------------------
    async def transitioned(self, *results: TransitionResult) -> None:
        """Tells everyone concerned what these transitions changed (in order); nobody for no change."""
        changed = [result for result in results if result.changed]
        if not changed:
            return
        self.floor_changed()
        queue: Optional[List[Conversation]] = None
        if any(touches_queue(result) for result in changed):
            queue = await self.store.conversations.queue()  # after the transitions: positions as they are now
        for result in changed:
            await self._tell(result, queue or [])
        if queue is not None:
            await self.broadcast_queue(queue)
        elif any(frees_a_place(result) for result in changed):
            await self.tell_waiting()  # a place came free: the waiting hear their prospects anew

    async def _tell(self, result: TransitionResult, queue: Sequence[Conversation]) -> None:
        assert result.transition is not None
        announcement = ANNOUNCEMENTS[result.transition]
        conversation = result.conversation
        if conversation.state in BOT_RESUMES:
            await self.resume_bot(conversation.id)
        name = await self.views.agent_name(conversation.agent_id)
        if announcement.message is not None:
            position = next((i for i, c in enumerate(queue, 1) if c.id == conversation.id), 1)
            await self.system_message(conversation, copy.text(announcement.message, agent_name=name,
                                                              position=position))
        if announcement.status:
            text = copy.text(announcement.status_text) if announcement.status_text else None
            await self.status(conversation, text, **announcement.status_extra)
        told = {"holder": conversation.agent_id,
                "previous": result.previous.agent_id if result.previous is not None else None}
        for agent_id in dict.fromkeys(told[who] for who in announcement.tell_agents):
            if agent_id is not None:
                self.hub.send(agent_id, {"type": "state", "conversation": await self.views.brief(conversation)})

    async def broadcast_queue(self, queue: Optional[Sequence[Conversation]] = None) -> None:
        """Every agent gets the queue; everyone waiting learns their new place."""
        waiting = list(queue) if queue is not None else await self.store.conversations.queue()
        self.hub.broadcast({"type": "queue", "conversations": await self.views.briefs(waiting)})
        await self.tell_waiting(waiting)

    async def tell_waiting(self, queue: Optional[Sequence[Conversation]] = None) -> None:
        """Every waiting visitor their place and prospects (an agent came, left, or has room again)."""
        waiting = list(queue) if queue is not None else await self.store.conversations.queue()
        # Each line carries the version of the conversation it was read at: one assigned meanwhile (on any
        # replica) has been told so at a newer version, and the visitor's client drops this older line.
        for conversation, status in zip(waiting, await self.views.waiting_statuses(waiting), strict=True):
            await self.emit("status", status, conversation.id)

    async def resume_bot(self, conversation_id: str) -> None:
        try:
            await self.rasa.resume(conversation_id)
        except RasaUnavailable as error:
            logger.warning("Could not resume the bot: %s", error)

    # ---- messages and status lines -------------------------------------------------------
    async def message(self, conversation: Conversation, message: Message) -> None:
        """A new message: the visitor sees it unless it is a note or their own; the agent holding
        the conversation sees every one."""
        payload: Optional[Json] = None
        if message.sender != "visitor" and message.kind != "note":
            if message.sender == "agent":
                await self.emit("typing", {"who": "agent", "on": False}, conversation.id)
            payload = await self.views.message_json(message)
            await self.emit("bot_uttered", payload, conversation.id)
        if conversation.agent_id is not None:
            payload = payload or await self.views.message_json(message)
            self.hub.send(conversation.agent_id, {"type": "message", "conversation_id": conversation.id,
                                                  "message": payload})

    async def system_message(self, conversation: Conversation, text: str,
                             quick_replies: Optional[List[Json]] = None) -> Message:
        payload = {"quick_replies": quick_replies} if quick_replies else None
        message = await self.store.messages.add(conversation.id, "system", "status", text, payload)
        await self.message(conversation, message)
        return message

    async def status(self, conversation: Optional[Conversation], text: Optional[str] = None,
                     conversation_id: Optional[str] = None, **extra: Any) -> None:
        """The visitor's status line; ``text`` replaces its own text, ``extra`` adds flags
        (``ask_rating``, ``offer_contact_request``). A conversation without a row needs its id."""
        status = await self.views.status(conversation)
        if text is not None:
            status["text"] = text
        status.update(extra)
        room = conversation.id if conversation is not None else conversation_id
        assert room is not None
        await self.emit("status", status, room)
