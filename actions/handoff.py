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
from actions.settings import get_settings
from actions.visitor_language import unavailable_in_visitor_language
from lumo_shared.handoff import (
    ESCALATION_ACTION,
    Availability,
    HandoffCustomer,
    HandoffReason,
    HandoffSignal,
    HandoffSummary,
    contact_request_offer,
)
from lumo_shared.identity import IdentityStatus, identity_from_metadata
from lumo_shared.privacy import mask_personal_data
from lumo_shared.tracker_events import FAILED_ACTION_SLOT, intent_label, latest_user_metadata, user_events

# Set by action_offer_person (actions/person_offer.py) to the HandoffReason of the person it offered.
HANDOFF_OFFER_SLOT = "handoff_offer"
OFFERED_REASONS = frozenset({HandoffReason.VISITOR_UPSET, HandoffReason.VISITOR_LOST,
                             HandoffReason.VISITOR_LIFE_EVENT})


def slot_set_before_latest_message(tracker: Tracker, slot: str) -> Optional[str]:
    """The value the bot turn just before the latest user message gave ``slot``, if it set one."""
    events = list(tracker.events)
    user_positions = [i for i, event in enumerate(events) if event.get("event") == "user"]
    if len(user_positions) < 2:
        return None
    previous_turn = events[user_positions[-2] + 1 : user_positions[-1]]
    for event in previous_turn:
        if event.get("event") == "slot" and event.get("name") == slot and event.get("value"):
            return str(event["value"])
    return None


def failed_action_before_latest_message(tracker: Tracker) -> Optional[str]:
    """The action that failed in the bot turn just before the latest user message, if any."""
    return slot_set_before_latest_message(tracker, FAILED_ACTION_SLOT)


def offer_before_latest_message(tracker: Tracker) -> Optional[str]:
    """Why the bot offered a person in the turn just before the latest user message, if it did."""
    reason = slot_set_before_latest_message(tracker, HANDOFF_OFFER_SLOT)
    return reason if reason in OFFERED_REASONS else None


def build_handoff_signal(tracker: Tracker, reason: str, failed_action: Optional[str] = None) -> HandoffSignal:
    """The machine-readable handoff signal for the live-agent service."""
    settings = get_settings()
    users = user_events(tracker.events)
    identity = identity_from_metadata(latest_user_metadata(tracker.events), settings.identity, tracker.sender_id)
    customer = HandoffCustomer(
        verified=identity.status == IdentityStatus.VERIFIED,
        customer_id=identity.identity.customer_id if identity.identity is not None else None,
    )
    recent = users[-settings.handoff_recent_messages :]
    summary = HandoffSummary(
        intents=tuple([label for label in (intent_label(event) for event in users) if label][-10:]),
        last_messages=tuple(mask_personal_data(event.get("text") or "") for event in recent),
        customer=customer,
        turns=len(users),
        failed_action=failed_action,
    )
    return HandoffSignal(
        reason=reason,
        conversation_id=tracker.sender_id,
        requested_at=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        summary=summary,
    )


def offer_contact_request(
    dispatcher: CollectingDispatcher, availability: Availability, response: Optional[str] = None
) -> None:
    """No human can come now: say why (the live-agent service's Finnish copy: when service opens, or
    why not now; or ``response``, the domain's variation in a Swedish or English visitor's language)
    and make the widget offer a contact request."""
    if response is not None:
        dispatcher.utter_message(response=response)
    else:
        dispatcher.utter_message(text=availability.text)
    dispatcher.utter_message(json_message=contact_request_offer(availability.reason))


def clear_handoff_slots(tracker: Tracker) -> List[EventType]:
    """Events that reset what a past failure or offer left in the slots (nothing when they are empty)."""
    return [SlotSet(slot, None) for slot in (FAILED_ACTION_SLOT, HANDOFF_OFFER_SLOT) if tracker.get_slot(slot)]


async def offer_human(
    dispatcher: CollectingDispatcher, tracker: Tracker, domain: Optional[Dict[str, Any]], response: str
) -> bool:
    """The one availability decision of every offer of a person: when a human can come, say ``response``
    and return True; otherwise say why not (in a Swedish or English visitor's language, actions/
    visitor_language.py), offer the contact form and return False."""
    availability = await human_availability(get_settings().liveagent_url)
    if not availability.available:
        offer_contact_request(dispatcher, availability, unavailable_in_visitor_language(domain or {}, tracker))
        return False
    dispatcher.utter_message(response=response)
    return True


async def escalate(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    reason: str,
    response: str,
    failed_action: Optional[str] = None,
    domain: Optional[Dict[str, Any]] = None,
) -> List[EventType]:
    """Tell the visitor, emit the signal and pause the bot; or, when no human can come, say so."""
    if not await offer_human(dispatcher, tracker, domain, response):
        return clear_handoff_slots(tracker)
    dispatcher.utter_message(json_message=build_handoff_signal(tracker, reason, failed_action).to_custom())
    return [*clear_handoff_slots(tracker), ConversationPaused()]


class ActionEscalate(Action):
    """Hands the conversation to a human on request, or when the visitor accepts the person offered after
    a failed lookup or because they were upset or lost (the reason says which)."""

    def name(self) -> Text:
        return ESCALATION_ACTION

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[Text, Any],
    ) -> List[EventType]:
        failed = failed_action_before_latest_message(tracker)
        if failed:
            reason = HandoffReason.ACTION_FAILED
        else:
            reason = offer_before_latest_message(tracker) or HandoffReason.VISITOR_REQUEST
        return await escalate(dispatcher, tracker, reason, "utter_handoff", failed, domain)
