"""``action_offer_person``: an upset or lost visitor gets a short human acknowledgement and a person.

The NLU reads anger and complaints as ``frustrated`` and "I don't understand anything" as ``lost``
(data/nlu/frustrated.yml, data/nlu/lost.yml); a message that is upset and only names a topic in
passing is read as upset first (components/segments.py). The answer is the acknowledgement, then:

- a human can come: the offer of a person with "yes" / "no" buttons, and the slot ``handoff_offer``
  set to why (``visitor_upset`` / ``visitor_lost``). Accepting in the next message (the button, or
  a typed "kyllä": data/rules/upset_and_several.yml) escalates with that reason, which the agent's
  handoff brief shows in Finnish;
- nobody can come (closed, no agents, full queue): the same path as every escalation, the service's
  explanation and the contact-request offer.

A message that also asks questions gets its answers between the acknowledgement and the offer
(actions/several_topics.py uses ``acknowledge`` and ``offer_person`` below).
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.clients.liveagent import human_availability
from actions.handoff import HANDOFF_OFFER_SLOT, offer_contact_request
from actions.settings import get_settings
from lumo_shared.handoff import HandoffReason

# intent -> (the reason an accepted offer escalates with, the acknowledgement)
FEELINGS = {
    "frustrated": (HandoffReason.VISITOR_UPSET, "utter_acknowledge_upset"),
    "lost": (HandoffReason.VISITOR_LOST, "utter_acknowledge_lost"),
}
DEFAULT_FEELING = "frustrated"


def acknowledge(dispatcher: CollectingDispatcher, feeling: Optional[str]) -> str:
    """Utters the acknowledgement of ``feeling`` (an intent of FEELINGS); returns the handoff reason."""
    reason, response = FEELINGS.get(feeling or "", FEELINGS[DEFAULT_FEELING])
    dispatcher.utter_message(response=response)
    return reason


async def offer_person(dispatcher: CollectingDispatcher, tracker: Tracker, reason: str,
                       response: str = "utter_offer_person") -> List[EventType]:
    """Offers a person (``response`` has the buttons) and remembers why; or, when nobody can come,
    explains and offers the contact form."""
    availability = await human_availability(get_settings().liveagent_url)
    if not availability.available:
        offer_contact_request(dispatcher, availability)
        return [SlotSet(HANDOFF_OFFER_SLOT, None)] if tracker.get_slot(HANDOFF_OFFER_SLOT) else []
    dispatcher.utter_message(response=response)
    return [SlotSet(HANDOFF_OFFER_SLOT, reason)]


class ActionOfferPerson(Action):
    """Acknowledges an upset or lost visitor and offers a person (or the contact form)."""

    def name(self) -> Text:
        return "action_offer_person"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[Text, Any],
    ) -> List[EventType]:
        intent = ((tracker.latest_message or {}).get("intent") or {}).get("name")
        reason = acknowledge(dispatcher, intent)
        return await offer_person(dispatcher, tracker, reason)
