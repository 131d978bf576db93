"""How conversations, messages and statuses look to the widget and the agent console (JSON shapes).

Pure functions over the store's dataclasses: what they need that the store must look up (agent
names, unread counts, queue positions, how many agents are online) is passed in, so they are
tested without a database. Finnish text comes from the copy file (liveagent/copy.py).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any, Dict, List, Optional

from liveagent import copy
from liveagent.store import Conversation, ConversationState, Message
from liveagent.store.overview import Handover
from lumo_shared.answers import is_answer

Json = Dict[str, Any]


def asks_feedback(message: Message) -> bool:
    """Whether the visitor is asked "Oliko vastauksesta apua?" under this message: a bot answer to a
    question (lumo_shared/answers.py), never a system message, an agent's or small talk."""
    return message.sender == "bot" and message.kind == "text" and is_answer(message.topic)


def message_json(message: Message, agent_name: Optional[str], helpful: Optional[bool] = None) -> Json:
    """A message as the widget and the console show it; ``agent_name`` only for agents' messages. A bot
    answer has ``feedback``: ``{"helpful": true|false|null}`` (the visitor's latest choice, null: none)."""
    payload = message.payload or {}
    shown: Json = {
        "id": message.id,
        "sender": message.sender,
        "kind": message.kind,
        "text": message.text,
        "quick_replies": payload.get("quick_replies", []),
        "agent_name": agent_name if message.sender == "agent" else None,
        "created_at": message.created_at.isoformat(),
    }
    if asks_feedback(message):
        shown["feedback"] = {"helpful": helpful}
    return shown


def quick_replies(buttons: List[Dict[str, Any]]) -> List[Json]:
    """Rasa's buttons as the widget's quick replies."""
    return [{"content_type": "text", "title": b.get("title", ""), "payload": b.get("payload", "")} for b in buttons]


def new_status() -> Json:
    """The status of a conversation that has no row yet (the visitor has not written)."""
    return {"state": ConversationState.BOT.value, "position": None, "wait_minutes": None,
            "agent_name": None, "text": ""}


def stamped(status: Json, conversation: Conversation) -> Json:
    """``status`` with the version of the conversation it was computed from: a client keeps the line of
    the newest version it has seen, so a line computed before a transition (on any replica) that
    arrives after it is dropped (the widget: liveagent/static/widget/chat.js ``applyStatus``)."""
    return {**status, "version": conversation.version}


@dataclass(frozen=True)
class Staffing:
    """What a waiting visitor's prospects depend on: places free now (online agents below their capacity),
    places in all (every online agent's capacity) and how long an agent's chat takes (minutes)."""

    free: int
    places: int
    handling_minutes: float


def wait_minutes(ahead: int, places: int, handling_minutes: float) -> int:
    """The expected wait of a visitor with ``ahead`` chats to go before a place frees for them: with every
    place taken, one frees every ``handling_minutes / places`` minutes on average."""
    return max(1, math.ceil(ahead * handling_minutes / max(1, places)))


def waiting_status(position: int, staffing: Staffing, conversation: Optional[Conversation] = None) -> Json:
    """A waiting visitor's line. Within the free places an agent is there for them: no estimate, they
    will be with them shortly. Behind them, the wait for the chats between to end. With its
    ``conversation``, the line carries the version it was computed from (``stamped``)."""
    base = {**new_status(), "state": ConversationState.WAITING.value, "position": position}
    if conversation is not None:
        base = stamped(base, conversation)
    if position <= staffing.free:
        key = "status.waiting_soon_first" if position == 1 else "status.waiting_soon"
        return {**base, "text": copy.text(key, position=position)}
    wait = wait_minutes(position - staffing.free, staffing.places, staffing.handling_minutes)
    key = "status.waiting_first" if position == 1 else "status.waiting"
    return {**base, "wait_minutes": wait, "text": copy.text(key, position=position, wait_minutes=wait)}


def status(conversation: Optional[Conversation], *, position: Optional[int] = None,
           staffing: Optional[Staffing] = None, agent_name: Optional[str] = None) -> Json:
    """The status line of a conversation: its state, and the queue place and wait, or the agent.

    ``position`` (1-based) and ``staffing`` matter for a waiting conversation, ``agent_name`` for an
    assigned one.
    """
    if conversation is None:
        return new_status()
    state = ConversationState(conversation.state)
    if state == ConversationState.WAITING:
        return waiting_status(position or 1, staffing or Staffing(0, 0, 0.0), conversation)
    result = stamped({**new_status(), "state": state.value}, conversation)
    if state == ConversationState.ASSIGNED:
        result.update(agent_name=agent_name, text=copy.text("status.serving", agent_name=agent_name))
    return result


def brief_intents(conversation: Conversation) -> List[str]:
    """The labels the bot recognised before the handoff ("faq/attachments", "check_account_status")."""
    handoff = conversation.handoff or {}
    summary = handoff.get("summary", {}) if isinstance(handoff, dict) else {}
    intents = summary.get("intents", []) if isinstance(summary, dict) else []
    return [str(intent) for intent in intents] if isinstance(intents, list) else []


# Where a handover leaves a conversation: a transfer with the agent it went to, a requeue in the queue.
HANDOVER_STATES = {"transfer": ConversationState.ASSIGNED, "requeue": ConversationState.WAITING}


def handover(handover: Handover, from_agent_name: Optional[str], to_agent_name: Optional[str]) -> Json:
    """Who handed a conversation over, to whom (None: to the queue) and when, for the console's mark."""
    return {"kind": handover.kind, "from_agent_id": handover.from_agent_id, "from_agent_name": from_agent_name,
            "to_agent_id": handover.to_agent_id, "to_agent_name": to_agent_name, "at": handover.at.isoformat()}


def brief(conversation: Conversation, agent_name: Optional[str], unread: int, now: dt.datetime,
          topics: Optional[List[Json]] = None, *, handover: Optional[Json] = None,
          unanswered: Optional[Json] = None) -> Json:
    """A conversation as the console lists it (queue, own chats, the open chat's header); ``topics``:
    its intents with the titles agents read (liveagent/topics.py), the labels themselves without;
    ``handover``: who transferred or requeued it (``handover()``); ``unanswered``: the visitor's
    message written after the last agent reply (a message_json)."""
    handoff = conversation.handoff or {}
    summary = handoff.get("summary", {}) if isinstance(handoff, dict) else {}
    waiting_seconds = None
    if conversation.waiting_since is not None:
        waiting_seconds = int((now - conversation.waiting_since).total_seconds())
    reason = conversation.escalation_reason
    return {
        "id": conversation.id,
        "state": ConversationState(conversation.state).value,
        "agent_id": conversation.agent_id,
        "agent_name": agent_name,
        "waiting_since": conversation.waiting_since.isoformat() if conversation.waiting_since else None,
        "waiting_seconds": waiting_seconds,
        "reason": reason,
        "priority": conversation.priority,  # its place in the queue's order (liveagent/priorities.py)
        "reason_text": copy.lookup(f"reasons.{reason}") or reason,
        "intents": summary.get("intents", []),
        "topics": topics if topics is not None else [{"label": i, "title": i} for i in brief_intents(conversation)],
        "last_messages": summary.get("last_messages", []),
        "customer": summary.get("customer", {"verified": bool(conversation.customer_id),
                                             "customer_id": conversation.customer_id}),
        "unread": unread,
        "handover": handover,
        "unanswered": unanswered,
    }
