"""Upset and lost visitors, and visitors telling about a change in their life: the acknowledgement, the
person offered (or the contact form), and the reason the escalation carries when the visitor accepts."""

from __future__ import annotations

import pytest
from rasa_sdk.events import ConversationPaused, SlotSet

from actions import handoff, person_offer
from actions.handoff import ActionEscalate
from actions.person_offer import ActionOfferPerson
from lumo_shared.handoff import Availability
from tests.conftest import make_tracker, user_event


def bot(text: str) -> dict:
    return {"event": "bot", "text": text}


def offered(reason: str) -> list:
    """The events of a turn in which action_offer_person offered a person for ``reason``."""
    return [{"event": "action", "name": "action_offer_person"}, bot("Olen pahoillani..."),
            {"event": "slot", "name": "handoff_offer", "value": reason}]


@pytest.mark.parametrize("intent, acknowledgement, reason", [
    ("frustrated", "utter_acknowledge_upset", "visitor_upset"),
    ("lost", "utter_acknowledge_lost", "visitor_lost"),
    ("life_event", "utter_acknowledge_life_event", "visitor_life_event"),
])
async def test_an_upset_or_lost_visitor_is_acknowledged_and_offered_a_person(
        dispatcher, domain, test_settings, intent, acknowledgement, reason):
    tracker = make_tracker([user_event("TÄÄ ON IHAN PASKAA", intent)])
    events = await ActionOfferPerson().run(dispatcher, tracker, domain)
    assert [m["response"] for m in dispatcher.messages] == [acknowledgement, "utter_offer_person"]
    assert events == [SlotSet("handoff_offer", reason)]
    offer = domain["responses"]["utter_offer_person"][0]
    assert [b["payload"] for b in offer["buttons"]] == ["/request_human", "/deny"]


async def test_when_nobody_can_come_the_contact_form_is_offered_instead(dispatcher, domain, test_settings, monkeypatch):
    async def no_agents(_url):
        return Availability(False, "no_agents", "Yhtään asiakaspalvelijaa ei ole juuri nyt paikalla.")

    monkeypatch.setattr(handoff, "human_availability", no_agents)
    tracker = make_tracker([user_event("en tajuu mitään", "lost")], slots={"handoff_offer": "visitor_upset"})
    events = await ActionOfferPerson().run(dispatcher, tracker, domain)
    assert dispatcher.messages[0]["response"] == "utter_acknowledge_lost"
    assert dispatcher.messages[1]["text"] == "Yhtään asiakaspalvelijaa ei ole juuri nyt paikalla."
    assert dispatcher.messages[2]["custom"] == {"contact_request_offer": {"reason": "no_agents"}}
    assert len(dispatcher.messages) == 3
    assert events == [SlotSet("handoff_offer", None)]  # no person was offered, so no reason is left behind


@pytest.mark.parametrize("reason", ["visitor_upset", "visitor_lost", "visitor_life_event"])
async def test_accepting_the_offered_person_escalates_with_why_it_was_offered(
        dispatcher, domain, test_settings, reason):
    tracker = make_tracker(
        [user_event("ihan surkeeta", "frustrated"), *offered(reason), user_event("/request_human", "request_human")],
        slots={"handoff_offer": reason},
    )
    events = await ActionEscalate().run(dispatcher, tracker, domain)
    assert events == [SlotSet("handoff_offer", None), ConversationPaused()]
    signals = [m["custom"]["handoff"] for m in dispatcher.messages if m.get("custom")]
    assert [s["reason"] for s in signals] == [reason]
    assert signals[0]["summary"]["intents"] == ["frustrated", "request_human"]


async def test_an_offer_from_an_earlier_turn_does_not_colour_a_later_request(dispatcher, domain, test_settings):
    tracker = make_tracker(
        [user_event("ihan surkeeta", "frustrated"), *offered("visitor_upset"), user_event("ei kiitos", "deny"),
         bot("Selvä."), user_event("no haluun sittenkin ihmisen", "request_human")],
        slots={"handoff_offer": "visitor_upset"},
    )
    await ActionEscalate().run(dispatcher, tracker, domain)
    signals = [m["custom"]["handoff"] for m in dispatcher.messages if m.get("custom")]
    assert [s["reason"] for s in signals] == ["visitor_request"]


async def test_a_reason_the_offer_never_gives_is_not_trusted(dispatcher, domain, test_settings):
    tracker = make_tracker([user_event("x", "frustrated"), *offered("action_failed"),
                            user_event("/request_human", "request_human")])
    await ActionEscalate().run(dispatcher, tracker, domain)
    signals = [m["custom"]["handoff"] for m in dispatcher.messages if m.get("custom")]
    assert [s["reason"] for s in signals] == ["visitor_request"]



def test_every_reason_of_an_offer_has_its_finnish_text_for_the_agent():
    """The agent's handoff brief shows why the bot offered a person (liveagent/copy_fi.yml ``reasons``)."""
    from actions.handoff import OFFERED_REASONS
    from liveagent import copy

    assert {reason for reason, _response in person_offer.FEELINGS.values()} == OFFERED_REASONS
    for reason in OFFERED_REASONS:
        assert copy.lookup(f"reasons.{reason}"), reason
