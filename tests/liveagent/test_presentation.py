"""The JSON shapes the widget and the console read (liveagent/presentation.py), without a database."""

from __future__ import annotations

import datetime as dt

from liveagent import copy, presentation
from liveagent.store import Conversation, ConversationState, Message

S = ConversationState
NOW = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.timezone.utc)


def conversation(state: S = S.BOT, **values) -> Conversation:
    fields = dict(id="c1", state=state, agent_id=None, version=1, escalation_reason=None, handoff=None,
                  customer_id=None, created_at=NOW, updated_at=NOW, waiting_since=None,
                  last_visitor_message_at=None, last_agent_message_at=None, rating=None)
    fields.update(values)
    return Conversation(**fields)


def test_a_message_names_its_agent_only_when_an_agent_wrote_it():
    agent = Message(7, "c1", "agent", "text", "Hei!", None, 3, NOW)
    bot = Message(8, "c1", "bot", "text", "Moi", {"quick_replies": [{"title": "Lisää"}]}, None, NOW)
    assert presentation.message_json(agent, "Aino") == {
        "id": 7, "sender": "agent", "kind": "text", "text": "Hei!", "quick_replies": [], "agent_name": "Aino",
        "created_at": NOW.isoformat()}
    shown = presentation.message_json(bot, "Aino")
    assert shown["agent_name"] is None and shown["quick_replies"] == [{"title": "Lisää"}]


def test_buttons_become_quick_replies():
    assert presentation.quick_replies([{"title": "Kyllä", "payload": "/affirm"}, {}]) == [
        {"content_type": "text", "title": "Kyllä", "payload": "/affirm"},
        {"content_type": "text", "title": "", "payload": ""}]


def test_the_wait_is_the_chats_to_go_shared_among_the_places_of_the_agents_online():
    assert presentation.wait_minutes(1, 1, 4) == 4
    assert presentation.wait_minutes(3, 2, 4) == 6
    assert presentation.wait_minutes(3, 6, 12) == 6  # two agents with three places each
    assert presentation.wait_minutes(1, 0, 4) == 4  # nobody online counts as one place
    assert presentation.wait_minutes(1, 8, 0.5) == 1  # never under a minute


def test_nobody_waiting_for_a_free_agent_is_given_an_estimate():
    free = presentation.Staffing(free=2, places=6, handling_minutes=12)
    first, second, third, fifth = (presentation.waiting_status(p, free) for p in (1, 2, 3, 5))
    assert first == {"state": "waiting", "position": 1, "wait_minutes": None, "agent_name": None,
                     "text": copy.text("status.waiting_soon_first")}
    assert first["text"] == "Olet jonossa ensimmäisenä. Vapaa asiakaspalvelija tulee pian keskusteluun."
    assert "arvioitu" not in first["text"] + second["text"]
    assert (second["wait_minutes"], second["text"]) == (None, copy.text("status.waiting_soon", position=2))
    # Behind the free places: the chats to go before a place frees (12 min a chat, 6 places: one every 2 min).
    assert (third["wait_minutes"], third["text"]) == (2, copy.text("status.waiting", position=3, wait_minutes=2))
    assert fifth["wait_minutes"] == 6


def test_status_lines_by_state():
    assert presentation.status(None) == presentation.new_status() == {
        "state": "bot", "position": None, "wait_minutes": None, "agent_name": None, "text": ""}
    full = presentation.Staffing(free=0, places=2, handling_minutes=4)
    first = presentation.status(conversation(S.WAITING, waiting_since=NOW), position=1, staffing=full)
    assert first == {"state": "waiting", "position": 1, "wait_minutes": 2, "agent_name": None, "version": 1,
                     "text": copy.text("status.waiting_first", wait_minutes=2)}
    third = presentation.waiting_status(3, presentation.Staffing(0, 1, 4))
    assert third["text"] == copy.text("status.waiting", position=3, wait_minutes=12)
    assigned = presentation.status(conversation(S.ASSIGNED, agent_id=3), agent_name="Aino")
    assert assigned["agent_name"] == "Aino" and assigned["text"] == copy.text("status.serving", agent_name="Aino")
    assert presentation.status(conversation(S.CLOSED))["state"] == "closed"


def test_a_status_line_carries_the_version_of_the_conversation_it_was_computed_from():
    staffing = presentation.Staffing(free=1, places=1, handling_minutes=4)
    waiting = conversation(S.WAITING, version=4, waiting_since=NOW)
    assert presentation.status(waiting, position=1, staffing=staffing)["version"] == 4
    assert presentation.waiting_status(2, staffing, waiting)["version"] == 4
    assert presentation.status(conversation(S.ASSIGNED, version=5, agent_id=3), agent_name="Aino")["version"] == 5
    assert "version" not in presentation.new_status()  # no row yet: nothing to be older than


def test_a_brief_summarises_the_handoff_for_the_console():
    handoff = {"summary": {"intents": ["request_human"], "last_messages": ["apua"],
                           "customer": {"verified": True, "customer_id": "LUMO-1"}}}
    waiting = conversation(S.WAITING, waiting_since=NOW - dt.timedelta(seconds=90), escalation_reason="visitor_request",
                           handoff=handoff)
    brief = presentation.brief(waiting, None, 0, NOW)
    assert brief["state"] == "waiting" and brief["waiting_seconds"] == 90
    assert brief["reason_text"] == copy.lookup("reasons.visitor_request")
    assert (brief["intents"], brief["last_messages"]) == (["request_human"], ["apua"])
    assert brief["customer"] == {"verified": True, "customer_id": "LUMO-1"}
    unknown = presentation.brief(conversation(S.ASSIGNED, agent_id=3, escalation_reason="new_code",
                                              customer_id="LUMO-2"), "Aino", 4, NOW)
    assert unknown["reason_text"] == "new_code" and unknown["unread"] == 4 and unknown["agent_name"] == "Aino"
    assert unknown["customer"] == {"verified": True, "customer_id": "LUMO-2"} and unknown["waiting_seconds"] is None


def test_the_brief_says_in_finnish_why_for_every_handoff_reason():
    from lumo_shared.handoff import HandoffReason

    reasons = {value for name, value in vars(HandoffReason).items() if name.isupper()}
    for reason in reasons:
        brief = presentation.brief(conversation(S.WAITING, waiting_since=NOW, escalation_reason=reason), None, 0, NOW)
        assert brief["reason_text"] == copy.lookup(f"reasons.{reason}") and brief["reason_text"] != reason
    upset = presentation.brief(conversation(S.WAITING, waiting_since=NOW, escalation_reason="visitor_upset"), None, 0,
                               NOW)
    assert upset["reason_text"] == "Asiakas on turhautunut tai pahoittanut mielensä"


def test_a_handover_names_both_agents_and_when():
    from liveagent.store.overview import Handover

    transfer = presentation.handover(Handover("transfer", 3, 4, NOW), "Aino", "Ville")
    assert transfer == {"kind": "transfer", "from_agent_id": 3, "from_agent_name": "Aino", "to_agent_id": 4,
                        "to_agent_name": "Ville", "at": NOW.isoformat()}
    brief = presentation.brief(conversation(S.ASSIGNED, agent_id=4), "Ville", 0, NOW, handover=transfer)
    assert brief["handover"] == transfer and brief["unanswered"] is None
    assert presentation.HANDOVER_STATES == {"transfer": S.ASSIGNED, "requeue": S.WAITING}
