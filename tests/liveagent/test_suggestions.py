"""Suggested answers through the real service and the fake Rasa (issue 16, item 4): what the console gets
for the visitor's newest question, who may ask, a reply sent from a suggestion recorded as used, Rasa down,
and the editors' list of topics the bot knew but the visitor wanted a person for."""

from __future__ import annotations

from typing import Any, Dict

import pytest

from liveagent.suggestions import answer_texts, edited, ranked_topics
from tests.liveagent.conftest import Agent, escalated, stored
from tests.liveagent.fake_rasa import ANSWERS


async def suggestions(agent: Agent, conversation_id: str) -> Any:
    return await agent.call("GET", f"/conversations/{conversation_id}/suggestions")


async def held_by_aino(visitors, aino: Agent, *texts: str):
    """A visitor handed off, claimed by aino, who then writes ``texts`` (recorded while the bot is paused)."""
    visitor, conversation_id = await escalated(visitors)
    assert (await aino.call("POST", f"/conversations/{conversation_id}/claim")).status == 200
    for text in texts:
        await visitor.say(text)
        await stored(aino, conversation_id, text)
    return visitor, conversation_id


def test_topics_are_ranked_by_their_own_probability_and_weak_ones_left_out():
    parse = {"intent_ranking": [{"name": "faq", "confidence": 0.6}, {"name": "greet", "confidence": 0.3}],
             "response_selector": {"faq": {"ranking": [
                 {"intent_response_key": "faq/login", "confidence": 0.5},
                 {"intent_response_key": "faq/contact", "confidence": 0.4},
                 {"intent_response_key": "faq/apply", "confidence": 0.06},
                 {"intent_response_key": "faq/privacy", "confidence": 0.04}]}}}
    ranked = ranked_topics(parse)
    assert [(r.topic, r.confidence) for r in ranked] == [("faq/login", 0.6), ("faq/contact", 0.48)]
    assert ranked_topics({"intent_ranking": [{"name": "greet", "confidence": 0.9}]}) == []
    # no FAQ intent in the ranking: nothing to scale with, no suggestion
    assert ranked_topics({"response_selector": parse["response_selector"]}) == []
    assert len(ranked_topics(parse, minimum=0.0)) == 3  # never more than three


def test_answers_are_the_domains_finnish_variations():
    domain = {"responses": {"utter_faq/login": [{"text": "EN", "condition": [{"type": "slot"}]}, {"text": "FI"}],
                            "utter_greet": [{"text": "Hei"}], "utter_faq/empty": []}}
    assert answer_texts(domain) == {"faq/login": "FI"}
    assert not edited("Kirjaudu  sisään.\n", " Kirjaudu sisään.") and edited("Kirjaudu sisään!", "Kirjaudu sisään.")


async def test_the_console_gets_the_bots_best_answers_to_the_newest_question(service, visitors, make_agent):
    aino = await make_agent("aino")
    visitor, conversation_id = await held_by_aino(visitors, aino, "miten kirjaudun palveluun")
    response = await suggestions(aino, conversation_id)
    assert response.status == 200
    found = await response.json()
    newest = [m for m in (await (await aino.call("GET", f"/conversations/{conversation_id}")).json())["messages"]
              if m["text"] == "miten kirjaudun palveluun"][0]
    assert found["message_id"] == newest["id"]
    # faq/login 0.95; within FAQ 0.8 / 0.15 / 0.05 -> 0.95, 0.178, 0.059 (below 0.1: left out)
    assert [(s["topic"], s["title"], s["text"]) for s in found["suggestions"]] == [
        ("faq/login", "Kirjautuminen", ANSWERS["faq/login"]),
        ("faq/login_problem", "Kirjautumisongelmat", ANSWERS["faq/login_problem"])]
    assert [round(s["confidence"], 3) for s in found["suggestions"]] == [0.95, 0.178]
    # asked again: the same suggestions (the same ids), Rasa not asked again for the same message
    again = await (await suggestions(aino, conversation_id)).json()
    assert again == found
    assert service.rasa_log()["log"]["_parse"] == ["miten kirjaudun palveluun"]
    # a new visitor message: suggestions for it
    await visitor.say("mitkä on aukioloajat")
    await stored(aino, conversation_id, "mitkä on aukioloajat")
    newer = await (await suggestions(aino, conversation_id)).json()
    assert newer["message_id"] > found["message_id"]
    assert [s["topic"] for s in newer["suggestions"]] == ["faq/opening_hours", "faq/contact"]


async def test_the_question_asked_before_the_handoff_is_suggested_for_when_the_newest_words_are_none(
        service, visitors, make_agent):
    aino = await make_agent("aino")
    visitor = await visitors()
    await visitor.connect()
    await visitor.say("miten kirjaudun palveluun")  # answered by the bot
    await visitor.wait_for("bot_uttered")
    await visitor.say("haluan puhua ihmisen kanssa")  # the handoff: no question of its own
    await visitor.wait_for("status", lambda d: d["state"] == "waiting")
    conversation_id = visitor.token.split(".")[0]
    assert (await aino.call("POST", f"/conversations/{conversation_id}/claim")).status == 200
    found = await (await suggestions(aino, conversation_id)).json()
    messages = (await (await aino.call("GET", f"/conversations/{conversation_id}")).json())["messages"]
    question = [m for m in messages if m["text"] == "miten kirjaudun palveluun"][0]
    assert found["message_id"] == question["id"]
    assert [s["topic"] for s in found["suggestions"]] == ["faq/login", "faq/login_problem"]


async def test_who_may_ask_for_suggestions(service, visitors, make_agent):
    aino, ville, eeva = await make_agent("aino"), await make_agent("ville"), await make_agent("eeva", online=False)
    _, conversation_id = await held_by_aino(visitors, aino, "miten kirjaudun")
    assert (await suggestions(ville, conversation_id)).status == 200  # supervisors see every conversation
    refused = await suggestions(eeva, conversation_id)
    assert (refused.status, (await refused.json())["error"]) == (403, "agents_only")
    _, other = await escalated(visitors)
    assert (await ville.call("POST", f"/conversations/{other}/claim")).status == 200
    refused = await suggestions(aino, other)  # ville's chat: aino never held it
    assert (refused.status, (await refused.json())["error"]) == (403, "not_your_conversation")
    assert (await suggestions(aino, "0" * 32)).status == 404


async def test_a_reply_from_a_suggestion_is_recorded_edited_or_not(service, visitors, make_agent):
    aino = await make_agent("aino")
    _, conversation_id = await held_by_aino(visitors, aino, "miten kirjaudun")
    first, second = (await (await suggestions(aino, conversation_id)).json())["suggestions"]
    path = f"/conversations/{conversation_id}/messages"
    # as suggested (whitespace aside): used, not edited
    sent = await aino.call("POST", path, {"text": first["text"] + "  ", "suggestion_id": first["id"]})
    assert sent.status == 201
    # edited before sending: still used
    edited_text = "Hei! " + second["text"]
    assert (await aino.call("POST", path, {"text": edited_text, "suggestion_id": second["id"]})).status == 201
    # a plain reply, and an id that is not this conversation's suggestion
    assert (await aino.call("POST", path, {"text": "Kiitos!", "suggestion_id": None})).status == 201
    for bad in (999999, "1", -1, True):
        refused = await aino.call("POST", path, {"text": "x", "suggestion_id": bad})
        assert (refused.status, (await refused.json())["error"]) == (400, "unknown_suggestion"), bad
    rows = {s.topic: s for s in await service.store.suggestions.of_conversation(conversation_id)}
    assert (rows["faq/login"].edited, rows["faq/login_problem"].edited) == (False, True)
    replies = [m for m in await service.store.messages.transcript(conversation_id)
               if m.sender == "agent" and m.kind == "text"]
    assert [(m.text, (m.payload or {}).get("suggestion")) for m in replies] == [
        (first["text"], {"id": first["id"], "topic": "faq/login"}),
        (edited_text, {"id": second["id"], "topic": "faq/login_problem"}),
        ("Kiitos!", None)]
    assert rows["faq/login"].used_message_id == replies[0].id
    # the visitor got the replies as ordinary agent messages, nothing about suggestions
    visible = (await (await aino.call("GET", f"/conversations/{conversation_id}")).json())["messages"]
    assert all("suggestion" not in m for m in visible)


async def test_editors_see_which_topics_agents_answered_from_suggestions(service, visitors, make_agent):
    aino, eeva = await make_agent("aino"), await make_agent("eeva", online=False)
    for text in ("miten kirjaudun", "kirjautuminen ei toimi"):
        _, conversation_id = await held_by_aino(visitors, aino, text)
        best = (await (await suggestions(aino, conversation_id)).json())["suggestions"][0]
        reply = {"text": best["text"] + " Terveisin Aino", "suggestion_id": best["id"]}
        assert (await aino.call("POST", f"/conversations/{conversation_id}/messages", reply)).status == 201
        assert (await aino.call("POST", f"/conversations/{conversation_id}/close")).status == 200
    response = await eeva.session.get(f"{service.url}/api/editor/suggested-topics")
    assert response.status == 200
    assert await response.json() == {"days": 30, "topics": [
        {"topic": "faq/login", "title": "Kirjautuminen", "conversations": 2, "replies": 2, "edited": 2}]}
    refused = await aino.session.get(f"{service.url}/api/editor/suggested-topics")
    assert refused.status == 403
    bad = await eeva.session.get(f"{service.url}/api/editor/suggested-topics?days=0")
    assert (bad.status, (await bad.json())["error"]) == (400, "bad_days")


async def test_rasa_down_the_panel_says_so_and_the_chat_works_on(service, visitors, make_agent):
    aino = await make_agent("aino")
    visitor, conversation_id = await held_by_aino(visitors, aino, "parse-virhe tässä")
    response = await suggestions(aino, conversation_id)
    body: Dict[str, Any] = await response.json()
    assert (response.status, body["error"]) == (503, "suggestions_unavailable")
    assert body["message"].startswith("Vastausehdotuksia ei juuri nyt saada")
    assert (await aino.call("POST", f"/conversations/{conversation_id}/messages", {"text": "Autan"})).status == 201
    await visitor.wait_for("bot_uttered", lambda d: d["text"] == "Autan")


@pytest.mark.parametrize("service_env", [{"LIVEAGENT_RASA_URL": "http://127.0.0.1:9"}])
async def test_no_rasa_at_all_is_the_same_refusal(service, visitors, make_agent):
    aino = await make_agent("aino")
    visitor = await visitors()
    await visitor.connect()
    await visitor.say("haluan puhua ihmisen kanssa")  # Rasa unreachable: the service offers the queue
    await visitor.wait_for("bot_uttered", lambda d: d["sender"] == "system")
    await visitor.say("/liveagent_join_queue")
    await visitor.wait_for("status", lambda d: d["state"] == "waiting")
    conversation_id = visitor.token.split(".")[0]
    assert (await aino.call("POST", f"/conversations/{conversation_id}/claim")).status == 200
    response = await suggestions(aino, conversation_id)
    assert (response.status, (await response.json())["error"]) == (503, "suggestions_unavailable")
