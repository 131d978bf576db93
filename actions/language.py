"""Visitors who write Swedish or English: what the service offers, in their language, and a person.

The NLU (components/other_language.py) gives such a message the intent ``other_language`` and sets
the slot ``language``; every response here has a variation per language conditioned on that slot
(domain.yml, actions/visitor_language.py), so the wording is data. A human is offered only when one
can come: otherwise the visitor is told so in their language and the widget offers the contact form
(the same availability check and contact-request signal as every offer of a person, actions/handoff.py).
"""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff import offer_human


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
        await offer_human(dispatcher, tracker, domain, "utter_other_language_human")
        return []
