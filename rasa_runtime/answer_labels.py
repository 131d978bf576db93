"""Each bot message of the REST channel says which topic it answers and which model answered.

Rasa 3.6 sends a turn's bot messages to the output channel without anything of the turn: the REST
channel's JSON has the text, buttons and custom payload only. The live-agent service asks visitors
whether an answer helped and counts the answers by topic (docs/metrics.md), so it needs to know
what each answer was about. Reading the tracker after every answer would cost a second request per
message; here the answer carries it instead: ``MessageProcessor._send_bot_messages`` (the one place
a turn's ``BotUttered`` events reach the channel) adds ``lumo_answer`` (lumo_shared/answers.py) to
every message the REST channel collects: the full label of the visitor message the turn answered
("faq/login", "check_account_status", "greet", "nlu_fallback") and the tracker's model id (Rasa also
writes it into every event's metadata). Other channels get what they got before.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from lumo_shared.answers import ANSWER_KEY
from lumo_shared.tracker_events import full_label


def label_of(tracker: Any) -> Dict[str, Optional[str]]:
    """The topic of the tracker's latest visitor message and the model that is answering it."""
    latest = getattr(tracker, "latest_message", None)
    parse_data = getattr(latest, "parse_data", None) or {}
    intent = (parse_data.get("intent") or {}).get("name")
    topic = full_label(parse_data, intent)[0] if intent else None
    return {"topic": topic, "model_id": getattr(tracker, "model_id", None)}


def install() -> None:
    """Labels the REST channel's bot messages (idempotent)."""
    from rasa.core.channels.channel import CollectingOutputChannel
    from rasa.core.processor import MessageProcessor
    from rasa.shared.core.events import BotUttered

    original = MessageProcessor._send_bot_messages
    if getattr(original, "labels_answers", False):
        return

    async def send_labelled(events: List[Any], tracker: Any, output_channel: Any) -> None:
        if not isinstance(output_channel, CollectingOutputChannel):
            await original(events, tracker, output_channel)
            return
        label = label_of(tracker)
        for event in events:
            if not isinstance(event, BotUttered):
                continue
            before = len(output_channel.messages)
            await output_channel.send_response(tracker.sender_id, event.message())
            for message in output_channel.messages[before:]:
                message[ANSWER_KEY] = dict(label)

    send_labelled.labels_answers = True  # type: ignore[attr-defined]
    MessageProcessor._send_bot_messages = staticmethod(send_labelled)  # type: ignore[method-assign]
