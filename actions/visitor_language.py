"""The visitor's language in responses: Swedish and English wording is a variation conditioned on a slot.

The NLU (components/other_language.py) sets the slot ``language`` for a Swedish or English message;
a response with a variation for that value says it in the visitor's language (domain.yml).
"""

from __future__ import annotations

from typing import Any, Dict, Optional

from rasa_sdk import Tracker

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
