"""What a conversation was about and how often the bot was lost, read from its Rasa tracker.

The live-agent service harvests each quiet conversation's tracker (``GET /conversations/<id>/tracker``)
for the missed-messages inbox (content/missed.py); from the same events ``turns_in_tracker`` takes the
figures the insights count (docs/metrics.md):

* ``bot_turns``: visitor messages the bot handled (``user`` events while the bot was not paused: what
  the visitor wrote to a human is recorded in the tracker too, but nobody asked the bot);
* ``fallback_turns``: of those, the ones the NLU could not place (the FallbackClassifier's
  ``nlu_fallback``);
* ``topic``: the label of the first of those messages that carries a question of its own: an FAQ topic
  ("faq/login") or another intent ("check_account_status"); greetings, thanks, "I want a human" and
  fallbacks are no topic. None when the conversation had no such message.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Optional

from lumo_shared.answers import SMALL_TALK
from lumo_shared.tracker_events import FALLBACK_INTENT, full_label, intent_name


@dataclass(frozen=True)
class TrackerTurns:
    topic: Optional[str]
    bot_turns: int
    fallback_turns: int


def turns_in_tracker(events: List[Dict[str, Any]]) -> TrackerTurns:
    """The topic and the bot's turns of one conversation's tracker events (in Rasa's order)."""
    topic: Optional[str] = None
    bot_turns = fallback_turns = 0
    paused = False
    for event in events:
        kind = event.get("event")
        if kind in ("session_started", "restart"):
            paused = False
        elif kind == "pause":
            paused = True
        elif kind == "resume":
            paused = False
        elif kind == "user" and not paused:
            bot_turns += 1
            name = intent_name(event)
            if name == FALLBACK_INTENT:
                fallback_turns += 1
            elif topic is None and name and name not in SMALL_TALK:
                topic = full_label(event.get("parse_data") or {}, name)[0]
    return TrackerTurns(topic, bot_turns, fallback_turns)
