"""A conversation's topic and the bot's turns, read from its tracker (content/topics.py; docs/metrics.md).

Trackers are built with Rasa's own event classes (tests/content/test_missed.py's ``Conversation``), so the
shapes are those ``GET /conversations/<id>/tracker`` returns.
"""

from __future__ import annotations

from rasa.shared.core.events import ConversationResumed, Restarted, SessionStarted

from content.topics import TrackerTurns, turns_in_tracker
from tests.content.test_missed import Conversation


def test_the_topic_is_the_first_question_of_its_own_and_fallbacks_are_counted():
    chat = Conversation()
    chat.add(SessionStarted())
    chat.user("moi", "greet")
    chat.answer("utter_greet")
    chat.fallback("pysäköinti pihalla?", [("faq", 0.3)], faq=("faq/contact", 0.3))
    chat.answer("utter_ask_rephrase")
    chat.user("miten kirjaudun", "faq", faq=("faq/login", 0.9))
    chat.answer("utter_faq/login")
    chat.user("entä aukioloajat", "faq", faq=("faq/opening_hours", 0.9))
    chat.answer("utter_faq/opening_hours")
    chat.user("kiitos", "thank")
    assert turns_in_tracker(chat.events) == TrackerTurns("faq/login", bot_turns=5, fallback_turns=1)


def test_an_intent_that_is_no_faq_is_its_own_topic():
    chat = Conversation()
    chat.user("mikä on tilini tila", "check_account_status")
    assert turns_in_tracker(chat.events) == TrackerTurns("check_account_status", 1, 0)


def test_what_the_visitor_wrote_to_a_human_is_not_the_bots_turn():
    chat = Conversation()
    chat.user("haluan puhua ihmisen kanssa", "request_human")
    chat.escalate()
    chat.user("tilini on lukossa", "faq", faq=("faq/login", 0.9))  # recorded while the bot is paused
    chat.user("pysäköinti?", "nlu_fallback")
    assert turns_in_tracker(chat.events) == TrackerTurns(None, bot_turns=1, fallback_turns=0)
    chat.add(ConversationResumed())
    chat.user("kirjautuminen ei onnistu", "faq", faq=("faq/login_problem", 0.9))
    assert turns_in_tracker(chat.events) == TrackerTurns("faq/login_problem", bot_turns=2, fallback_turns=0)


def test_a_restart_unpauses_the_bot_and_a_conversation_without_a_question_has_no_topic():
    chat = Conversation()
    chat.user("moi", "greet")
    chat.escalate()
    chat.user("hei?", "greet")
    chat.add(Restarted())
    chat.fallback("asdf", [("greet", 0.2)])
    assert turns_in_tracker(chat.events) == TrackerTurns(None, bot_turns=2, fallback_turns=1)
    assert turns_in_tracker([]) == TrackerTurns(None, 0, 0)
