"""The handoff contract between the action server and the live-agent service (docs/handoff.md).

Two messages cross the boundary:

* ``GET /api/availability`` (service -> escalation action): can a human take a chat now? The service
  answers with ``Availability.to_json()``, the action reads it with ``Availability.from_json``.
* the handoff signal (escalation action -> service, through Rasa): a bot message whose ``custom``
  payload is ``HandoffSignal.to_custom()``; when no human can come, the action sends
  ``contact_request_offer(reason)`` instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Optional, Tuple

HANDOFF_CONTRACT_VERSION = 1
# Keys of the bot message's ``custom`` payload.
HANDOFF_KEY = "handoff"
CONTACT_REQUEST_OFFER_KEY = "contact_request_offer"
# The escalation action: content/ reads it from trackers, the action server serves it.
ESCALATION_ACTION = "action_escalate"
AVAILABILITY_PATH = "/api/availability"


class HandoffReason:
    """Why the bot hands a conversation to a human (the signal's ``reason``)."""

    VISITOR_REQUEST = "visitor_request"
    REPEATED_FALLBACK = "repeated_fallback"
    ACTION_FAILED = "action_failed"
    # The visitor accepted the person the bot offered because they were upset or lost (issue 15).
    VISITOR_UPSET = "visitor_upset"
    VISITOR_LOST = "visitor_lost"
    # The same for a visitor who told about a change in their life (a death, a lost job, a baby).
    VISITOR_LIFE_EVENT = "visitor_life_event"


@dataclass(frozen=True)
class HandoffCustomer:
    """Who the visitor is: a customer id only when the latest message's identity verified."""

    verified: bool
    customer_id: Optional[str] = None

    def to_json(self) -> Dict[str, Any]:
        data: Dict[str, Any] = {"verified": self.verified}
        if self.customer_id is not None:
            data["customer_id"] = self.customer_id
        return data


@dataclass(frozen=True)
class HandoffSummary:
    """What the agent sees before answering."""

    intents: Tuple[str, ...]  # up to 10 latest intents, FAQ messages as their topic ("faq/login")
    last_messages: Tuple[str, ...]  # latest visitor messages, personal data masked
    customer: HandoffCustomer
    turns: int  # visitor messages so far
    failed_action: Optional[str] = None  # for action_failed: which action

    def to_json(self) -> Dict[str, Any]:
        data: Dict[str, Any] = {
            "intents": list(self.intents),
            "last_messages": list(self.last_messages),
            "customer": self.customer.to_json(),
            "turns": self.turns,
        }
        if self.failed_action:
            data["failed_action"] = self.failed_action
        return data


@dataclass(frozen=True)
class HandoffSignal:
    """The machine-readable request for a human (version ``HANDOFF_CONTRACT_VERSION``)."""

    reason: str  # a HandoffReason
    conversation_id: str  # Rasa's sender id
    requested_at: str  # UTC, ISO 8601, seconds
    summary: HandoffSummary
    version: int = HANDOFF_CONTRACT_VERSION

    def to_custom(self) -> Dict[str, Any]:
        """The bot message's ``custom`` payload."""
        return {
            HANDOFF_KEY: {
                "version": self.version,
                "reason": self.reason,
                "conversation_id": self.conversation_id,
                "requested_at": self.requested_at,
                "summary": self.summary.to_json(),
            }
        }


def contact_request_offer(reason: str) -> Dict[str, Any]:
    """The ``custom`` payload that makes the widget offer a contact request (no human can come now)."""
    return {CONTACT_REQUEST_OFFER_KEY: {"reason": reason}}


class AvailabilityReason:
    """Why a human can or cannot take a chat now (``Availability.reason``)."""

    OPEN = "open"
    CLOSED = "closed"
    NO_AGENTS = "no_agents"
    QUEUE_FULL = "queue_full"


@dataclass(frozen=True)
class Availability:
    """The service's answer to ``GET /api/availability``; ``text`` is its Finnish explanation."""

    available: bool
    reason: str = AvailabilityReason.OPEN
    text: str = ""

    def to_json(self) -> Dict[str, Any]:
        return {"available": self.available, "reason": self.reason, "text": self.text}

    @classmethod
    def from_json(cls, data: Any) -> Optional["Availability"]:
        """The answer in ``data``, or None when it is not one."""
        if not isinstance(data, dict) or not isinstance(data.get("available"), bool):
            return None
        return cls(data["available"], str(data.get("reason", "")), str(data.get("text", "")))
