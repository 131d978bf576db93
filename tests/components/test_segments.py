"""Clauses of a message (components/segments.py): where a new question begins, and what the message is read as."""

from __future__ import annotations

import re
from typing import List

import pytest

from components.finnish_morphology import fold_diacritics
from components.segments import (
    ANSWER,
    ASK,
    KEEP,
    PRIORITY,
    SWITCH,
    WHOLE,
    Reading,
    Settings,
    Span,
    beside,
    decide,
    split,
)


def spans(text: str) -> List[Span]:
    """Tokens as the tokenizer gives them: words, lower-case, ä/ö folded, offsets in the message."""
    return [Span(fold_diacritics(m.group().lower()), m.start(), m.end()) for m in re.finditer(r"\w+", text)]


def clauses(text: str) -> List[str]:
    return [clause.text(text) for clause in split(text, spans(text))]


@pytest.mark.parametrize("text, expected", [
    ("mihin aikaan olette auki ja milloin on seuraava maksupäivä?",
     ["mihin aikaan olette auki", "milloin on seuraava maksupäivä"]),
    ("Miten lähetän liitteen? Entä kauanko käsittely kestää?",
     ["Miten lähetän liitteen", "Entä kauanko käsittely kestää"]),
    ("Kaksi kysymystä: 1) miten kirjaudun 2) missä näen maksupäivät",
     ["Kaksi kysymystä", "miten kirjaudun", "missä näen maksupäivät"]),
    ("mikä on numero, ja voinko varata ajan", ["mikä on numero", "voinko varata ajan"]),
    ("Haluan muuttaa tilinumeron, lisäksi kysyisin maksupäivää", ["Haluan muuttaa tilinumeron",
                                                                  "lisäksi kysyisin maksupäivää"]),
    ("TÄÄ ON PASKAA!!!\noon oottanu kolme viikkoa", ["TÄÄ ON PASKAA", "oon oottanu kolme viikkoa"]),
])
def test_a_new_question_begins_at_a_sentence_end_or_a_conjunction_before_a_question_word(text, expected):
    assert clauses(text) == expected


@pytest.mark.parametrize("text", [
    "Olen muuttanut uuteen asuntoon, miten ilmoitan osoitteen?",  # an indirect question, not a second one
    "haluaisin tietää, milloin tuki maksetaan",
    "tarvitaan esim. vuokrasopimus ja palkkalaskelma",  # "esim." ends no sentence, "ja" opens no question
    "tuki maksetaan 18. päivä",
    "leipää ja maitoa",
    "miten ja mistä ilmoitan uuden tilinumeron",  # two question words joined: one question
    "miten kirjaudun",
])
def test_one_question_stays_one_clause(text):
    assert len(clauses(text)) == 1


def test_a_clause_is_a_question_by_its_question_mark_or_a_question_word():
    text = "Vuokra pitäisi maksaa kuun alussa. Koko päivä meni. Onko tuki tullut. Tuki tuli?"
    assert [c.question for c in split(text, spans(text))] == [False, False, True, True]


def test_a_message_without_words_has_no_clauses():
    assert split("🙂 ???", spans("🙂 ???")) == []


SETTINGS = Settings()


def read(*readings) -> List[Reading]:
    return [Reading(*reading) for reading in readings]


def test_one_clause_is_read_as_the_whole_message():
    assert decide(("faq/login", 0.3), read(("faq/payment_dates", 0.99)), SETTINGS).kind == KEEP


def test_two_confident_topics_are_both_answered_in_the_order_asked():
    decision = decide(("faq/opening_hours", 0.97),
                      read(("faq/opening_hours", 0.99), ("greet", 0.9), ("faq/payment_dates", 0.8)), SETTINGS)
    assert decision.kind == ANSWER and decision.acknowledge is None
    assert [(label, clause) for label, _p, clause in decision.topics] == [("faq/opening_hours", 0),
                                                                         ("faq/payment_dates", 2)]


def test_the_same_topic_twice_is_one_topic():
    decision = decide(("faq/privacy", 0.9), read(("faq/privacy", 0.9), ("faq/privacy", 0.7)), SETTINGS)
    assert decision.kind == KEEP


def test_a_person_please_clause_comes_first():
    decision = decide(("faq/login", 0.99), read(("request_human", 0.95), ("faq/login", 0.99)), SETTINGS)
    assert decision == decision.__class__(PRIORITY, clause=0)


def test_an_upset_clause_without_a_real_question_is_what_the_message_is():
    decision = decide(("faq/opening_hours", 0.4), read(("frustrated", 0.97, False), ("out_of_scope", 0.6)), SETTINGS)
    assert decision.kind == PRIORITY and decision.clause == 0


def test_an_upset_clause_beside_a_question_is_acknowledged_and_the_question_answered():
    decision = decide(("faq/payment_dates", 0.6), read(("frustrated", 0.95, False), ("faq/payment_dates", 0.9)),
                      SETTINGS)
    assert decision.kind == ANSWER and decision.acknowledge == "frustrated"
    assert [label for label, _p, _c in decision.topics] == ["faq/payment_dates"]


def test_a_message_read_as_a_person_please_as_a_whole_stays_so():
    decision = decide(("request_human", 0.9), read(("faq/login", 0.99), ("faq/payment_dates", 0.99)), SETTINGS)
    assert decision.kind == KEEP


@pytest.mark.parametrize("whole", ["frustrated", "lost"])
def test_a_feeling_as_a_whole_stays_so_unless_a_clause_really_asks(whole):
    statements = read(("faq/login", 0.99, False), ("faq/payment_dates", 0.95, False))
    assert decide((whole, 0.9), statements, SETTINGS).kind == KEEP
    unsure = read(("faq/login", 0.45, True), ("out_of_scope", 0.9, False))
    assert decide((whole, 0.9), unsure, SETTINGS).kind == KEEP
    asked = decide((whole, 0.9), read((whole, 0.9, False), ("faq/payment_dates", 0.8, True)), SETTINGS)
    assert asked.kind == ANSWER and asked.acknowledge == whole
    assert [(label, clause) for label, _p, clause in asked.topics] == [("faq/payment_dates", 1)]


LIFE = Settings(acknowledge=("frustrated", "lost", "life_event"), feeling_beside=0.35)


def test_a_feeling_beside_a_topic_is_acknowledged_with_its_answer():
    decision = beside(("check_account_status", 0.43), {"frustrated": 0.42, "lost": 0.03}, LIFE)
    assert decision is not None and decision.kind == ANSWER and decision.acknowledge == "frustrated"
    assert decision.topics == (("check_account_status", 0.43, WHOLE),)
    assert beside(("faq/apply", 0.5), {"lost": 0.36, "life_event": 0.4}, LIFE).acknowledge == "life_event"


def test_no_feeling_beside_a_plain_question_or_a_reading_that_is_no_topic():
    assert beside(("faq/apply", 0.6), {"lost": 0.34, "frustrated": 0.2}, LIFE) is None
    assert beside(("out_of_scope", 0.5), {"frustrated": 0.45}, LIFE) is None
    assert beside(("faq/apply", 0.5), {"lost": 0.45}, SETTINGS) is None  # not configured: never
    assert beside(("faq/apply", 0.5), {"other": 0.9}, LIFE) is None  # only the acknowledge labels


def test_a_statement_counts_only_when_the_model_is_very_sure_of_it():
    story = read(("faq/payment_dates", 0.88, False), ("faq/processing_time", 0.9, True))
    assert decide(("faq/processing_time", 0.7), story, SETTINGS).kind == KEEP
    sure = read(("faq/change_details", 0.95, False), ("faq/processing_time", 0.9, True))
    assert decide(("faq/processing_time", 0.7), sure, SETTINGS).kind == ANSWER


def test_an_unsure_message_with_two_plausible_questions_asks_which_first():
    decision = decide(("out_of_scope", 0.3), read(("faq/apply", 0.35), ("faq/attachments", 0.45), ("thank", 0.9)),
                      SETTINGS)
    assert decision.kind == ASK
    assert [label for label, _p, _c in decision.topics] == ["faq/attachments", "faq/apply"]  # likeliest first


def test_a_sure_message_is_not_asked_about():
    decision = decide(("faq/apply", 0.8), read(("faq/apply", 0.35), ("faq/attachments", 0.45)), SETTINGS)
    assert decision.kind == KEEP


def test_one_real_question_in_a_story_is_what_the_message_is_read_as():
    decision = decide(("check_account_status", 0.6),
                      read(("out_of_scope", 0.5, False), ("faq/attachments", 0.9, True), ("thank", 0.9)), SETTINGS)
    assert decision == decision.__class__(SWITCH, clause=1)


def test_settings_come_from_the_config():
    settings = Settings.from_config({"topic_prefixes": ["faq/"], "confident": 0.7, "acknowledge": ["lost"]})
    assert settings.is_topic("faq/login") and not settings.is_topic("check_account_status")
    assert settings.confident == 0.7 and settings.acknowledge == ("lost",) and settings.priority == ("request_human",)
    assert settings.feeling_beside is None
    assert Settings.from_config({"feeling_beside": 0.35}).feeling_beside == 0.35
