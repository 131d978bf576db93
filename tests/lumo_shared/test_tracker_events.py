"""Helpers over Rasa's tracker events, read by the actions and by content/."""

from __future__ import annotations

from lumo_shared.tracker_events import (
    as_float,
    full_label,
    intent_label,
    intent_name,
    is_fallback,
    latest_user_metadata,
    user_events,
)
from tests.conftest import user_event

FAQ = {"intent": {"name": "faq", "confidence": 0.9},
       "response_selector": {"faq": {"response": {"intent_response_key": "faq/login", "confidence": 0.6}}}}


def test_user_events_and_their_latest_metadata():
    events = [{"event": "action", "name": "action_listen"}, user_event("moi", "greet", metadata={"a": 1}),
              {"event": "bot", "text": "Hei!"}, user_event("kiitos", "thank", metadata={"b": 2})]
    assert [event["text"] for event in user_events(events)] == ["moi", "kiitos"]
    assert latest_user_metadata(events) == {"b": 2}
    assert latest_user_metadata([{"event": "user", "metadata": None}]) == {}
    assert latest_user_metadata(None) == {}


def test_labels_name_the_faq_topic_with_the_lower_confidence():
    assert full_label(FAQ, "faq", 0.9) == ("faq/login", 0.6)
    assert full_label({"intent": {"name": "faq"}}, "faq", 0.9) == ("faq", 0.9)  # no selector: the intent
    assert full_label(FAQ, "greet", 0.8) == ("greet", 0.8)
    assert intent_label({"event": "user", "parse_data": FAQ}) == "faq/login"
    assert intent_label(user_event("moi", "greet")) == "greet"
    assert intent_name({"event": "user"}) is None


def test_fallback_and_numbers():
    assert is_fallback(user_event("asdf", "nlu_fallback")) and not is_fallback(user_event("moi", "greet"))
    assert (as_float(1), as_float(0.5), as_float(True), as_float("1")) == (1.0, 0.5, None, None)
