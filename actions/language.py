"""Visitors who write Swedish or English: what the service offers, in their language, and a person.

The NLU (components/other_language.py) gives such a message the intent ``other_language`` and sets
the slot ``language``; every response here has a variation per language conditioned on that slot
(domain.yml), so the wording is data. A human is offered only when one can come: otherwise the visitor
is told so in their language and the widget offers the contact form (the same availability check and
contact-request signal as the escalation, actions/handoff.py).
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.clients.liveagent import human_availability
from actions.settings import get_settings
from lumo_shared.handoff import contact_request_offer

LANGUAGE_SLOT = "language"
# Said instead of the service's Finnish explanation when nobody can take the chat (one variation per language).
UNAVAILABLE_RESPONSE = "utter_human_unavailable"


def has_variation(domain: Dict[str, Any], response: str, slot: str, value: Optional[str]) -> bool:
    """Whether ``response`` has a variation conditioned on ``slot`` being ``value`` (a language's own wording)."""
    if value is None:
        return False
    for variation in (domain.get("responses") or {}).get(response) or []:
        for condition in variation.get("condition") or []:
            if condition.get("type") == "slot" and condition.get("name") == slot and condition.get("value") == value:
                return True
    return False


def unavailable_in_visitor_language(domain: Dict[str, Any], tracker: Tracker) -> Optional[str]:
    """The response that tells a Swedish or English visitor nobody can come; None: use the service's Finnish text."""
    if has_variation(domain, UNAVAILABLE_RESPONSE, LANGUAGE_SLOT, tracker.get_slot(LANGUAGE_SLOT)):
        return UNAVAILABLE_RESPONSE
    return None


class ActionAnswerOtherLanguage(Action):
    """Explains the service in the visitor's language, then offers a person or the contact form."""

    def name(self) -> Text:
        return "action_answer_other_language"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[Text, Any],
    ) -> List[EventType]:
        dispatcher.utter_message(response="utter_other_language")
        availability = await human_availability(get_settings().liveagent_url)
        if availability.available:
            dispatcher.utter_message(response="utter_other_language_human")
            return []
        response = unavailable_in_visitor_language(domain, tracker)
        if response is not None:
            dispatcher.utter_message(response=response)
        else:
            dispatcher.utter_message(text=availability.text)
        dispatcher.utter_message(json_message=contact_request_offer(availability.reason))
        return []
