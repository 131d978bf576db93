"""Persistence of the live-agent service: the conversation state machine, schema, migrations, the
repositories and the Store that holds them."""

from liveagent.store.engine import DEFAULT_DATABASE_URL, ConcurrentUpdate, NotFound, make_engine
from liveagent.store.migrate import upgrade
from liveagent.store.records import (
    Agent,
    CannedReply,
    Conversation,
    ConversationEvent,
    Message,
    Ticket,
    TransitionResult,
)
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
from liveagent.store.store import Store

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
