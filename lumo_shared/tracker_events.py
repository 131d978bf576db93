"""Reading Rasa's tracker events (the JSON dicts of ``GET /conversations/<id>/tracker`` and of
``Tracker.events`` in the action server): which messages the visitor wrote, what the NLU made of
them and what metadata the service sent with them.

The action server (escalation summary, fallback, account lookup) and content/ (what the bot missed)
read the same events; the names below are what Rasa, domain.yml and the actions put there.
"""

from __future__ import annotations

from typing import Any, Dict, Iterable, List, Mapping, Optional, Tuple

# The intent the FallbackClassifier puts first when the NLU is unsure (config.yml).
FALLBACK_INTENT = "nlu_fallback"
# The retrieval intent whose response selector names the FAQ topic ("faq/login").
FAQ_INTENT = "faq"
# Slot an action sets when its outside system failed; the escalation that follows says action_failed.
FAILED_ACTION_SLOT = "failed_action"
# Parse data of a message that asks several things: which topics, and whether to answer them or ask
# which one first (components/linear_classifier.py writes it, actions/several_topics.py reads it).
TOPICS_KEY = "lumo_topics"

Event = Mapping[str, Any]


def as_float(value: Any) -> Optional[float]:
    """A number from event JSON (an int or a float, never a bool), else None."""
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def user_events(events: Iterable[Event]) -> List[Event]:
    """The visitor's messages (``user`` events), in order."""
    return [event for event in events if event.get("event") == "user"]


def intent_name(event: Event) -> Optional[str]:
    """The top intent the NLU gave a user event."""
    return ((event.get("parse_data") or {}).get("intent") or {}).get("name")


def is_fallback(event: Event) -> bool:
    """The NLU was unsure of this user event (the FallbackClassifier replaced its intent)."""
    return intent_name(event) == FALLBACK_INTENT


def full_label(parse_data: Mapping[str, Any], intent: Optional[str],
               confidence: Optional[float] = None) -> Tuple[Optional[str], Optional[float]]:
    """The full label of an intent prediction and its confidence.

    For an FAQ message the label is its topic from the response selector ("faq/login") and the
    confidence the lower of the intent's and the answer's; any other intent is its own label.
    """
    if intent != FAQ_INTENT:
        return intent, confidence
    selector = (parse_data.get("response_selector") or {}).get(FAQ_INTENT) or {}
    response = selector.get("response") or {}
    key = response.get("intent_response_key")
    answer_confidence = as_float(response.get("confidence"))
    if answer_confidence is not None:
        confidence = answer_confidence if confidence is None else min(confidence, answer_confidence)
    return (key if isinstance(key, str) and key else intent), confidence


def intent_label(event: Event) -> Optional[str]:
    """The full intent of a user event, with the FAQ topic ("faq/login") when there is one."""
    return full_label(event.get("parse_data") or {}, intent_name(event))[0]


def latest_user_metadata(events: Any) -> Dict[str, Any]:
    """Metadata of the latest user message in a tracker's event list."""
    for event in reversed(list(events or [])):
        if event.get("event") == "user":
            metadata = event.get("metadata")
            return metadata if isinstance(metadata, dict) else {}
    return {}
