"""Escalation to a human: pause the bot and emit the handoff signal.

The signal is a bot message whose ``custom`` payload is ``{"handoff": {...}}`` (contract in
docs/handoff.md). The live-agent service turns it into a waiting conversation; the
``ConversationPaused`` event keeps Rasa silent (it still records what the visitor writes) until
the service resumes the conversation.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ConversationPaused, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.clients.liveagent import human_availability
from actions.identity import IdentityStatus, identity_from_metadata, latest_user_metadata
from actions.privacy import mask_personal_data
from actions.settings import get_settings

HANDOFF_CONTRACT_VERSION = 1


class HandoffReason:
    VISITOR_REQUEST = "visitor_request"
    REPEATED_FALLBACK = "repeated_fallback"
    ACTION_FAILED = "action_failed"


def user_events(tracker: Tracker) -> List[Dict[str, Any]]:
    return [event for event in tracker.events if event.get("event") == "user"]


def intent_label(event: Dict[str, Any]) -> Optional[str]:
    """The full intent of a user event, with the FAQ topic ("faq/login") when there is one."""
    parse_data = event.get("parse_data") or {}
    name = (parse_data.get("intent") or {}).get("name")
    if name == "faq":
        selector = (parse_data.get("response_selector") or {}).get("faq") or {}
        key = (selector.get("response") or {}).get("intent_response_key")
        if key:
            return key
    return name


def failed_action_before_latest_message(tracker: Tracker) -> Optional[str]:
    """The action that failed in the bot turn just before the latest user message, if any."""
    events = list(tracker.events)
    user_positions = [i for i, event in enumerate(events) if event.get("event") == "user"]
    if len(user_positions) < 2:
        return None
    previous_turn = events[user_positions[-2] + 1 : user_positions[-1]]
    for event in previous_turn:
        if event.get("event") == "slot" and event.get("name") == "failed_action" and event.get("value"):
            return str(event["value"])
    return None


def build_handoff_signal(tracker: Tracker, reason: str, failed_action: Optional[str] = None) -> Dict[str, Any]:
    """The machine-readable handoff signal for the live-agent service."""
    settings = get_settings()
    users = user_events(tracker)
    identity = identity_from_metadata(latest_user_metadata(tracker.events), settings, tracker.sender_id)
    customer: Dict[str, Any] = {"verified": identity.status == IdentityStatus.VERIFIED}
    if identity.identity is not None:
        customer["customer_id"] = identity.identity.customer_id
    recent = users[-settings.handoff_recent_messages :]
    summary: Dict[str, Any] = {
        "intents": [label for label in (intent_label(event) for event in users) if label][-10:],
        "last_messages": [mask_personal_data(event.get("text") or "") for event in recent],
        "customer": customer,
        "turns": len(users),
    }
    if failed_action:
        summary["failed_action"] = failed_action
    return {
        "handoff": {
            "version": HANDOFF_CONTRACT_VERSION,
            "reason": reason,
            "conversation_id": tracker.sender_id,
            "requested_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "summary": summary,
        }
    }


async def escalate(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    reason: str,
    response: str,
    failed_action: Optional[str] = None,
) -> List[EventType]:
    """Tell the visitor, emit the signal and pause the bot; or, when no human can come, say so."""
    availability = await human_availability(get_settings().liveagent_url)
    if not availability.available:
        # The text is the live-agent service's Finnish copy: when service opens, or why not now.
        dispatcher.utter_message(text=availability.text)
        dispatcher.utter_message(json_message={"contact_request_offer": {"reason": availability.reason}})
        return [SlotSet("failed_action", None)] if tracker.get_slot("failed_action") else []
    dispatcher.utter_message(response=response)
    dispatcher.utter_message(json_message=build_handoff_signal(tracker, reason, failed_action))
    events: List[EventType] = []
    if tracker.get_slot("failed_action"):
        events.append(SlotSet("failed_action", None))
    events.append(ConversationPaused())
    return events


class ActionEscalate(Action):
    """Hands the conversation to a human on request (or after a failure the visitor accepted)."""

    def name(self) -> Text:
        return "action_escalate"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[Text, Any],
    ) -> List[EventType]:
        failed = failed_action_before_latest_message(tracker)
        reason = HandoffReason.ACTION_FAILED if failed else HandoffReason.VISITOR_REQUEST
        return await escalate(dispatcher, tracker, reason, "utter_handoff", failed)
