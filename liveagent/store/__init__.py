"""Persistence of the live-agent service: the conversation state machine, schema, migrations and Store."""

from liveagent.store.migrate import upgrade
from liveagent.store.state import (
    ALLOWED,
    Change,
    ConversationState,
    NoChange,
    Outcome,
    Transition,
    TransitionError,
    plan,
)
from liveagent.store.store import (
    DEFAULT_DATABASE_URL,
    Agent,
    CannedReply,
    ConcurrentUpdate,
    Conversation,
    ConversationEvent,
    Message,
    NotFound,
    Store,
    Ticket,
    TransitionResult,
    make_engine,
)

__all__ = [
    "ALLOWED",
    "Agent",
    "CannedReply",
    "Change",
    "ConcurrentUpdate",
    "Conversation",
    "ConversationEvent",
    "ConversationState",
    "DEFAULT_DATABASE_URL",
    "Message",
    "NoChange",
    "NotFound",
    "Outcome",
    "Store",
    "Ticket",
    "Transition",
    "TransitionError",
    "TransitionResult",
    "make_engine",
    "plan",
    "upgrade",
]
