"""``action_offer_person``: an upset or lost visitor gets a short human acknowledgement and a person.

The NLU reads anger and complaints as ``frustrated``, "I don't understand anything" as ``lost`` and
a change in the visitor's life told without a question ("isä kuoli eilen", "menetin työpaikkani")
as ``life_event`` (data/nlu/frustrated.yml, lost.yml, life_event.yml); a message that is upset and
only names a topic in passing is read as upset first (components/segments.py). The answer is the
acknowledgement, then:

- a human can come: the offer of a person with "yes" / "no" buttons, and the slot ``handoff_offer``
  set to why (``visitor_upset`` / ``visitor_lost`` / ``visitor_life_event``). Accepting in the next
  message (the button, or a typed "kyllä": data/rules/upset_and_several.yml) escalates with that
  reason, which the agent's handoff brief shows in Finnish;
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

from actions.handoff import HANDOFF_OFFER_SLOT, offer_human
from lumo_shared.handoff import HandoffReason

# intent -> (the reason an accepted offer escalates with, the acknowledgement)
FEELINGS = {
    "frustrated": (HandoffReason.VISITOR_UPSET, "utter_acknowledge_upset"),
    "lost": (HandoffReason.VISITOR_LOST, "utter_acknowledge_lost"),
    "life_event": (HandoffReason.VISITOR_LIFE_EVENT, "utter_acknowledge_life_event"),
}
DEFAULT_FEELING = "frustrated"


def acknowledge(dispatcher: CollectingDispatcher, feeling: Optional[str]) -> str:
    """Utters the acknowledgement of ``feeling`` (an intent of FEELINGS); returns the handoff reason."""
    reason, response = FEELINGS.get(feeling or "", FEELINGS[DEFAULT_FEELING])
    dispatcher.utter_message(response=response)
    return reason


async def offer_person(dispatcher: CollectingDispatcher, tracker: Tracker, reason: str,
                       response: str = "utter_offer_person",
                       domain: Optional[Dict[str, Any]] = None) -> List[EventType]:
    """Offers a person (``response`` has the buttons) and remembers why; or, when nobody can come,
    explains and offers the contact form."""
    if await offer_human(dispatcher, tracker, domain, response):
        return [SlotSet(HANDOFF_OFFER_SLOT, reason)]
    return [SlotSet(HANDOFF_OFFER_SLOT, None)] if tracker.get_slot(HANDOFF_OFFER_SLOT) else []


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
        return await offer_person(dispatcher, tracker, reason, domain=domain)
