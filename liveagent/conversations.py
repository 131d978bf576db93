"""What happens to a conversation: visitor messages, escalation, agents' actions.

Every state change goes through ``Store.transition`` (the one state machine), applied in one
place (``ConversationService._apply``); this module decides *when*. Who is told what follows from
the result, in liveagent/notify.py; how it looks, in liveagent/presentation.py. While a
conversation is waiting or assigned the bot stays silent, but visitor messages still go to Rasa,
which records them in its paused tracker.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
from pathlib import Path
from typing import Any, AsyncIterator, Awaitable, Callable, Dict, List, Optional

from liveagent import copy, presentation
from liveagent.floor import Floor
from liveagent.hours import ServiceCalendar
from liveagent.hub import AgentHub
from liveagent.metrics import ServiceMetrics
from liveagent.notify import Emit, Notifier
from liveagent.presentation import Json
from liveagent.priorities import QueuePriorities
from liveagent.rasa_client import RasaClient, RasaUnavailable
from liveagent.roles import RIGHTS, Right
from liveagent.settings import Settings
from liveagent.store import (
    Agent,
    Conversation,
    ConversationState,
    Message,
    Store,
    Transition,
    TransitionError,
    TransitionResult,
)
from liveagent.store.conversations import verified_customer
from liveagent.views import Views
from lumo_shared.answers import answer_label
from lumo_shared.handoff import (
    CONTACT_REQUEST_OFFER_KEY,
    HANDOFF_KEY,
    Availability,
    AvailabilityReason,
    HandoffReason,
)
from lumo_shared.identity import CUSTOMER_METADATA_KEY, sign_customer_id, verify_token

logger = logging.getLogger(__name__)

JOIN_QUEUE_PAYLOAD = "/liveagent_join_queue"
RASA_UNAVAILABLE = "rasa_unavailable"
# The roles whose online accounts get chats (an editor's presence never makes a human available).
CHAT_ROLES = tuple(sorted(role for role, rights in RIGHTS.items() if Right.HANDLE_CHATS in rights))


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
        if entry[2] is task:  # this task holds it already
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
        metrics: Optional[ServiceMetrics] = None,
    ) -> None:
        self.store = store
        self.metrics = metrics
        self.rasa = rasa
        self.emit = emit
        self.hub = hub
        self.calendar = calendar
        self.settings = settings
        self.views = Views(store, settings.average_handling_minutes, Path(settings.content_root))
        self.priorities = QueuePriorities.load(Path(settings.priorities_file))
        self.floor = Floor(store, self.views, hub, settings)  # the supervisors' view, sent when it changes
        self.notifier = Notifier(store, emit, hub, rasa, self.views, self.floor.changed)
        self.turns = ConversationLocks()  # visitor messages, one at a time per conversation

    # ---- the one place a transition is applied -------------------------------------------
    async def _apply(self, conversation_id: str, transition: Transition, *, current: Optional[Conversation] = None,
                     announce: bool = True, **details: Any) -> TransitionResult:
        """Applies ``transition`` (``current``: the row just read, so it is not read again) and,
        when it changed something, has the notifier tell everyone concerned. ``announce=False``
        leaves that to the caller (several transitions announced together)."""
        result = await self.store.conversations.transition(conversation_id, transition, current=current, **details)
        if announce:
            await self.notifier.transitioned(result)
        return result

    # ---- presentation for the handlers ---------------------------------------------------
    async def message_json(self, message: Message) -> Json:
        return await self.views.message_json(message)

    async def brief(self, conversation: Conversation, agent_id: Optional[int] = None) -> Json:
        return await self.views.brief(conversation, agent_id)

    async def briefs(self, conversations: List[Conversation], agent_id: Optional[int] = None) -> List[Json]:
        return await self.views.briefs(conversations, agent_id)

    @staticmethod
    def new_status() -> Json:
        """The status of a conversation that has no row yet (the visitor has not written)."""
        return presentation.new_status()

    async def status(self, conversation_id: str) -> Json:
        # Read only: the conversation's row is created by the visitor's first message, not by asking.
        return await self.views.status(await self.store.conversations.find(conversation_id))

    async def online_agent_ids(self) -> List[int]:
        return await self.views.online_agent_ids()

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

    async def visitor_message(self, conversation_id: str, text: str, auth_token: Any = None) -> Message:
        """Store the visitor's message and route it by the conversation's state.

        The caller holds the conversation's turn (``async with service.turns.line_up(id).hold()``):
        a conversation's messages are handled one at a time, in the order they came, so Rasa gets
        them in the visitor's order and the answers come back in it. (Sent concurrently, a later
        message could reach Rasa first, and one waiting for Rasa's lock behind a slow turn would
        spend its own timeout there: its answer would be dropped.) The Socket.IO handler takes its
        place in line before anything that can suspend, so arrival order is kept from the socket on.
        """
        conversation = await self.store.conversations.get_or_create(conversation_id)
        if conversation.state == ConversationState.CLOSED:
            conversation = (await self._apply(conversation_id, Transition.REOPEN, current=conversation)).conversation
        metadata = self.verified_customer(conversation_id, auth_token)
        if conversation.state != ConversationState.BOT or text == JOIN_QUEUE_PAYLOAD:
            message = await self.store.messages.add(conversation_id, "visitor", "text", text)
            if text == JOIN_QUEUE_PAYLOAD:
                await self.escalate(conversation, RASA_UNAVAILABLE, None)
                return message
            await self.notifier.message(conversation, message)
            try:  # recorded in Rasa's paused tracker, so the transcript stays whole
                await self.rasa.record_visitor_message(conversation_id, text, metadata)
            except RasaUnavailable as error:
                logger.warning("Could not record a visitor message in Rasa: %s", error)
            return message
        # The bot answers: the message is stored while Rasa thinks (its reply is stored after it),
        # and "the bot is typing" shows only when the answer takes long enough to notice.
        stored = asyncio.ensure_future(self.store.messages.add(conversation_id, "visitor", "text", text))
        typing = BotTyping(self.emit, conversation_id, self.settings.typing_indicator_delay_seconds)
        asked = time.perf_counter()
        try:
            replies = await self.rasa.send(conversation_id, text, metadata)
            if self.metrics is not None:
                self.metrics.bot_answer.observe(time.perf_counter() - asked)
        except RasaUnavailable as error:
            logger.warning("Rasa did not answer: %s", error)
            message = await stored
            await typing.stop()
            await self.offer_queue(conversation, copy.text("status.rasa_unavailable"))
            return message
        finally:
            typing.cancel()
        message = await stored
        await typing.stop()
        if not await self.handle_bot_replies(conversation, replies):
            # Rasa ended the turn without a word: a custom action failed (action server down,
            # timed out or erroring; Rasa drops the action's messages) or the bot is paused.
            logger.warning("Rasa answered a visitor message with nothing; apologising")
            if self.metrics is not None:
                self.metrics.bot_empty_answers.inc()
            await self.offer_queue(conversation, copy.text("status.action_failed"))
        return message

    async def offer_queue(self, conversation: Conversation, text: str) -> None:
        """``text`` with a "join the queue" button that the service handles itself (no Rasa needed)."""
        await self.notifier.system_message(
            conversation, text,
            [{"content_type": "text", "title": copy.text("buttons.join_queue"), "payload": JOIN_QUEUE_PAYLOAD}],
        )

    async def handle_bot_replies(self, conversation: Conversation, replies: List[Dict[str, Any]]) -> bool:
        """Delivers Rasa's answer to the conversation (in the bot's hands); False when it had nothing
        for the visitor."""
        answered = False
        for reply in replies:
            custom = reply.get("custom") or {}
            if isinstance(custom, dict) and isinstance(custom.get(HANDOFF_KEY), dict):
                handoff = custom[HANDOFF_KEY]
                await self.escalate(conversation, str(handoff.get("reason", HandoffReason.VISITOR_REQUEST)), handoff)
                answered = True
                continue
            if isinstance(custom, dict) and custom.get(CONTACT_REQUEST_OFFER_KEY):
                current = await self.store.conversations.find(conversation.id)  # an escalation may have moved it
                await self.notifier.status(current, conversation_id=conversation.id, offer_contact_request=True)
                answered = True
                continue
            text = reply.get("text")
            buttons = reply.get("buttons") or []
            if not text and not buttons:
                continue
            quick_replies = presentation.quick_replies(buttons)
            payload = {"quick_replies": quick_replies} if quick_replies else None
            topic, model_id = answer_label(reply)  # what it answered, which model (rasa_runtime/answer_labels.py)
            message = await self.store.messages.add(conversation.id, "bot", "text", text or "", payload,
                                                    topic=topic, model_id=model_id)
            await self.notifier.message(conversation, message)
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

    async def escalate(self, conversation: Conversation, reason: str, handoff: Optional[Dict[str, Any]]) -> None:
        availability = await self.availability()
        if not availability.available:
            # No human can come: the bot must not keep the visitor waiting in silence.
            await self.notifier.resume_bot(conversation.id)
            await self.notifier.system_message(conversation, availability.text)
            await self.notifier.status(conversation, availability.text, offer_contact_request=True)
            return
        priority = self.priorities.of(reason, verified_customer(handoff) is not None)
        result = await self._apply(conversation.id, Transition.ESCALATE, current=conversation, reason=reason,
                                   handoff=handoff, priority=priority, announce=False)
        # automatic assignment: an agent with room gets it at once (the visitor hears who joined,
        # not a queue place first)
        await self.notifier.transitioned(result, *await self._assign_waiting())

    async def visitor_typing(self, conversation_id: str, on: bool) -> None:
        """Tells the agent holding the conversation (if any) that the visitor is typing."""
        conversation = await self.store.conversations.find(conversation_id)
        if conversation is not None and conversation.agent_id is not None:
            self.hub.send(conversation.agent_id, {"type": "typing", "conversation_id": conversation_id, "on": on})

    async def cancel_waiting(self, conversation_id: str) -> None:
        conversation = await self.store.conversations.find(conversation_id)
        if conversation is None:
            raise TransitionError("not_waiting")  # never written: nothing waits
        await self._apply(conversation_id, Transition.CANCEL, current=conversation)

    async def rate(self, conversation_id: str, score: int, comment: Optional[str] = None) -> bool:
        """Stores the visitor's rating and optional comment (checked by the caller); False for a
        conversation that has no row (nothing to rate)."""
        if await self.store.conversations.find(conversation_id) is None:
            return False
        rated = await self.store.conversations.set_rating(conversation_id, score, comment)
        await self.notifier.status(rated, copy.text("status.rating_thanks"))
        return True

    async def end(self, conversation_id: str) -> None:
        """The visitor ended a chat the bot serves (the widget's "Lopeta keskustelu"): closed, and the
        visitor is asked for the end-of-chat rating. TransitionError when it is not the bot's (waiting
        or with an agent: the visitor cancels the wait first; an agent ends theirs) or has no row."""
        conversation = await self.store.conversations.find(conversation_id)
        if conversation is None:
            raise TransitionError("not_allowed")  # never written: nothing to end
        await self._apply(conversation_id, Transition.END, current=conversation)

    async def answer_feedback(self, conversation_id: str, message_id: int, helpful: bool) -> bool:
        """The visitor's "was this helpful?" yes or no on a bot answer of their own conversation (the latest
        counts); False for any other message (someone else's, a system or agent message, small talk)."""
        message = await self.store.messages.find(message_id)
        if message is None or message.conversation_id != conversation_id or not presentation.asks_feedback(message):
            return False
        await self.store.feedback.give(message, helpful)
        return True

    async def history(self, conversation_id: str, after_id: int) -> List[Json]:
        """What a (re)connecting visitor missed, with their feedback on the answers."""
        messages = await self.store.messages.after(conversation_id, after_id, visible_to="visitor")
        chosen = await self.store.feedback.of_conversation(conversation_id) if messages else {}
        return [await self.views.message_json(m, chosen.get(m.id)) for m in messages]

    async def contact_request(self, conversation_id: str, name: Optional[str], contact: Optional[str],
                              message: Optional[str], customer_id: Optional[str] = None) -> bool:
        """A ticket for the agents; ``customer_id``: the customer whose identity token the visitor's
        connection verified (None: not logged in)."""
        name, contact, message = (str(v or "").strip()[:500] for v in (name, contact, message))
        conversation = await self.store.conversations.find(conversation_id)
        if not name or not contact or not message:
            await self.notifier.status(conversation, copy.text("status.contact_request_invalid"),
                                       conversation_id=conversation_id, offer_contact_request=True)
            return False
        # A request from a visitor who never wrote has no conversation row to refer to (nor a customer
        # id: an erasure by customer finds a customer's tickets through their conversations).
        if conversation is None:
            await self.store.tickets.create(None, name, contact, message)
        else:
            await self.store.tickets.create(conversation_id, name, contact, message, customer_id=customer_id)
        await self.notifier.status(conversation, copy.text("status.contact_request_received"),
                                   conversation_id=conversation_id)
        self.hub.broadcast({"type": "tickets"})
        return True

    # ---- agent side: ``conversation`` is the row the handler has just read ---------------
    async def claim(self, conversation: Conversation, agent: Agent) -> Conversation:
        result = await self._apply(conversation.id, Transition.CLAIM, current=conversation, agent_id=agent.id)
        return result.conversation

    @staticmethod
    def _require_holder(conversation: Conversation, agent: Agent) -> None:
        if conversation.state != ConversationState.ASSIGNED:
            raise TransitionError("not_assigned")
        if conversation.agent_id != agent.id:
            raise TransitionError("not_yours")

    async def agent_message(self, conversation: Conversation, agent: Agent, text: str,
                            payload: Optional[Dict[str, Any]] = None) -> Message:
        """An agent's reply; ``payload``: what it came from (a suggested answer), kept with the message."""
        self._require_holder(conversation, agent)
        message = await self.store.messages.add(conversation.id, "agent", "text", text, payload, agent_id=agent.id)
        await self.notifier.message(conversation, message)
        if agent.missed_in_row:  # answering starts the count of missed response-time limits again
            await self.store.agents.answered(agent.id)
        if conversation.last_agent_message_at is None or (
                conversation.assigned_at is not None and conversation.last_agent_message_at < conversation.assigned_at):
            self.floor.changed()  # the first answer since the agent got it: no longer unanswered on the floor
        try:
            await self.rasa.record_agent_message(conversation.id, text, agent.display_name)
        except RasaUnavailable as error:
            logger.warning("Could not record an agent message in Rasa: %s", error)
        return message

    async def note(self, conversation: Conversation, agent: Agent, text: str) -> Message:
        self._require_holder(conversation, agent)
        message = await self.store.messages.add(conversation.id, "agent", "note", text, agent_id=agent.id)
        await self.notifier.message(conversation, message)
        return message

    async def transfer(self, conversation: Conversation, agent: Agent, to_agent_id: int) -> Conversation:
        self._require_holder(conversation, agent)
        if to_agent_id not in await self.online_agent_ids():
            raise TransitionError("agent_not_online")
        try:  # online and below capacity, checked again where it is written (under the assignment lock)
            result = await self._apply(conversation.id, Transition.TRANSFER, current=conversation,
                                       agent_id=to_agent_id, require_online=True)
        except TransitionError as refused:
            if refused.code == "at_capacity":
                raise TransitionError("agent_full") from None
            raise
        await self.assign_waiting()  # the slot it left
        return result.conversation

    async def reassign(self, conversation: Conversation, supervisor: Agent, to_agent_id: int) -> Conversation:
        """A supervisor moves a chat to another agent from the floor: one the agent holds (a transfer) or
        one waiting in the queue (an assignment). Through the state machine, under the assignment lock:
        the agent must be online and below capacity ("agent_full"). The visitor hears who joined, the
        agent who gets it the ``state`` event (the console alerts them), the agent who loses it the
        ``state`` event and a ``notice`` saying who moved it; the chat keeps a note of it."""
        moves = {ConversationState.ASSIGNED: Transition.TRANSFER, ConversationState.WAITING: Transition.ASSIGN}
        transition = moves.get(ConversationState(conversation.state))
        if transition is None:
            raise TransitionError("not_movable")
        if to_agent_id not in await self.online_agent_ids():
            raise TransitionError("agent_not_online")
        try:
            result = await self._apply(conversation.id, transition, current=conversation, agent_id=to_agent_id,
                                       require_online=True)
        except TransitionError as refused:
            if refused.code == "at_capacity":
                raise TransitionError("agent_full") from None
            if refused.code in ("not_allowed", "already_claimed"):
                raise TransitionError("not_movable") from None  # it moved on meanwhile
            raise
        if result.changed:
            await self._tell_moved(result, supervisor)
            await self.assign_waiting()  # the slot the previous agent left
        return result.conversation

    async def _tell_moved(self, result: TransitionResult, supervisor: Agent) -> None:
        """A note in the chat for whoever holds or opens it (never the visitor) and a notice to the agent
        who lost it, saying who moved it where."""
        conversation, previous = result.conversation, result.previous
        to_name = await self.views.agent_name(conversation.agent_id)
        from_id = previous.agent_id if previous is not None else None
        key = "notices.moved_by_supervisor" if from_id is not None else "notices.assigned_by_supervisor"
        text = copy.text(key, supervisor_name=supervisor.display_name, agent_name=to_name)
        note = await self.store.messages.add(conversation.id, "system", "note", text)
        await self.notifier.message(conversation, note)
        if from_id is not None:
            self.hub.send(from_id, {"type": "message", "conversation_id": conversation.id,
                                    "message": await self.views.message_json(note)})
            self.hub.send(from_id, {"type": "notice", "conversation_id": conversation.id, "text": text})

    async def return_to_bot(self, conversation: Conversation, agent: Agent) -> Conversation:
        self._require_holder(conversation, agent)
        result = await self._apply(conversation.id, Transition.RETURN_TO_BOT, current=conversation, agent_id=agent.id)
        await self.assign_waiting()
        return result.conversation

    async def close(self, conversation: Conversation, agent: Agent) -> Conversation:
        self._require_holder(conversation, agent)
        result = await self._apply(conversation.id, Transition.CLOSE, current=conversation, agent_id=agent.id)
        await self.assign_waiting()
        return result.conversation

    # ---- automatic assignment, the response-time limit, the sweeps -------------------------
    @property
    def automatic(self) -> bool:
        """LIVEAGENT_ASSIGNMENT=auto: waiting chats go to online agents with room without a claim."""
        return self.settings.assignment == "auto"

    async def _assign_waiting(self) -> List[TransitionResult]:
        """In automatic mode, waiting chats to agents with room (store ``assign_waiting``), unannounced."""
        if not self.automatic:
            return []
        return await self.store.conversations.assign_waiting(CHAT_ROLES)

    async def assign_waiting(self) -> List[TransitionResult]:
        """Automatic assignment after anything that may have freed a slot or added a waiting chat: each
        assigned visitor hears who joined, each agent gets the chat as a ``state`` event (the console
        alerts them as for a transfer), and every agent the queue."""
        results = await self._assign_waiting()
        await self.notifier.transitioned(*results)
        return results

    async def requeue_sweep(self, now: Optional[dt.datetime] = None) -> int:
        """Chats whose agent went offline or left the visitor unanswered go back to the queue (and, in
        automatic mode, on to agents with room)."""
        now = now or utcnow()
        online = set(await self.online_agent_ids())
        offline = [a.id for a in await self.store.agents.list() if a.id not in online]
        stale = await self.store.conversations.needing_requeue(
            now, dt.timedelta(seconds=self.settings.unanswered_requeue_seconds), offline)
        results = []
        for conversation in stale:
            try:
                results.append(await self._apply(conversation.id, Transition.REQUEUE, current=conversation,
                                                 announce=False))
            except TransitionError:
                continue  # closed or returned to the bot since it was read: nothing to requeue
        await self.notifier.transitioned(*results)  # one queue read and broadcast for all of them
        await self.assign_waiting()
        return len(results)

    async def response_limit_sweep(self, now: Optional[dt.datetime] = None) -> int:
        """The response-time limit (LIVEAGENT_RESPONSE_LIMIT_SECONDS): a chat whose agent has not written
        to the visitor within the limit of getting it goes to the next agent with room (automatic mode)
        or back to its place in the queue; the agent gets a note saying why, and after
        ``misses_before_away`` misses in a row is set away. Returns how many chats moved."""
        if not self.settings.response_limit_seconds:
            return 0
        now = now or utcnow()
        limit = dt.timedelta(seconds=self.settings.response_limit_seconds)
        moved = 0
        for conversation in await self.store.conversations.over_response_limit(now, limit):
            handed = await self.store.conversations.hand_over_unanswered(
                conversation.id, CHAT_ROLES, limit, automatic=self.automatic, now=now)
            if handed is None:
                continue  # answered (or moved) since it was read
            result, misses = handed
            moved += 1
            await self.notifier.transitioned(result)
            assert result.previous is not None and result.previous.agent_id is not None
            await self._tell_missed(result, int(self.settings.response_limit_seconds))
            if misses >= self.settings.misses_before_away:
                agent = await self.store.agents.get(result.previous.agent_id)
                if agent is not None and agent.presence == "online":
                    await self.set_presence(agent, "away")
                    self.hub.send(agent.id, {"type": "notice", "conversation_id": None,
                                             "text": copy.text("notices.set_away", misses=misses)})
        if moved:
            await self.assign_waiting()
        return moved

    async def _tell_missed(self, result: TransitionResult, seconds: int) -> None:
        """A note in the chat (for whoever holds or opens it, never the visitor) and a notice to the
        agent who let its response time run out."""
        conversation, previous = result.conversation, result.previous
        assert previous is not None
        if conversation.state == ConversationState.ASSIGNED:
            text = copy.text("notices.response_limit_transferred", seconds=seconds,
                             agent_name=await self.views.agent_name(conversation.agent_id))
        else:
            text = copy.text("notices.response_limit_requeued", seconds=seconds)
        note = await self.store.messages.add(conversation.id, "system", "note", text)
        await self.notifier.message(conversation, note)  # the new holder sees why it came to them
        self.hub.send(previous.agent_id, {"type": "message", "conversation_id": conversation.id,
                                          "message": await self.views.message_json(note)})
        self.hub.send(previous.agent_id, {"type": "notice", "conversation_id": conversation.id, "text": text})

    async def set_presence(self, agent: Agent, presence: str) -> Agent:
        """Presence change; an agent going offline hands their chats back to the queue, one coming
        online gets waiting chats (automatic mode)."""
        updated = await self.store.agents.set_presence(agent.id, presence, utcnow())
        self.hub.broadcast({"type": "presence", "agent": self.agent_event(updated)})
        self.floor.changed()
        requeued = await self.requeue_sweep() if presence == "offline" else 0
        if presence == "online":
            await self.assign_waiting()
        if presence != agent.presence and not requeued:  # places came or went (a requeue told the waiting)
            await self.notifier.tell_waiting()
        return updated

    async def set_capacity(self, agent: Agent, capacity: int) -> Agent:
        """A supervisor sets how many chats the agent may hold at once; more room is filled at once
        (automatic mode), less takes no chat away."""
        updated = await self.store.agents.set_capacity(agent.id, capacity)
        self.hub.broadcast({"type": "presence", "agent": self.agent_event(updated)})
        self.floor.changed()
        await self.assign_waiting()
        return updated

    @staticmethod
    def agent_event(agent: Agent) -> Json:
        """An agent as the ``presence`` event shows them to every console."""
        return {"id": agent.id, "display_name": agent.display_name, "presence": agent.presence,
                "capacity": agent.capacity}
