"""Two-stage fallback for low-confidence messages.

First miss: "en ihan ymmärtänyt" with buttons for the likeliest topics (titles come from the
``metadata.title`` of each topic's response in data/ and from the domain). Second miss in a row:
escalate to a human (``repeated_fallback``).
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff import HandoffReason, escalate, user_events

FALLBACK_INTENT = "nlu_fallback"
MAX_OPTIONS = 3
# Intents that are no "topic" a visitor could have meant.
NOT_OFFERED = {FALLBACK_INTENT, "out_of_scope", "greet", "goodbye", "thank", "affirm", "deny", "faq"}
# Intents offered through a fixed payload, with the response holding their button title.
INTENT_OPTIONS = {
    "check_account_status": "utter_option_check_account_status",
    "request_human": "utter_option_request_human",
}


def is_fallback(event: Dict[str, Any]) -> bool:
    intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
    return intent == FALLBACK_INTENT


def _response_title(domain: Dict[str, Any], response: str) -> Optional[str]:
    variants = (domain.get("responses") or {}).get(response) or []
    for variant in variants:
        title = (variant.get("metadata") or {}).get("title") or None
        if title:
            return str(title)
        if response.startswith("utter_option_") and variant.get("text"):
            return str(variant["text"])
    return None


def likely_options(parse_data: Dict[str, Any], domain: Dict[str, Any]) -> List[Dict[str, str]]:
    """Buttons for the likeliest topics of a misunderstood message, best first."""
    scored: List[tuple] = []
    for entry in parse_data.get("intent_ranking") or []:
        name = entry.get("name")
        if name in INTENT_OPTIONS:
            scored.append((entry.get("confidence") or 0.0, f"/{name}", INTENT_OPTIONS[name]))
    faq_confidence = next(
        (entry.get("confidence") or 0.0 for entry in parse_data.get("intent_ranking") or [] if entry.get("name") == "faq"),
        0.0,
    )
    selector = ((parse_data.get("response_selector") or {}).get("faq") or {}).get("ranking") or []
    for entry in selector:
        key = entry.get("intent_response_key")
        if key:
            scored.append((faq_confidence * (entry.get("confidence") or 0.0), f"/{key}", f"utter_{key}"))
    scored.sort(key=lambda item: item[0], reverse=True)
    options: List[Dict[str, str]] = []
    for _score, payload, response in scored:
        title = _response_title(domain, response)
        if title and all(option["payload"] != payload for option in options):
            options.append({"title": title, "payload": payload})
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
        users = user_events(tracker)
        if len(users) >= 2 and is_fallback(users[-2]) and is_fallback(users[-1]):
            return escalate(dispatcher, tracker, HandoffReason.REPEATED_FALLBACK, "utter_handoff_after_fallback")
        options = likely_options(tracker.latest_message or {}, domain)
        if options:
            dispatcher.utter_message(response="utter_ask_rephrase", buttons=options)
        else:
            dispatcher.utter_message(response="utter_ask_rephrase_no_options")
        return []
