"""What happens to a conversation: visitor messages, escalation, agents' actions.

Every state change goes through ``Store.transition`` (the one state machine); this module decides
*when* to call it and tells the parties: visitors through Socket.IO rooms (``emit``), agents
through the ``AgentHub``. While a conversation is waiting or assigned the bot stays silent, but
visitor messages still go to Rasa, which records them in its paused tracker.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import math
from typing import Any, AsyncIterator, Awaitable, Callable, Dict, List, Optional

from liveagent import copy
from liveagent.hours import ServiceCalendar
from liveagent.hub import AgentHub
from liveagent.rasa_client import RasaClient, RasaUnavailable
from liveagent.roles import Right, may
from liveagent.settings import Settings
from liveagent.store import ConversationState, Store, Transition, TransitionError
from lumo_shared.handoff import (
    CONTACT_REQUEST_OFFER_KEY,
    HANDOFF_KEY,
    Availability,
    AvailabilityReason,
    HandoffReason,
)
from lumo_shared.identity import CUSTOMER_METADATA_KEY, sign_customer_id, verify_token

logger = logging.getLogger(__name__)

Emit = Callable[[str, Any, str], Awaitable[None]]
JOIN_QUEUE_PAYLOAD = "/liveagent_join_queue"
RASA_UNAVAILABLE = "rasa_unavailable"


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class BotTyping:
    """Shows "the bot is typing" to the visitor once an answer has taken ``delay`` seconds."""

    def __init__(self, emit: Callable[..., Awaitable[None]], conversation_id: str, delay: float) -> None:
        self._emit = emit
        self._conversation_id = conversation_id
        self._timer: Optional[asyncio.TimerHandle] = asyncio.get_running_loop().call_later(delay, self._show)
        self._showing: Optional[asyncio.Future] = None  # set once the indicator went out

    def _show(self) -> None:
        self._showing = asyncio.ensure_future(self._emit("typing", {"who": "bot", "on": True}, self._conversation_id))

    def cancel(self) -> None:
        """No indicator from now on (the answer is here, or the call failed)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    async def stop(self) -> None:
        """Hides the indicator if it was shown."""
        self.cancel()
        if self._showing is not None:
            await self._showing
            await self._emit("typing", {"who": "bot", "on": False}, self._conversation_id)


class ConversationLocks:
    """One asyncio lock per conversation (first come, first served, re-entrant within a task), dropped
    when nobody uses it; and a line (``line_up``) that keeps a conversation's visitor messages in the
    order they came while each is checked against the limits first."""

    def __init__(self) -> None:
        self._locks: Dict[str, List[Any]] = {}  # conversation id -> [lock, holders and waiters, owner task]
        self._tails: Dict[str, asyncio.Future] = {}  # conversation id -> the last place in its line

    @contextlib.asynccontextmanager
    async def hold(self, conversation_id: str) -> AsyncIterator[None]:
        entry = self._locks.setdefault(conversation_id, [asyncio.Lock(), 0, None])
        task = asyncio.current_task()
        if entry[2] is task:  # this task holds it already (the visitor handler, then visitor_message)
            yield
            return
        entry[1] += 1
        try:
            async with entry[0]:
                entry[2] = task
                try:
                    yield
                finally:
                    entry[2] = None
        finally:
            entry[1] -= 1
            if entry[1] == 0:
                del self._locks[conversation_id]

    def line_up(self, conversation_id: str) -> "Place":
        """A place in the conversation's line, taken now (synchronously, in arrival order).

        The caller may then wait for something else (a rate limit in Redis) and either ``leave`` the
        line (refused) or enter ``place.hold()``, which waits for every earlier place first.
        """
        previous = self._tails.get(conversation_id)
        mine = asyncio.get_running_loop().create_future()
        self._tails[conversation_id] = mine
        return Place(self, conversation_id, previous, mine)

    def _passed(self, conversation_id: str, place: asyncio.Future) -> None:
        if not place.done():
            place.set_result(None)
        if self._tails.get(conversation_id) is place:
            del self._tails[conversation_id]

    def __len__(self) -> int:
        return len(self._locks)


class Place:
    """One message's place in its conversation's line (``ConversationLocks.line_up``)."""

    def __init__(self, locks: ConversationLocks, conversation_id: str, previous: Optional[asyncio.Future],
                 mine: asyncio.Future) -> None:
        self._locks, self._conversation_id = locks, conversation_id
        self._previous, self._mine = previous, mine
        self._left = False

    @contextlib.asynccontextmanager
    async def hold(self) -> AsyncIterator[None]:
        """Waits for the earlier places, then holds the conversation's lock."""
        try:
            if self._previous is not None:
                await asyncio.shield(self._previous)
            async with self._locks.hold(self._conversation_id):
                yield
        finally:
            self.leave()

    def leave(self) -> None:
        """Gives up the place; the next one goes as soon as the earlier ones have."""
        if self._left:
            return
        self._left = True
        if self._previous is None or self._previous.done():
            self._locks._passed(self._conversation_id, self._mine)
        else:
            self._previous.add_done_callback(lambda _: self._locks._passed(self._conversation_id, self._mine))


class ConversationService:
    def __init__(
        self,
        store: Store,
        rasa: RasaClient,
        emit: Emit,
        hub: AgentHub,
        calendar: ServiceCalendar,
        settings: Settings,
    ) -> None:
        self.store = store
        self.rasa = rasa
        self.emit = emit
        self.hub = hub
        self.calendar = calendar
        self.settings = settings
        self._agent_names: Dict[int, str] = {}
        self.turns = ConversationLocks()  # visitor messages, one at a time per conversation

    # ---- helpers -------------------------------------------------------------------------
    async def agent_name(self, agent_id: Optional[int]) -> Optional[str]:
        if agent_id is None:
            return None
        if agent_id not in self._agent_names:
            agent = await self.store.agents.get(agent_id)
            self._agent_names[agent_id] = agent.display_name if agent else ""
        return self._agent_names[agent_id] or None

    async def message_json(self, message: Any) -> Dict[str, Any]:
        payload = message.payload or {}
        return {
            "id": message.id,
            "sender": message.sender,
            "kind": message.kind,
            "text": message.text,
            "quick_replies": payload.get("quick_replies", []),
            "agent_name": await self.agent_name(message.agent_id) if message.sender == "agent" else None,
            "created_at": message.created_at.isoformat(),
        }

    async def to_visitor(self, conversation_id: str, message: Any) -> None:
        await self.emit("bot_uttered", await self.message_json(message), conversation_id)

    async def online_agent_ids(self) -> List[int]:
        """Online accounts that handle chats (an editor's presence never makes a human available)."""
        return [agent.id for agent in await self.store.agents.list(online_only=True) if may(agent, Right.HANDLE_CHATS)]

    @staticmethod
    def new_status() -> Dict[str, Any]:
        """The status of a conversation that has no row yet (the visitor has not written)."""
        return {"state": ConversationState.BOT.value, "position": None, "wait_minutes": None,
                "agent_name": None, "text": ""}

    async def status(self, conversation_id: str) -> Dict[str, Any]:
        # Read only: the conversation's row is created by the visitor's first message, not by asking.
        conversation = await self.store.conversations.find(conversation_id)
        result = self.new_status()
        if conversation is None:
            return result
        state = ConversationState(conversation.state)
        result["state"] = state.value
        if state == ConversationState.WAITING:
            position = await self.store.conversations.queue_position(conversation_id) or 1
            online = max(1, len(await self.online_agent_ids()))
            wait = max(1, math.ceil(position * self.settings.average_handling_minutes / online))
            result.update(position=position, wait_minutes=wait)
            key = "status.waiting_first" if position == 1 else "status.waiting"
            result["text"] = copy.text(key, position=position, wait_minutes=wait)
        elif state == ConversationState.ASSIGNED:
            name = await self.agent_name(conversation.agent_id)
            result.update(agent_name=name, text=copy.text("status.assigned", agent_name=name))
        return result

    async def send_status(self, conversation_id: str, text: Optional[str] = None, **extra: Any) -> None:
        status = await self.status(conversation_id)
        if text is not None:
            status["text"] = text
        status.update(extra)
        await self.emit("status", status, conversation_id)

    async def system_message(self, conversation_id: str, text: str, quick_replies: Optional[list] = None) -> Any:
        payload = {"quick_replies": quick_replies} if quick_replies else None
        message = await self.store.messages.add(conversation_id, "system", "status", text, payload)
        await self.to_visitor(conversation_id, message)
        await self.notify_agents_of_message(conversation_id, message)
        return message

    async def notify_agents_of_message(self, conversation_id: str, message: Any) -> None:
        conversation = await self.store.conversations.find(conversation_id)
        if conversation is not None and conversation.agent_id is not None:
            self.hub.send(conversation.agent_id, {"type": "message", "conversation_id": conversation_id,
                                                  "message": await self.message_json(message)})

    async def broadcast_queue(self) -> None:
        waiting = await self.store.conversations.queue()
        self.hub.broadcast({"type": "queue", "conversations": [await self.brief(c) for c in waiting]})
        # Everyone waiting learns their new position.
        for conversation in waiting:
            await self.send_status(conversation.id)

    async def brief(self, conversation: Any, agent_id: Optional[int] = None) -> Dict[str, Any]:
        handoff = conversation.handoff or {}
        summary = handoff.get("summary", {}) if isinstance(handoff, dict) else {}
        waiting_seconds = None
        if conversation.waiting_since is not None:
            waiting_seconds = int((utcnow() - conversation.waiting_since).total_seconds())
        reason = conversation.escalation_reason
        unread = 0
        if agent_id is not None:
            unread = (await self.store.messages.unread_counts(agent_id)).get(conversation.id, 0)
        return {
            "id": conversation.id,
            "state": conversation.state,
            "agent_id": conversation.agent_id,
            "agent_name": await self.agent_name(conversation.agent_id),
            "waiting_since": conversation.waiting_since.isoformat() if conversation.waiting_since else None,
            "waiting_seconds": waiting_seconds,
            "reason": reason,
            "reason_text": copy.lookup(f"reasons.{reason}") or reason,
            "intents": summary.get("intents", []),
            "last_messages": summary.get("last_messages", []),
            "customer": summary.get("customer", {"verified": bool(conversation.customer_id),
                                                 "customer_id": conversation.customer_id}),
            "unread": unread,
        }

    # ---- visitor side --------------------------------------------------------------------
    def verified_customer(self, conversation_id: str, auth_token: Any) -> Dict[str, Any]:
        """Rasa metadata for the visitor's identity: the verified customer id, signed by us, never the JWT."""
        if not isinstance(auth_token, str) or not auth_token:
            return {}
        identity = verify_token(auth_token, self.settings.identity)
        if identity is None or not self.settings.identity.customer_id_key:
            return {}
        signed = sign_customer_id(identity.customer_id, conversation_id, self.settings.identity.customer_id_key)
        return {CUSTOMER_METADATA_KEY: signed}

    async def visitor_message(self, conversation_id: str, text: str, auth_token: Any = None) -> Any:
        """Store the visitor's message and route it by the conversation's state.

        A conversation's messages are handled one at a time, in the order they came: Rasa gets them
        in the visitor's order and the answers come back in it. (Sent concurrently, a later message
        could reach Rasa first, and one waiting for Rasa's lock behind a slow turn would spend its
        own timeout there: its answer would be dropped.) The Socket.IO handler takes the same lock
        before anything that can suspend, so arrival order is kept from the socket on.
        """
        async with self.turns.hold(conversation_id):
            return await self._visitor_message(conversation_id, text, auth_token)

    async def _visitor_message(self, conversation_id: str, text: str, auth_token: Any) -> Any:
        conversation = await self.store.conversations.get_or_create(conversation_id)
        if conversation.state == ConversationState.CLOSED.value:
            conversation = (await self.store.conversations.transition(conversation_id, Transition.REOPEN)).conversation
            await self.rasa_resume_quietly(conversation_id)
        metadata = self.verified_customer(conversation_id, auth_token)
        if conversation.state != ConversationState.BOT.value or text == JOIN_QUEUE_PAYLOAD:
            message = await self.store.messages.add(conversation_id, "visitor", "text", text)
            if text == JOIN_QUEUE_PAYLOAD:
                await self.escalate(conversation_id, RASA_UNAVAILABLE, None)
                return message
            await self.notify_agents_of_message(conversation_id, message)
            try:  # recorded in Rasa's paused tracker, so the transcript stays whole
                await self.rasa.record_visitor_message(conversation_id, text, metadata)
            except RasaUnavailable as error:
                logger.warning("Could not record a visitor message in Rasa: %s", error)
            return message
        # The bot answers: the message is stored while Rasa thinks (its reply is stored after it),
        # and "the bot is typing" shows only when the answer takes long enough to notice.
        stored = asyncio.ensure_future(self.store.messages.add(conversation_id, "visitor", "text", text))
        typing = BotTyping(self.emit, conversation_id, self.settings.typing_indicator_delay_seconds)
        try:
            replies = await self.rasa.send(conversation_id, text, metadata)
        except RasaUnavailable as error:
            logger.warning("Rasa did not answer: %s", error)
            message = await stored
            await typing.stop()
            await self.offer_queue(conversation_id, copy.text("status.rasa_unavailable"))
            return message
        finally:
            typing.cancel()
        message = await stored
        await typing.stop()
        if not await self.handle_bot_replies(conversation_id, replies):
            # Rasa ended the turn without a word: a custom action failed (action server down,
            # timed out or erroring; Rasa drops the action's messages) or the bot is paused.
            logger.warning("Rasa answered a visitor message with nothing; apologising")
            await self.offer_queue(conversation_id, copy.text("status.action_failed"))
        return message

    async def offer_queue(self, conversation_id: str, text: str) -> None:
        """``text`` with a "join the queue" button that the service handles itself (no Rasa needed)."""
        await self.system_message(
            conversation_id, text,
            [{"content_type": "text", "title": copy.text("buttons.join_queue"), "payload": JOIN_QUEUE_PAYLOAD}],
        )

    async def handle_bot_replies(self, conversation_id: str, replies: List[Dict[str, Any]]) -> bool:
        """Delivers Rasa's answer; False when it had nothing for the visitor."""
        answered = False
        for reply in replies:
            custom = reply.get("custom") or {}
            if isinstance(custom, dict) and isinstance(custom.get(HANDOFF_KEY), dict):
                handoff = custom[HANDOFF_KEY]
                await self.escalate(conversation_id, str(handoff.get("reason", HandoffReason.VISITOR_REQUEST)), handoff)
                answered = True
                continue
            if isinstance(custom, dict) and custom.get(CONTACT_REQUEST_OFFER_KEY):
                await self.send_status(conversation_id, offer_contact_request=True)
                answered = True
                continue
            text = reply.get("text")
            buttons = reply.get("buttons") or []
            if not text and not buttons:
                continue
            quick_replies = [{"content_type": "text", "title": b.get("title", ""), "payload": b.get("payload", "")}
                             for b in buttons]
            payload = {"quick_replies": quick_replies} if quick_replies else None
            message = await self.store.messages.add(conversation_id, "bot", "text", text or "", payload)
            await self.to_visitor(conversation_id, message)
            answered = True
        return answered

    async def availability(self, now: Optional[dt.datetime] = None) -> Availability:
        now = now or utcnow()
        if not self.calendar.is_open(now):
            return Availability(False, AvailabilityReason.CLOSED, copy.text(
                "status.closed_for_hours", opening_hours=self.calendar.describe_hours(),
                next_open=self.calendar.describe_next_open(now)))
        if not await self.online_agent_ids():
            return Availability(False, AvailabilityReason.NO_AGENTS, copy.text("status.no_agents"))
        if len(await self.store.conversations.queue()) >= self.settings.queue_capacity:
            return Availability(False, AvailabilityReason.QUEUE_FULL, copy.text("status.queue_full"))
        return Availability(True, AvailabilityReason.OPEN)

    async def escalate(self, conversation_id: str, reason: str, handoff: Optional[Dict[str, Any]]) -> None:
        availability = await self.availability()
        if not availability.available:
            # No human can come: the bot must not keep the visitor waiting in silence.
            await self.rasa_resume_quietly(conversation_id)
            await self.system_message(conversation_id, availability.text)
            await self.send_status(conversation_id, availability.text, offer_contact_request=True)
            return
        result = await self.store.conversations.transition(
            conversation_id, Transition.ESCALATE, reason=reason, handoff=handoff
        )
        if result.changed:
            await self.send_status(conversation_id)
            await self.broadcast_queue()

    async def rasa_resume_quietly(self, conversation_id: str) -> None:
        try:
            await self.rasa.resume(conversation_id)
        except RasaUnavailable as error:
            logger.warning("Could not resume the bot: %s", error)

    async def visitor_typing(self, conversation_id: str, on: bool) -> None:
        """Tells the agent holding the conversation (if any) that the visitor is typing."""
        conversation = await self.store.conversations.find(conversation_id)
        if conversation is not None and conversation.agent_id is not None:
            self.hub.send(conversation.agent_id, {"type": "typing", "conversation_id": conversation_id, "on": on})

    async def cancel_waiting(self, conversation_id: str) -> None:
        if await self.store.conversations.find(conversation_id) is None:
            raise TransitionError("not_waiting")  # never written: nothing waits
        result = await self.store.conversations.transition(conversation_id, Transition.CANCEL)
        if result.changed:
            await self.rasa_resume_quietly(conversation_id)
            await self.system_message(conversation_id, copy.text("status.cancelled"))
            await self.send_status(conversation_id, copy.text("status.cancelled"))
            await self.broadcast_queue()

    async def rate(self, conversation_id: str, score: int) -> bool:
        """Stores the visitor's rating; False for a conversation that has no row (nothing to rate)."""
        if await self.store.conversations.find(conversation_id) is None:
            return False
        await self.store.conversations.set_rating(conversation_id, score)
        await self.send_status(conversation_id, copy.text("status.rating_thanks"))
        return True

    async def contact_request(self, conversation_id: str, name: str, contact: str, message: str) -> bool:
        name, contact, message = (str(v or "").strip()[:500] for v in (name, contact, message))
        if not name or not contact or not message:
            await self.send_status(conversation_id, copy.text("status.contact_request_invalid"),
                                   offer_contact_request=True)
            return False
        # A request from a visitor who never wrote has no conversation row to refer to.
        known = await self.store.conversations.find(conversation_id) is not None
        await self.store.tickets.create(conversation_id if known else None, name, contact, message)
        await self.send_status(conversation_id, copy.text("status.contact_request_received"))
        self.hub.broadcast({"type": "tickets"})
        return True

    # ---- agent side ----------------------------------------------------------------------
    async def claim(self, conversation_id: str, agent: Any) -> Any:
        result = await self.store.conversations.transition(conversation_id, Transition.CLAIM, agent_id=agent.id)
        if result.changed:
            await self.system_message(conversation_id, copy.text("status.assigned", agent_name=agent.display_name))
            await self.send_status(conversation_id)
            await self.broadcast_queue()
        return result.conversation

    def _require_holder(self, conversation: Any, agent: Any) -> None:
        if conversation.state != ConversationState.ASSIGNED.value:
            raise TransitionError("not_assigned")
        if conversation.agent_id != agent.id:
            raise TransitionError("not_yours")

    async def agent_message(self, conversation_id: str, agent: Any, text: str) -> Any:
        conversation = await self.store.conversations.get_or_create(conversation_id)
        self._require_holder(conversation, agent)
        message = await self.store.messages.add(conversation_id, "agent", "text", text, agent_id=agent.id)
        await self.emit("typing", {"who": "agent", "on": False}, conversation_id)
        await self.to_visitor(conversation_id, message)
        await self.notify_agents_of_message(conversation_id, message)
        try:
            await self.rasa.record_agent_message(conversation_id, text, agent.display_name)
        except RasaUnavailable as error:
            logger.warning("Could not record an agent message in Rasa: %s", error)
        return message

    async def note(self, conversation_id: str, agent: Any, text: str) -> Any:
        conversation = await self.store.conversations.get_or_create(conversation_id)
        self._require_holder(conversation, agent)
        message = await self.store.messages.add(conversation_id, "agent", "note", text, agent_id=agent.id)
        await self.notify_agents_of_message(conversation_id, message)
        return message

    async def transfer(self, conversation_id: str, agent: Any, to_agent_id: int) -> Any:
        conversation = await self.store.conversations.get_or_create(conversation_id)
        self._require_holder(conversation, agent)
        if to_agent_id not in await self.online_agent_ids():
            raise TransitionError("agent_not_online")
        result = await self.store.conversations.transition(conversation_id, Transition.TRANSFER, agent_id=to_agent_id)
        name = await self.agent_name(to_agent_id)
        await self.system_message(conversation_id, copy.text("status.transferred", agent_name=name))
        await self.send_status(conversation_id)
        self.hub.send(to_agent_id, {"type": "state", "conversation": await self.brief(result.conversation)})
        return result.conversation

    async def return_to_bot(self, conversation_id: str, agent: Any) -> Any:
        conversation = await self.store.conversations.get_or_create(conversation_id)
        self._require_holder(conversation, agent)
        result = await self.store.conversations.transition(conversation_id, Transition.RETURN_TO_BOT, agent_id=agent.id)
        await self.rasa_resume_quietly(conversation_id)
        await self.system_message(conversation_id, copy.text("status.returned_to_bot"))
        await self.send_status(conversation_id, copy.text("status.returned_to_bot"))
        return result.conversation

    async def close(self, conversation_id: str, agent: Any) -> Any:
        conversation = await self.store.conversations.get_or_create(conversation_id)
        self._require_holder(conversation, agent)
        result = await self.store.conversations.transition(conversation_id, Transition.CLOSE, agent_id=agent.id)
        await self.rasa_resume_quietly(conversation_id)
        await self.system_message(conversation_id, copy.text("status.closed"))
        await self.send_status(conversation_id, copy.text("status.rating_request"), ask_rating=True)
        return result.conversation

    async def requeue_sweep(self, now: Optional[dt.datetime] = None) -> int:
        """Chats whose agent went offline or left the visitor unanswered go back to the queue."""
        now = now or utcnow()
        online = set(await self.online_agent_ids())
        offline = [a.id for a in await self.store.agents.list() if a.id not in online]
        stale = await self.store.conversations.needing_requeue(
            now, dt.timedelta(seconds=self.settings.unanswered_requeue_seconds), offline)
        for conversation in stale:
            previous = conversation.agent_id
            result = await self.store.conversations.transition(conversation.id, Transition.REQUEUE)
            if result.changed:
                position = await self.store.conversations.queue_position(conversation.id) or 1
                await self.system_message(conversation.id, copy.text("status.requeued", position=position))
                self.hub.send(previous, {"type": "state", "conversation": await self.brief(result.conversation)})
        if stale:
            await self.broadcast_queue()
        return len(stale)

    async def set_presence(self, agent: Any, presence: str) -> Any:
        """Presence change; an agent going offline hands their chats back to the queue."""
        updated = await self.store.agents.set_presence(agent.id, presence, utcnow())
        self.hub.broadcast({"type": "presence", "agent": {"id": updated.id, "display_name": updated.display_name,
                                                          "presence": updated.presence}})
        if presence == "offline":
            await self.requeue_sweep()
        return updated


