"""Swedish and English visitors: the explanation, then a person or the contact form, in their language."""

from __future__ import annotations

import pytest
from rasa_sdk.events import ConversationPaused

from actions import handoff
from actions.fallback import ActionHandleFallback
from actions.handoff import ActionEscalate
from actions.language import ActionAnswerOtherLanguage
from actions.visitor_language import has_variation
from lumo_shared.handoff import Availability
from tests.conftest import make_tracker, user_event

CLOSED = Availability(False, "closed", "Asiakaspalvelijamme palvelevat arkisin klo 8.00–18.00.")


def no_human(module, monkeypatch, availability: Availability = CLOSED) -> None:
    async def answer(_url):
        return availability

    monkeypatch.setattr(module, "human_availability", answer)


def human_available(module, monkeypatch) -> None:
    no_human(module, monkeypatch, Availability(True))


def swedish(text: str = "hur loggar jag in"):
    return make_tracker([user_event(text, "other_language")], slots={"language": "sv"})


async def test_explains_the_service_and_offers_a_person_when_one_can_come(dispatcher, domain, test_settings,
                                                                          monkeypatch):
    human_available(handoff, monkeypatch)
    events = await ActionAnswerOtherLanguage().run(dispatcher, swedish(), domain)
    assert events == []
    assert [m["response"] for m in dispatcher.messages] == ["utter_other_language", "utter_other_language_human"]


async def test_nobody_in_means_the_contact_form_in_the_visitors_language(dispatcher, domain, test_settings,
                                                                        monkeypatch):
    no_human(handoff, monkeypatch)
    events = await ActionAnswerOtherLanguage().run(dispatcher, swedish(), domain)
    assert events == []
    assert [m.get("response") for m in dispatcher.messages] == [
        "utter_other_language", "utter_human_unavailable", None]
    assert dispatcher.messages[2]["custom"] == {"contact_request_offer": {"reason": "closed"}}
    assert not any("handoff" in (m.get("custom") or {}) for m in dispatcher.messages)


async def test_without_a_known_language_nobody_in_is_the_services_own_text(dispatcher, domain, test_settings,
                                                                          monkeypatch):
    no_human(handoff, monkeypatch)
    tracker = make_tracker([user_event("/other_language", "other_language")])
    await ActionAnswerOtherLanguage().run(dispatcher, tracker, domain)
    assert dispatcher.messages[1]["text"] == CLOSED.text


async def test_escalation_for_an_english_visitor_says_nobody_is_in_in_english(dispatcher, domain, test_settings,
                                                                             monkeypatch):
    no_human(handoff, monkeypatch)
    tracker = make_tracker([user_event("/request_human", "request_human")], slots={"language": "en"})
    events = await ActionEscalate().run(dispatcher, tracker, domain)
    assert events == []
    assert dispatcher.messages[0]["response"] == "utter_human_unavailable"
    assert dispatcher.messages[1]["custom"] == {"contact_request_offer": {"reason": "closed"}}


async def test_escalation_for_a_finnish_visitor_is_unchanged(dispatcher, domain, test_settings, monkeypatch):
    no_human(handoff, monkeypatch)
    for slots in ({}, {"language": "fi"}):
        dispatcher.messages.clear()
        tracker = make_tracker([user_event("ihminen", "request_human")], slots=slots)
        await ActionEscalate().run(dispatcher, tracker, domain)
        assert dispatcher.messages[0]["text"] == CLOSED.text


async def test_a_swedish_visitor_who_asks_for_a_person_is_handed_over(dispatcher, domain, test_settings, monkeypatch):
    human_available(handoff, monkeypatch)
    tracker = make_tracker([user_event("hur loggar jag in", "other_language"),
                            user_event("/request_human", "request_human")], slots={"language": "sv"})
    events = await ActionEscalate().run(dispatcher, tracker, domain)
    assert events == [ConversationPaused()]
    # utter_handoff has a Swedish variation: Rasa picks it by the slot.
    assert dispatcher.messages[0]["response"] == "utter_handoff"
    assert has_variation(domain, "utter_handoff", "language", "sv")


async def test_repeated_fallback_of_an_english_visitor_with_nobody_in(dispatcher, domain, test_settings, monkeypatch):
    no_human(handoff, monkeypatch)
    fallback = {"name": "nlu_fallback", "confidence": 0.55}
    events = [user_event("xyz", "nlu_fallback", ranking=[fallback]),
              user_event("zyx", "nlu_fallback", ranking=[fallback])]
    await ActionHandleFallback().run(dispatcher, make_tracker(events, slots={"language": "en"}), domain)
    assert dispatcher.messages[0]["response"] == "utter_human_unavailable"


@pytest.mark.parametrize("response", [
    "utter_other_language", "utter_other_language_human", "utter_human_unavailable", "utter_greet",
    "utter_goodbye", "utter_thank", "utter_anything_else", "utter_bot_challenge", "utter_handoff"])
@pytest.mark.parametrize("code", ["sv", "en"])
def test_every_response_a_swedish_or_english_visitor_can_get_has_their_variation(domain, response, code):
    assert has_variation(domain, response, "language", code)


def test_has_variation_reads_only_slot_conditions_on_that_value():
    domain = {"responses": {"utter_x": [
        {"text": "fi"},
        {"text": "sv", "condition": [{"type": "slot", "name": "language", "value": "sv"}]},
        {"text": "other", "condition": [{"type": "slot", "name": "other", "value": "en"}]},
    ]}}
    assert has_variation(domain, "utter_x", "language", "sv")
    assert not has_variation(domain, "utter_x", "language", "en")
    assert not has_variation(domain, "utter_x", "language", None)
    assert not has_variation(domain, "utter_missing", "language", "sv")
