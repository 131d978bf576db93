"""Several questions in one message: each topic answered (up to the limit), or "which one first"."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from rasa_sdk.events import SlotSet

from actions import handoff
from actions.several_topics import ActionAnswerTopics, topics_of
from lumo_shared.handoff import Availability
from tests.conftest import make_tracker, signed_customer, user_event


def several(labels: List[str], mode: str = "answer", limit: int = 3, acknowledge: Optional[str] = None,
            metadata: Optional[Dict[str, Any]] = None) -> dict:
    event = user_event("kysymyksiä", "several_topics", metadata)
    found: Dict[str, Any] = {"mode": mode, "limit": limit,
                             "topics": [{"label": label, "confidence": 0.9, "text": label} for label in labels]}
    if acknowledge:
        found["acknowledge"] = acknowledge
    event["parse_data"]["lumo_topics"] = found
    return event


def responses(dispatcher) -> List[str]:
    return [m.get("response") for m in dispatcher.messages]


async def test_each_topic_is_answered_in_the_order_asked(dispatcher, domain, test_settings):
    tracker = make_tracker([several(["faq/opening_hours", "faq/payment_dates"])])
    events = await ActionAnswerTopics().run(dispatcher, tracker, domain)
    assert events == []
    assert responses(dispatcher) == ["utter_several_topics_intro", "utter_faq/opening_hours", "utter_faq/payment_dates"]


async def test_topics_beyond_the_limit_are_offered_as_buttons(dispatcher, domain, test_settings):
    labels = ["faq/opening_hours", "faq/payment_dates", "faq/attachments", "faq/login"]
    await ActionAnswerTopics().run(dispatcher, make_tracker([several(labels, limit=2)]), domain)
    assert responses(dispatcher) == ["utter_several_topics_intro", "utter_faq/opening_hours",
                                     "utter_faq/payment_dates", "utter_several_topics_more"]
    more = dispatcher.messages[-1]["buttons"]
    assert [b["title"] for b in more] == ["Liitteiden lähettäminen", "Kirjautuminen"]
    assert [b["payload"] for b in more] == ["Miten lähetän liitteet?", "Miten kirjaudun asiointipalveluun?"]


async def test_the_own_case_is_looked_up_for_a_logged_in_visitor(dispatcher, domain, test_settings, sqlite_backend):
    event = several(["faq/payment_dates", "check_account_status"], metadata=signed_customer("LUMO-1003"))
    await ActionAnswerTopics().run(dispatcher, make_tracker([event]), domain)
    assert responses(dispatcher) == ["utter_several_topics_intro", "utter_faq/payment_dates",
                                     "utter_account_application_decided", "utter_account_next_payment"]
    assert dispatcher.messages[-1]["amount"] == "412,50"


async def test_unsure_topics_are_asked_about_first(dispatcher, domain, test_settings):
    tracker = make_tracker([several(["faq/attachments", "check_account_status"], mode="ask")])
    await ActionAnswerTopics().run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_several_topics_ask"]
    buttons = dispatcher.messages[0]["buttons"]
    assert [b["payload"] for b in buttons] == ["Miten lähetän liitteet?", "/check_account_status"]
    assert [b["title"] for b in buttons] == ["Liitteiden lähettäminen", "Oman asiani tilanne"]


async def test_an_upset_visitor_is_acknowledged_first_and_offered_a_person_after_the_answers(
        dispatcher, domain, test_settings):
    tracker = make_tracker([several(["faq/payment_dates"], acknowledge="frustrated")])
    events = await ActionAnswerTopics().run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_acknowledge_upset", "utter_faq/payment_dates",
                                     "utter_offer_person_after_answers"]
    assert events == [SlotSet("handoff_offer", "visitor_upset")]
    button = domain["responses"]["utter_offer_person_after_answers"][0]["buttons"]
    assert [b["payload"] for b in button] == ["/request_human"]


async def test_a_life_event_beside_a_question_is_acknowledged_before_the_answer(dispatcher, domain, test_settings):
    tracker = make_tracker([several(["faq/change_details"], acknowledge="life_event")])
    events = await ActionAnswerTopics().run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_acknowledge_life_event", "utter_faq/change_details",
                                     "utter_offer_person_after_answers"]
    assert events == [SlotSet("handoff_offer", "visitor_life_event")]


async def test_with_nobody_in_the_answers_end_with_the_contact_form(dispatcher, domain, test_settings, monkeypatch):
    async def closed(_url):
        return Availability(False, "closed", "Palvelemme taas maanantaina.")

    monkeypatch.setattr(handoff, "human_availability", closed)
    tracker = make_tracker([several(["faq/login", "faq/attachments"], acknowledge="lost")])
    events = await ActionAnswerTopics().run(dispatcher, tracker, domain)
    assert responses(dispatcher)[:4] == ["utter_acknowledge_lost", "utter_several_topics_intro", "utter_faq/login",
                                         "utter_faq/attachments"]
    assert dispatcher.messages[4]["text"] == "Palvelemme taas maanantaina."
    assert dispatcher.messages[5]["custom"] == {"contact_request_offer": {"reason": "closed"}}
    assert events == []


async def test_nothing_usable_in_the_parse_data_asks_to_rephrase(dispatcher, domain, test_settings):
    event = user_event("kysymyksiä", "several_topics")
    event["parse_data"]["lumo_topics"] = {"mode": "answer", "topics": [{"label": "greet"}, "rubbish", {"x": 1}]}
    await ActionAnswerTopics().run(dispatcher, make_tracker([event]), domain)
    assert responses(dispatcher) == ["utter_ask_rephrase_no_options"]


def test_topics_are_read_defensively():
    assert topics_of({}).labels == ()
    read = topics_of({"lumo_topics": {"mode": "answer", "limit": True, "acknowledge": "happy",
                                      "topics": [{"label": "faq/login"}, {"label": "faq/login"},
                                                 {"label": "check_account_status"}, {"label": "out_of_scope"}]}})
    assert read.labels == ("faq/login", "check_account_status")
    assert read.limit == 3 and read.acknowledge is None and read.mode == "answer"
