"""Escalation and the two-stage fallback: exact events, responses and handoff signal."""

from __future__ import annotations

from rasa_sdk.events import ConversationPaused, SlotSet

from actions.fallback import ActionHandleFallback, likely_options
from actions.handoff import ActionEscalate
from tests.conftest import make_token, make_tracker, signed_customer, user_event


def bot(text: str) -> dict:
    return {"event": "bot", "text": text}


def fallback_event(text: str) -> dict:
    return user_event(
        text,
        "nlu_fallback",
        ranking=[
            {"name": "nlu_fallback", "confidence": 0.55},
            {"name": "faq", "confidence": 0.4},
            {"name": "check_account_status", "confidence": 0.3},
            {"name": "greet", "confidence": 0.2},
        ],
        selector_ranking=[
            {"intent_response_key": "faq/processing_time", "confidence": 0.7},
            {"intent_response_key": "faq/apply", "confidence": 0.2},
            {"intent_response_key": "faq/login", "confidence": 0.1},
        ],
    )


def signal_of(dispatcher) -> dict:
    customs = [m["custom"] for m in dispatcher.messages if m.get("custom")]
    assert len(customs) == 1
    return customs[0]["handoff"]


async def test_request_human_pauses_and_signals(dispatcher, domain, test_settings):
    tracker = make_tracker(
        [
            user_event("miten kirjaudun", "faq", faq_key="faq/login"),
            bot("Kirjaudu..."),
            user_event("mun hetu on 131052-308T, haluan puhua ihmisen kanssa", "request_human"),
        ],
        sender_id="conv-42",
    )
    events = await ActionEscalate().run(dispatcher, tracker, domain)
    assert events == [ConversationPaused()]
    assert dispatcher.messages[0]["response"] == "utter_handoff"
    signal = signal_of(dispatcher)
    assert signal["version"] == 1
    assert signal["reason"] == "visitor_request"
    assert signal["conversation_id"] == "conv-42"
    assert signal["summary"]["intents"] == ["faq/login", "request_human"]
    assert signal["summary"]["last_messages"] == [
        "miten kirjaudun",
        "mun hetu on [henkilötunnus], haluan puhua ihmisen kanssa",
    ]
    assert signal["summary"]["customer"] == {"verified": False}
    assert "failed_action" not in signal["summary"]


async def test_verified_customer_is_named_in_the_signal(dispatcher, domain, test_settings):
    metadata = signed_customer("LUMO-1004")
    tracker = make_tracker([user_event("ihminen kiitos", "request_human", metadata)])
    await ActionEscalate().run(dispatcher, tracker, domain)
    assert signal_of(dispatcher)["summary"]["customer"] == {"verified": True, "customer_id": "LUMO-1004"}


async def test_forged_identity_is_reported_as_anonymous(dispatcher, domain, test_settings):
    forged = signed_customer("LUMO-1004", key="forged-key-forged-key-forged-key-0123")
    metadata = {**forged, "auth_token": make_token("LUMO-1004"), "customer_id": "LUMO-1004"}
    tracker = make_tracker([user_event("ihminen kiitos", "request_human", metadata)])
    await ActionEscalate().run(dispatcher, tracker, domain)
    assert signal_of(dispatcher)["summary"]["customer"] == {"verified": False}


async def test_accepting_the_offer_after_a_failure_escalates_as_action_failed(dispatcher, domain, test_settings):
    tracker = make_tracker(
        [
            user_event("onko hakemus käsitelty", "check_account_status"),
            {"event": "action", "name": "action_check_account_status"},
            {"event": "slot", "name": "failed_action", "value": "action_check_account_status"},
            bot("Pahoittelut..."),
            user_event("/request_human", "request_human"),
        ],
        slots={"failed_action": "action_check_account_status"},
    )
    events = await ActionEscalate().run(dispatcher, tracker, domain)
    assert events == [SlotSet("failed_action", None), ConversationPaused()]
    signal = signal_of(dispatcher)
    assert signal["reason"] == "action_failed"
    assert signal["summary"]["failed_action"] == "action_check_account_status"


async def test_old_failure_does_not_colour_a_later_request(dispatcher, domain, test_settings):
    tracker = make_tracker(
        [
            user_event("onko hakemus käsitelty", "check_account_status"),
            {"event": "slot", "name": "failed_action", "value": "action_check_account_status"},
            user_event("ei kiitos", "deny"),
            bot("Selvä."),
            user_event("haluan ihmisen", "request_human"),
        ],
        slots={"failed_action": "action_check_account_status"},
    )
    await ActionEscalate().run(dispatcher, tracker, domain)
    assert signal_of(dispatcher)["reason"] == "visitor_request"


async def test_first_miss_offers_likeliest_topics(dispatcher, domain, test_settings):
    tracker = make_tracker([user_event("moi", "greet"), bot("Hei!"), fallback_event("se juttu siellä")])
    events = await ActionHandleFallback().run(dispatcher, tracker, domain)
    assert events == []
    assert len(dispatcher.messages) == 1
    message = dispatcher.messages[0]
    assert message["response"] == "utter_ask_rephrase"
    assert [b["payload"] for b in message["buttons"]] == [
        "/check_account_status",
        "Kauanko hakemuksen käsittely kestää?",
        "Miten haen etuutta?",
    ]
    assert [b["title"] for b in message["buttons"]] == ["Oman asiani tilanne", "Käsittelyajat", "Hakeminen"]


async def test_second_miss_in_a_row_escalates(dispatcher, domain, test_settings):
    tracker = make_tracker([fallback_event("se juttu"), bot("En ihan ymmärtänyt."), fallback_event("no se toinen")])
    events = await ActionHandleFallback().run(dispatcher, tracker, domain)
    assert events == [ConversationPaused()]
    assert dispatcher.messages[0]["response"] == "utter_handoff_after_fallback"
    assert signal_of(dispatcher)["reason"] == "repeated_fallback"


async def test_misses_that_are_not_in_a_row_do_not_escalate(dispatcher, domain, test_settings):
    tracker = make_tracker(
        [fallback_event("se juttu"), user_event("miten kirjaudun", "faq", faq_key="faq/login"), fallback_event("hmm")]
    )
    events = await ActionHandleFallback().run(dispatcher, tracker, domain)
    assert events == []
    assert dispatcher.messages[0]["response"] == "utter_ask_rephrase"


async def test_no_candidates_asks_to_rephrase_without_buttons(dispatcher, domain, test_settings):
    tracker = make_tracker([user_event("asdf", "nlu_fallback", ranking=[{"name": "nlu_fallback", "confidence": 0.5}])])
    await ActionHandleFallback().run(dispatcher, tracker, domain)
    assert [m["response"] for m in dispatcher.messages] == ["utter_ask_rephrase_no_options"]
    assert dispatcher.messages[0]["buttons"] == []


def test_every_faq_topic_has_a_button_title(domain):
    topics = [key for key in domain["responses"] if key.startswith("utter_faq/")]
    assert len(topics) == 13
    parse_data = {
        "intent_ranking": [{"name": "faq", "confidence": 1.0}],
        "response_selector": {
            "faq": {"ranking": [{"intent_response_key": key[len("utter_"):], "confidence": 0.5} for key in topics]}
        },
    }
    options = likely_options(parse_data, domain)
    assert len(options) == 3, "every FAQ response needs metadata.title and metadata.example for the fallback buttons"
