"""``action_answer_topics``: a message that asks several things gets an answer to each.

The classifier cuts a message into clauses and scores each with the same model
(components/segments.py); a message with two or more confident topics gets the intent
``several_topics`` and, in its parse data, ``lumo_topics``: ``{"mode": "answer" | "ask", "limit": n,
"topics": [{"label", "confidence", "text"}, ...]}`` in the order the visitor asked them.

- "answer": a short lead-in, then each topic's own answer, at most ``limit`` of them: an FAQ topic's
  response from data/faq, the visitor's own case from the account lookup. Topics beyond the limit are
  offered as buttons. When a clause was upset or lost (``"acknowledge": "frustrated" | "lost"``), the
  acknowledgement comes first and a person is offered after the answers (actions/person_offer.py).
- "ask": the topics were plausible but not certain: "which one first?" with a button for each (the
  same buttons as the fallback's: each FAQ answer's ``metadata.title`` and ``metadata.example``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Text, Tuple

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.accounts import ActionCheckAccountStatus
from actions.fallback import topic_button
from actions.person_offer import FEELINGS, acknowledge, offer_person
from lumo_shared.tracker_events import FAQ_INTENT, TOPICS_KEY

DEFAULT_LIMIT = 3
ACCOUNT_INTENT = "check_account_status"
FAQ_PREFIX = f"{FAQ_INTENT}/"


@dataclass(frozen=True)
class Topics:
    """What the classifier found in a message that asks several things."""

    mode: Optional[str] = None  # "answer" or "ask"
    limit: int = DEFAULT_LIMIT
    labels: Tuple[str, ...] = ()  # the topics we can answer, in the order asked
    acknowledge: Optional[str] = None  # "frustrated" or "lost": a clause said so


def topics_of(parse_data: Dict[str, Any]) -> Topics:
    """The topics of a message's parse data (nothing when it has none, or they are malformed)."""
    found = parse_data.get(TOPICS_KEY) if isinstance(parse_data, dict) else None
    if not isinstance(found, dict):
        return Topics()
    labels: List[str] = []
    for topic in found.get("topics") or []:
        label = topic.get("label") if isinstance(topic, dict) else None
        if isinstance(label, str) and (label == ACCOUNT_INTENT or label.startswith(FAQ_PREFIX)) and label not in labels:
            labels.append(label)
    limit = found.get("limit")
    limit = limit if isinstance(limit, int) and not isinstance(limit, bool) and limit > 0 else DEFAULT_LIMIT
    feeling = found.get("acknowledge")
    return Topics(found.get("mode") if isinstance(found.get("mode"), str) else None, limit, tuple(labels),
                  feeling if feeling in FEELINGS else None)


class ActionAnswerTopics(Action):
    """Answers each topic of a message that asks several, or asks which one first."""

    def name(self) -> Text:
        return "action_answer_topics"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[Text, Any],
    ) -> List[EventType]:
        topics = topics_of(tracker.latest_message or {})
        events: List[EventType] = []
        reason = acknowledge(dispatcher, topics.acknowledge) if topics.acknowledge else None
        buttons = [button for button in (topic_button(domain, label) for label in topics.labels) if button]
        if topics.mode != "answer" or not topics.labels:
            if buttons:
                dispatcher.utter_message(response="utter_several_topics_ask", buttons=buttons)
            elif reason is None:
                dispatcher.utter_message(response="utter_ask_rephrase_no_options")
        else:
            if len(topics.labels) > 1:
                dispatcher.utter_message(response="utter_several_topics_intro")
            for label in topics.labels[: topics.limit]:
                if label == ACCOUNT_INTENT:
                    events += await ActionCheckAccountStatus().run(dispatcher, tracker, domain)
                else:
                    dispatcher.utter_message(response=f"utter_{label}")
            more = [b for b in (topic_button(domain, label) for label in topics.labels[topics.limit:]) if b]
            if more:
                dispatcher.utter_message(response="utter_several_topics_more", buttons=more)
        if reason is not None:
            events += await offer_person(dispatcher, tracker, reason, "utter_offer_person_after_answers", domain)
        return events
