"""What the bot's answers carry from Rasa to the live-agent service, for the visitors' feedback.

Rasa's REST channel answers a visitor message with a list of bot messages (text, buttons, custom).
rasa_runtime/answer_labels.py adds to each the label of the visitor message it answers and the id
of the model that answered, under ``ANSWER_KEY``; the service stores both with the message
(liveagent/store/messages.py), so a "was this helpful?" answer counts for the topic and model that
produced it (docs/metrics.md, answers marked helpful by topic).
"""

from __future__ import annotations

from typing import Any, Mapping, Optional, Tuple

from lumo_shared.tracker_events import FALLBACK_INTENT

# Key of a REST channel bot message: {"topic": "faq/login" or an intent or null, "model_id": "<id>" or null}.
ANSWER_KEY = "lumo_answer"
MAX_LABEL_CHARS = 128  # the columns that keep them (messages.topic, messages.model_id)
# Intents that carry no question of their own: greetings, thanks, "I want a person" (content/missed.py
# does not count them as misses, content/topics.py as topics, and the widget asks no feedback on them).
SMALL_TALK = frozenset({"greet", "goodbye", "thank", "affirm", "deny", "bot_challenge", "request_human",
                        "frustrated", "lost", "life_event"})
# components/other_language.py's intent: a message in a language without content is no question answered.
OTHER_LANGUAGE_INTENT = "other_language"


def answer_label(message: Mapping[str, Any]) -> Tuple[Optional[str], Optional[str]]:
    """(topic, model id) of one REST channel bot message; (None, None) when Rasa did not label it."""
    label = message.get(ANSWER_KEY)
    if not isinstance(label, Mapping):
        return None, None

    def text(value: Any) -> Optional[str]:
        return value if isinstance(value, str) and 0 < len(value) <= MAX_LABEL_CHARS else None

    return text(label.get("topic")), text(label.get("model_id"))


def is_answer(topic: Optional[str]) -> bool:
    """Whether a bot message labelled ``topic`` answers a question (the widget asks "Oliko vastauksesta
    apua?" under it): an FAQ topic or another intent, not small talk, a fallback or another language."""
    return bool(topic) and topic not in SMALL_TALK and topic not in (FALLBACK_INTENT, OTHER_LANGUAGE_INTENT)
