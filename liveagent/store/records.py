"""The frozen records the repositories return: callers never hold rows or connections.

Fields typed with an Enum (`ConversationState`, `Transition`) are converted from their stored
strings by `engine.build`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Dict, Optional

from liveagent.store.state import ConversationState, Transition

JsonObject = Dict[str, Any]  # a JSON object as stored (handoff signal, message payload)


@dataclass(frozen=True)
class Conversation:
    id: str
    state: ConversationState
    agent_id: Optional[int]
    version: int
    escalation_reason: Optional[str]
    handoff: Optional[JsonObject] = field(hash=False)
    customer_id: Optional[str]
    created_at: dt.datetime
    updated_at: dt.datetime
    waiting_since: Optional[dt.datetime]
    last_visitor_message_at: Optional[dt.datetime]
    last_agent_message_at: Optional[dt.datetime]
    rating: Optional[int]
    # the queue and assignment (liveagent/store/assignment.py)
    priority: int = 0
    queued_at: Optional[dt.datetime] = None  # when it last joined the queue from the bot
    assigned_at: Optional[dt.datetime] = None  # when its holder got it
    missed_by: Optional[int] = None  # the agent who last let its response time run out
    # the claim or automatic assignment that began the current assignment; a transfer keeps it (insights)
    assignment_started_at: Optional[dt.datetime] = None


@dataclass(frozen=True)
class TransitionResult:
    """What a transition did: the conversation after it, and (when it changed something) before it."""

    conversation: Conversation
    changed: bool  # False for an idempotent repeat: nothing was written
    transition: Optional[Transition] = None
    previous: Optional[Conversation] = None  # the row the change was planned against (None: no change)


@dataclass(frozen=True)
class ConversationEvent:
    id: int
    conversation_id: str
    transition: Transition
    from_state: ConversationState
    to_state: ConversationState
    agent_id: Optional[int]
    created_at: dt.datetime
    reason: Optional[str] = None  # escalate: why the bot handed over
    span_started_at: Optional[dt.datetime] = None  # when the wait or assignment this event ends began


@dataclass(frozen=True)
class Message:
    id: int
    conversation_id: str
    sender: str
    kind: str
    text: str
    payload: Optional[JsonObject] = field(hash=False)
    agent_id: Optional[int]
    created_at: dt.datetime
    topic: Optional[str] = None  # a bot message: the label of what it answered (lumo_shared/answers.py)
    model_id: Optional[str] = None  # ... and the model that answered


@dataclass(frozen=True)
class Agent:
    """An agent without the password hash, which never leaves the store."""

    id: int
    username: str
    display_name: str
    role: str
    presence: str
    last_seen_at: Optional[dt.datetime]
    active: bool
    capacity: int = 3  # chats at once (schema.DEFAULT_CAPACITY)
    missed_in_row: int = 0  # response-time limits missed one after the other
    last_assigned_at: Optional[dt.datetime] = None


@dataclass(frozen=True)
class CannedReply:
    id: int
    title: str
    text: str
    updated_by: Optional[int]
    updated_at: dt.datetime


@dataclass(frozen=True)
class Ticket:
    id: int
    conversation_id: Optional[str]
    name: str
    contact: str
    message: str
    created_at: dt.datetime
    handled_by: Optional[int]
    handled_at: Optional[dt.datetime]
    customer_id: Optional[str] = None  # the customer, when their identity was verified


@dataclass(frozen=True)
class ReplySuggestion:
    """A suggested answer shown to agents for a visitor's message (liveagent/suggestions.py)."""

    id: int
    conversation_id: str
    message_id: int  # the visitor's message it answers
    topic: str
    rank: int
    confidence: float
    text: str
    shown_at: dt.datetime
    used_message_id: Optional[int]  # the first agent reply sent from it
    used_at: Optional[dt.datetime]
    edited: Optional[bool]
