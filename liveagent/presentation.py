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

Json = Dict[str, Any]


def message_json(message: Message, agent_name: Optional[str]) -> Json:
    """A message as the widget and the console show it; ``agent_name`` only for agents' messages."""
    payload = message.payload or {}
    return {
        "id": message.id,
        "sender": message.sender,
        "kind": message.kind,
        "text": message.text,
        "quick_replies": payload.get("quick_replies", []),
        "agent_name": agent_name if message.sender == "agent" else None,
        "created_at": message.created_at.isoformat(),
    }


def quick_replies(buttons: List[Dict[str, Any]]) -> List[Json]:
    """Rasa's buttons as the widget's quick replies."""
    return [{"content_type": "text", "title": b.get("title", ""), "payload": b.get("payload", "")} for b in buttons]


def new_status() -> Json:
    """The status of a conversation that has no row yet (the visitor has not written)."""
    return {"state": ConversationState.BOT.value, "position": None, "wait_minutes": None,
            "agent_name": None, "text": ""}


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


def waiting_status(position: int, staffing: Staffing) -> Json:
    """A waiting visitor's line. Within the free places an agent is there for them: no estimate, they
    will be with them shortly. Behind them, the wait for the chats between to end."""
    base = {**new_status(), "state": ConversationState.WAITING.value, "position": position}
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
        return waiting_status(position or 1, staffing or Staffing(0, 0, 0.0))
    result = {**new_status(), "state": state.value}
    if state == ConversationState.ASSIGNED:
        result.update(agent_name=agent_name, text=copy.text("status.assigned", agent_name=agent_name))
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
