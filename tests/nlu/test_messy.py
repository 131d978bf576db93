"""Messy messages (issue 15) on the trained model and the whole dialogue: at most 5 % confident wrong
answers on tests/nlu/messy.yml, and a person offered to every upset or lost visitor (bench/messy.py)."""

from __future__ import annotations

from collections import Counter
from typing import List

import pytest

from bench import messy
from bench.messy import KINDS, MAX_CONFIDENT_WRONG, Case, Outcome, judge, load_cases, reply_of, summary
from tests.conftest import ROOT

MODEL = ROOT / "models" / "lumo.tar.gz"


@pytest.fixture(scope="module")
def outcomes() -> List[Outcome]:
    if not MODEL.exists():
        pytest.fail("models/lumo.tar.gz is missing: run `make train` (make test does it)")
    return messy.evaluate(MODEL)


def failures(outcomes: List[Outcome], which) -> str:
    return "\n".join(messy.describe(o) for o in outcomes if which(o))


def test_the_set_is_large_and_has_every_kind_of_messy_message():
    cases = load_cases()
    assert len(cases) >= 150
    counts = Counter(case.expect for case in cases)
    assert set(counts) == set(KINDS)
    assert counts["upset"] + counts["lost"] >= 40 and counts["topics"] >= 25 and counts["other_language"] >= 15
    assert sum(len(case.text) > 1000 for case in cases) >= 2  # long pastes
    assert sum(case.customer is not None for case in cases) >= 10  # logged-in questions about one's own case


def test_at_most_five_percent_confident_wrong_answers(outcomes):
    figures = summary(outcomes)
    assert figures["total"] == len(load_cases())
    assert figures["confident_wrong_share"] <= MAX_CONFIDENT_WRONG, failures(outcomes, lambda o: o.confident_wrong)


def test_every_upset_or_lost_visitor_is_offered_a_person(outcomes):
    missed = failures(outcomes, lambda o: o.case.expect in ("upset", "lost") and not o.reply.person)
    assert not missed, missed


def test_the_issues_own_examples_get_the_right_kind_of_answer(outcomes):
    by_text = {o.case.text: o for o in outcomes}
    upset = by_text["TÄÄ ON IHAN PASKA PALVELU!!! oon oottanu rahoja jo kolme viikkoa eikä kukaan vastaa mitään"]
    assert upset.reply.responses[0] == "utter_acknowledge_upset" and upset.reply.person
    assert by_text["mä en tajuu mitään"].reply.responses[0] == "utter_acknowledge_lost"
    several = by_text["mihin aikaan olette auki ja milloin on seuraava maksupäivä?"]
    assert several.reply.answered == ["faq/opening_hours", "faq/payment_dates"]
    money = by_text["paljonko mä saan rahaa"]
    assert "utter_account_next_payment" in money.reply.responses
    for text in ("voitteko soittaa mulle", "mun kissa söi mun paperit"):
        assert "utter_login_required" not in by_text[text].reply.responses, text


# -- the definitions (docs/nlu.md, "Messy messages") ------------------------------------------------------
def bot(response=None, buttons=None, custom=None) -> dict:
    metadata = {"utter_action": response} if response else {}
    return {"event": "bot", "metadata": metadata, "data": {"buttons": buttons, "custom": custom}}


def turn(*bots, intent="faq", topic="faq/login") -> List[dict]:
    parse = {"intent": {"name": intent}, "response_selector": {"faq": {"response": {"intent_response_key": topic}}}}
    return [{"event": "user", "text": "x", "parse_data": parse}, {"event": "action", "name": "x"}, *bots]


def test_a_topic_answer_is_read_from_the_response_names_of_the_turn():
    reply = reply_of([*turn(bot("utter_faq/contact")), *turn(bot("utter_several_topics_intro"),
                                                                  bot("utter_faq/login"), bot("utter_login_required"))])
    assert reply.answered == ["faq/login", "check_account_status"]  # only the last turn counts
    assert reply.intent == "faq/login" and not reply.person


def test_a_person_is_a_handoff_a_contact_form_or_a_person_button():
    assert reply_of(turn(bot(custom={"handoff": {"reason": "visitor_upset"}}))).handoff_reason == "visitor_upset"
    assert reply_of(turn(bot(custom={"contact_request_offer": {"reason": "closed"}}))).person
    assert reply_of(turn(bot("utter_offer_person", buttons=[{"payload": "/request_human"}]))).person
    assert not reply_of(turn(bot("utter_faq/opening_hours", buttons=[{"payload": "Miten varaan ajan?"}]))).person


def test_a_confident_wrong_answer_is_a_topic_that_was_not_asked():
    upset = Case("x", "upset", ("faq/payment_dates",))
    acknowledged = reply_of(turn(bot("utter_acknowledge_upset"), bot("utter_offer_person",
                                                                      buttons=[{"payload": "/request_human"}])))
    assert judge(upset, acknowledged).right and not judge(upset, acknowledged).confident_wrong
    opening_hours = reply_of(turn(bot("utter_faq/opening_hours")))
    assert judge(upset, opening_hours).confident_wrong and not judge(upset, opening_hours).right
    asked = reply_of(turn(bot("utter_ask_rephrase", buttons=[{"payload": "x"}])))
    assert not judge(Case("x", "topic", ("faq/login",)), asked).confident_wrong  # asking back is not wrong
    refusal = reply_of(turn(bot("utter_out_of_scope")))
    assert judge(Case("x", "out_of_scope"), refusal).right


def test_several_questions_need_two_answers_or_the_which_first_question():
    case = Case("x", "topics", ("faq/opening_hours", "faq/payment_dates", "check_account_status"))
    one = reply_of(turn(bot("utter_faq/opening_hours")))
    two = reply_of(turn(bot("utter_faq/opening_hours"), bot("utter_faq/payment_dates")))
    which = reply_of(turn(bot("utter_several_topics_ask", buttons=[{"payload": "x"}])))
    assert [judge(case, r).right for r in (one, two, which)] == [False, True, True]
    assert judge(Case("x", "topics", ("faq/privacy",), questions=1), reply_of(turn(bot("utter_faq/privacy")))).right


def test_the_gate_scores_one_topic_answered_beside_a_feeling_as_that_topic():
    """bench/nlu_eval.py: what the visitor gets is that topic's answer (after the acknowledgement)."""
    from bench.nlu_eval import predicted_label

    def several(mode, *labels):
        return {"intent": {"name": "several_topics"}, "response_selector": {"faq": {"response": {
            "intent_response_key": "faq/login"}}},
            "lumo_topics": {"mode": mode, "topics": [{"label": label} for label in labels], "acknowledge": "lost"}}

    assert predicted_label(several("answer", "faq/apply")) == "faq/apply"
    assert predicted_label(several("answer", "check_account_status")) == "check_account_status"
    assert predicted_label(several("answer", "faq/apply", "faq/login")) == "several_topics"
    assert predicted_label(several("ask", "faq/apply")) == "several_topics"
    assert predicted_label({"intent": {"name": "faq"}, "response_selector": {"faq": {"response": {
        "intent_response_key": "faq/login"}}}}) == "faq/login"
