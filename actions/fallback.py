"""Two-stage fallback for low-confidence messages.

First miss: "en ihan ymmärtänyt" with buttons for the likeliest topics. An FAQ topic's button
shows the ``metadata.title`` of its response in data/faq/ and sends its ``metadata.example``
question (Rasa cannot take "/faq/<topic>" as a payload); intents are sent as "/<intent>".
Second miss in a row: escalate to a human (``repeated_fallback``).
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff import escalate
from lumo_shared.handoff import HandoffReason
from lumo_shared.tracker_events import FALLBACK_INTENT, FAQ_INTENT, is_fallback, user_events

MAX_OPTIONS = 3
# Intents that are no "topic" a visitor could have meant.
NOT_OFFERED = {FALLBACK_INTENT, "out_of_scope", "greet", "goodbye", "thank", "affirm", "deny", FAQ_INTENT}
# Intents offered through a fixed payload, with the response holding their button title.
INTENT_OPTIONS = {
    "check_account_status": "utter_option_check_account_status",
    "request_human": "utter_option_request_human",
}


def _button(domain: Dict[str, Any], response: str, payload: Optional[str]) -> Optional[Dict[str, str]]:
    """Title and payload for a topic button, from the response's copy in the domain."""
    for variant in (domain.get("responses") or {}).get(response) or []:
        metadata = variant.get("metadata") or {}
        if payload is None and metadata.get("title") and metadata.get("example"):
            return {"title": str(metadata["title"]), "payload": str(metadata["example"])}
        if payload is not None and variant.get("text"):
            return {"title": str(variant["text"]), "payload": payload}
    return None


def topic_button(domain: Dict[str, Any], label: str) -> Optional[Dict[str, str]]:
    """The button that asks about ``label`` (an FAQ topic "faq/<topic>" or an offered intent), if it has one."""
    if label in INTENT_OPTIONS:
        return _button(domain, INTENT_OPTIONS[label], f"/{label}")
    return _button(domain, f"utter_{label}", None)


def likely_options(parse_data: Dict[str, Any], domain: Dict[str, Any]) -> List[Dict[str, str]]:
    """Buttons for the likeliest topics of a misunderstood message, best first."""
    scored: List[tuple] = []
    for entry in parse_data.get("intent_ranking") or []:
        name = entry.get("name")
        if name in INTENT_OPTIONS:
            scored.append((entry.get("confidence") or 0.0, INTENT_OPTIONS[name], f"/{name}"))
    ranking = parse_data.get("intent_ranking") or []
    faq_confidence = next((e.get("confidence") or 0.0 for e in ranking if e.get("name") == FAQ_INTENT), 0.0)
    selector = ((parse_data.get("response_selector") or {}).get(FAQ_INTENT) or {}).get("ranking") or []
    for entry in selector:
        key = entry.get("intent_response_key")
        if key:
            scored.append((faq_confidence * (entry.get("confidence") or 0.0), f"utter_{key}", None))
    scored.sort(key=lambda item: item[0], reverse=True)
    options: List[Dict[str, str]] = []
    for _score, response, payload in scored:
        button = _button(domain, response, payload)
        if button and all(option["payload"] != button["payload"] for option in options):
            options.append(button)
        if len(options) == MAX_OPTIONS:
            break
    return options


class ActionHandleFallback(Action):
    """First miss: offer the likeliest topics. Second miss in a row: escalate."""

    def name(self) -> Text:
        return "action_handle_fallback"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[Text, Any],
    ) -> List[EventType]:
        users = user_events(tracker.events)
        if len(users) >= 2 and is_fallback(users[-2]) and is_fallback(users[-1]):
            return await escalate(dispatcher, tracker, HandoffReason.REPEATED_FALLBACK, "utter_handoff_after_fallback",
                                  domain=domain)
        options = likely_options(tracker.latest_message or {}, domain)
        if options:
            dispatcher.utter_message(response="utter_ask_rephrase", buttons=options)
        else:
            dispatcher.utter_message(response="utter_ask_rephrase_no_options")
        return []
