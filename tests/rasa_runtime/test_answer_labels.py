"""The REST channel's bot messages carry the topic they answer and the model's id (answer_labels.py)."""

from __future__ import annotations

from rasa.core.channels.channel import CollectingOutputChannel, OutputChannel
from rasa.core.processor import MessageProcessor
from rasa.shared.core.events import BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from lumo_shared.answers import ANSWER_KEY, answer_label
from rasa_runtime import answer_labels


def tracker_after(parse_data: dict, model_id: str = "model-20261205") -> DialogueStateTracker:
    tracker = DialogueStateTracker("visitor-1", slots=[])
    tracker.model_id = model_id
    tracker.update(UserUttered(parse_data.get("text", ""), parse_data=parse_data))
    return tracker


FAQ = {"text": "miten kirjaudun", "intent": {"name": "faq", "confidence": 0.9},
       "response_selector": {"faq": {"response": {"intent_response_key": "faq/login", "confidence": 0.8}}}}


async def test_each_collected_message_carries_the_topic_and_model():
    answer_labels.install()
    answer_labels.install()  # twice: still one label per message
    channel = CollectingOutputChannel()
    events = [BotUttered("Kirjaudu pankkitunnuksilla.", {"buttons": [{"title": "Lisää", "payload": "/more"}]}),
              SlotSet("x", 1), BotUttered("Toinen viesti.", {"custom": {"k": 1}})]
    await MessageProcessor._send_bot_messages(events, tracker_after(FAQ), channel)
    assert [m.get("text") for m in channel.messages] == ["Kirjaudu pankkitunnuksilla.", "Toinen viesti.", None]
    for message in channel.messages:
        assert message[ANSWER_KEY] == {"topic": "faq/login", "model_id": "model-20261205"}
        assert answer_label(message) == ("faq/login", "model-20261205")
    channel.messages[0][ANSWER_KEY]["topic"] = "changed"  # each message has its own copy
    assert channel.messages[1][ANSWER_KEY]["topic"] == "faq/login"


async def test_other_intents_are_their_own_label_and_other_channels_unchanged():
    answer_labels.install()
    channel = CollectingOutputChannel()
    greet = {"text": "hei", "intent": {"name": "greet", "confidence": 0.99}}
    await MessageProcessor._send_bot_messages([BotUttered("Hei!")], tracker_after(greet, "m2"), channel)
    assert answer_label(channel.messages[0]) == ("greet", "m2")

    sent = []

    class Plain(OutputChannel):
        async def send_text_message(self, recipient_id, text, **kwargs):
            sent.append((recipient_id, text, kwargs))

    await MessageProcessor._send_bot_messages([BotUttered("Hei!")], tracker_after(greet), Plain())
    assert len(sent) == 1 and ANSWER_KEY not in sent[0][2]


def test_unlabelled_or_malformed_messages_have_no_label():
    assert answer_label({"text": "x"}) == (None, None)
    assert answer_label({ANSWER_KEY: "faq/login"}) == (None, None)
    assert answer_label({ANSWER_KEY: {"topic": 5, "model_id": "x" * 129}}) == (None, None)
    assert answer_label({ANSWER_KEY: {"topic": "faq/login"}}) == ("faq/login", None)
