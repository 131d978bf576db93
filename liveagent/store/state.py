"""The conversation state machine: one table of allowed transitions and one pure planning function.

Every state change in the service goes through `plan` (called by `Store.transition`), so the rules
live in exactly one place and can be tested without a database.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Dict, FrozenSet, Literal, Optional, Tuple, Union


class ConversationState(str, enum.Enum):
    """Who is answering the visitor right now."""

    BOT = "bot"
    WAITING = "waiting"
    ASSIGNED = "assigned"
    CLOSED = "closed"


class Transition(str, enum.Enum):
    """The only ways a conversation may change state (see `ALLOWED`)."""

    ESCALATE = "escalate"  # bot -> waiting: the bot handed the visitor over
    CANCEL = "cancel"  # waiting -> bot: the visitor no longer wants to wait
    CLAIM = "claim"  # waiting -> assigned: an agent takes the conversation
    ASSIGN = "assign"  # waiting -> assigned: the service gives it to an agent (automatic assignment)
    TRANSFER = "transfer"  # assigned -> assigned: to another agent
    REQUEUE = "requeue"  # assigned -> waiting: agent went offline or left the visitor unanswered
    RETURN_TO_BOT = "return_to_bot"  # assigned -> bot
    CLOSE = "close"  # assigned|waiting -> closed
    REOPEN = "reopen"  # closed -> bot: the visitor writes again
    END = "end"  # bot -> closed: the visitor ended the chat with the bot (the widget's end control)


S = ConversationState

ALLOWED: Dict[Transition, Tuple[FrozenSet[ConversationState], ConversationState]] = {
    Transition.ESCALATE: (frozenset({S.BOT}), S.WAITING),
    Transition.CANCEL: (frozenset({S.WAITING}), S.BOT),
    Transition.CLAIM: (frozenset({S.WAITING}), S.ASSIGNED),
    Transition.ASSIGN: (frozenset({S.WAITING}), S.ASSIGNED),
    Transition.TRANSFER: (frozenset({S.ASSIGNED}), S.ASSIGNED),
    Transition.REQUEUE: (frozenset({S.ASSIGNED}), S.WAITING),
    Transition.RETURN_TO_BOT: (frozenset({S.ASSIGNED}), S.BOT),
    Transition.CLOSE: (frozenset({S.ASSIGNED, S.WAITING}), S.CLOSED),
    Transition.REOPEN: (frozenset({S.CLOSED}), S.BOT),
    Transition.END: (frozenset({S.BOT}), S.CLOSED),
}

# Transitions that name the agent who holds the conversation afterwards.
NEEDS_AGENT: FrozenSet[Transition] = frozenset({Transition.CLAIM, Transition.ASSIGN, Transition.TRANSFER})
# Transitions that take a waiting conversation: a second one for another agent finds it held.
TAKES: FrozenSet[Transition] = frozenset({Transition.CLAIM, Transition.ASSIGN})


class TransitionError(Exception):
    """A refused transition; `code` is machine-readable so HTTP handlers can map it to a status."""

    def __init__(self, code: str, message: str = "") -> None:
        super().__init__(message or code)
        self.code = code


@dataclass(frozen=True)
class Change:
    """The state and agent a conversation has after an accepted transition."""

    state: ConversationState
    agent_id: Optional[int]


class _Unchanged(enum.Enum):
    NO_CHANGE = "no_change"


NoChange = _Unchanged.NO_CHANGE
"""Returned for an idempotent repeat (a retried request, a double click): nothing to write."""

Outcome = Union[Change, Literal[_Unchanged.NO_CHANGE]]


def plan(
    current_state: ConversationState,
    current_agent_id: Optional[int],
    transition: Transition,
    agent_id: Optional[int] = None,
) -> Outcome:
    """Decide what `transition` does to a conversation in `current_state` held by `current_agent_id`.

    Repeating a transition whose effect is already in place returns `NoChange` instead of an error,
    because clients retry and two browser tabs click the same button. `agent_id` is the agent who
    will hold the conversation (CLAIM, ASSIGN, TRANSFER); other transitions ignore it here.
    """
    current_state = ConversationState(current_state)
    transition = Transition(transition)
    from_states, to_state = ALLOWED[transition]
    if transition in NEEDS_AGENT and agent_id is None:
        raise TransitionError("agent_required", f"{transition.value} needs an agent_id")

    if transition in TAKES and current_state is S.ASSIGNED:
        if current_agent_id == agent_id:
            return NoChange
        raise TransitionError("already_claimed", "another agent already holds this conversation")
    if transition is Transition.TRANSFER and current_state is S.ASSIGNED and current_agent_id == agent_id:
        return NoChange
    if current_state not in from_states:
        if current_state is to_state:
            return NoChange
        raise TransitionError("not_allowed", f"{transition.value} is not allowed from {current_state.value}")
    return Change(to_state, agent_id if to_state is S.ASSIGNED else None)
