"""What agents answered in finished chats (store.content.answered_questions), on both backends."""

from __future__ import annotations

from liveagent.store import Transition
from tests.liveagent.store.common import agent, assigned, at

T = Transition


async def test_every_answer_of_a_finished_chat_is_listed_with_its_question_whatever_came_after(store):
    anna = await agent(store, "anna")
    add = store.messages.add
    await assigned(store, "closed", anna, minutes=0)
    await add("closed", "visitor", "text", "haluan puhua ihmisen kanssa", now=at(0))
    await add("closed", "agent", "text", "Hei, miten voin auttaa?", agent_id=anna, now=at(1))
    await add("closed", "visitor", "text", "Hei", now=at(1.5))  # the question is the last one before the reply
    await add("closed", "visitor", "text", "Saako koiran tuoda?", now=at(2))
    await add("closed", "agent", "note", "katson ohjeen", agent_id=anna, now=at(3))
    await add("closed", "agent", "text", "Avustajakoirat saa.", agent_id=anna, now=at(4))
    await add("closed", "agent", "text", "Muut lemmikit eivät.", agent_id=anna, now=at(4))  # no new question
    await store.conversations.transition("closed", T.CLOSE, agent_id=anna, now=at(5))
    await store.conversations.transition("closed", T.REOPEN, now=at(6))  # the visitor wrote again
    await add("closed", "visitor", "text", "kiitos", now=at(6))

    await assigned(store, "returned", anna, minutes=10)
    await add("returned", "visitor", "text", "/request_human", now=at(10))  # a button: no question
    await add("returned", "agent", "text", "Hei!", agent_id=anna, now=at(11))
    await add("returned", "visitor", "text", "Voiko hakemuksen perua?", now=at(12))
    await add("returned", "agent", "text", "Voi, asiointipalvelussa.", agent_id=anna, now=at(13))
    await store.conversations.transition("returned", T.RETURN_TO_BOT, agent_id=anna, now=at(14))

    await assigned(store, "going", anna, minutes=20)  # not finished: not listed
    await add("going", "visitor", "text", "Missä toimipiste on?", now=at(20))
    await add("going", "agent", "text", "Helsingissä.", agent_id=anna, now=at(21))

    found = [(a.conversation_id, a.question, a.answer, a.closed_at) for a in await store.content.answered_questions()]
    assert found == [
        ("returned", "Voiko hakemuksen perua?", "Voi, asiointipalvelussa.", at(14)),
        ("closed", "haluan puhua ihmisen kanssa", "Hei, miten voin auttaa?", at(5)),
        ("closed", "Saako koiran tuoda?", "Avustajakoirat saa.", at(5)),
    ]
    assert len(await store.content.answered_questions(limit=2)) == 2

    # The same chat with an agent again later: listed once it has finished, up to its new end.
    await store.conversations.transition("closed", T.ESCALATE, reason="visitor_request", now=at(30))
    await store.conversations.transition("closed", T.CLAIM, agent_id=anna, now=at(30))
    await add("closed", "visitor", "text", "Vielä yksi asia: aukioloajat?", now=at(31))
    await add("closed", "agent", "text", "Arkisin 8-16.", agent_id=anna, now=at(32))
    assert [a.answer for a in await store.content.answered_questions() if a.conversation_id == "closed"] == [
        "Hei, miten voin auttaa?", "Avustajakoirat saa."]
    await store.conversations.transition("closed", T.CLOSE, agent_id=anna, now=at(33))
    first = (await store.content.answered_questions())[:3]
    assert [(a.question, a.closed_at) for a in first] == [
        ("haluan puhua ihmisen kanssa", at(33)), ("Saako koiran tuoda?", at(33)),
        ("Vielä yksi asia: aukioloajat?", at(33))]
