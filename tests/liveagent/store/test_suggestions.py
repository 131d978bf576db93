"""Suggested answers in the store (Store.suggestions) on SQLite and PostgreSQL: recorded once per message and
topic, the first reply kept, the period's counts (docs/metrics.md "Suggestions used"), the editors' topics,
and erasure takes them with the conversation."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from liveagent.store.schema import conversations
from tests.liveagent.store.common import NOW, agent, assigned, at


async def question(store, conversation_id: str, text: str, minutes: float) -> int:
    return (await store.messages.add(conversation_id, "visitor", "text", text, now=at(minutes))).id


async def test_suggestions_are_recorded_once_and_the_first_reply_is_kept(store):
    aino = await agent(store, "aino", "online")
    await assigned(store, "c1", aino)
    await question(store, "c1", "/faq", 1)  # a quick reply's payload: no question
    first = await question(store, "c1", "miten kirjaudun", 2)
    assert [m.id for m in await store.suggestions.latest_questions("c1", 5)] == [first]
    shown = await store.suggestions.record_shown(
        "c1", first, [("faq/login", 1, 0.9, "A"), ("faq/contact", 2, 0.2, "B")], now=at(3))
    again = await store.suggestions.record_shown(
        "c1", first, [("faq/contact", 1, 0.5, "B2"), ("faq/login", 2, 0.4, "A2")], now=at(4))
    assert [s.id for s in again] == [shown[1].id, shown[0].id]  # same rows, in the order asked
    assert [(s.topic, s.rank, s.text, s.shown_at) for s in again] == [("faq/contact", 2, "B", at(3)),
                                                                      ("faq/login", 1, "A", at(3))]
    assert await store.suggestions.find(shown[0].id, "other") is None
    reply = await store.messages.add("c1", "agent", "text", "A!", agent_id=aino, now=at(5))
    later = await store.messages.add("c1", "agent", "text", "A", agent_id=aino, now=at(6))
    assert await store.suggestions.mark_used(shown[0].id, reply.id, True, now=at(5))
    assert not await store.suggestions.mark_used(shown[0].id, later.id, False, now=at(6))
    used = await store.suggestions.find(shown[0].id, "c1")
    assert (used.used_message_id, used.edited, used.used_at) == (reply.id, True, at(5))


async def test_the_periods_counts_and_the_editors_topics(store):
    aino = await agent(store, "aino", "online")
    for conversation_id in ("c1", "c2", "c3"):
        await assigned(store, conversation_id, aino)
    m1 = await question(store, "c1", "miten kirjaudun", 1)
    m2 = await question(store, "c1", "entä aukioloajat", 2)
    m3 = await question(store, "c2", "kirjautuminen", 3)
    await question(store, "c3", "moi", 4)  # no suggestions shown
    s1 = await store.suggestions.record_shown("c1", m1, [("faq/login", 1, 0.9, "A"), ("faq/contact", 2, 0.2, "B")])
    await store.suggestions.record_shown("c1", m2, [("faq/opening_hours", 1, 0.9, "C")])
    s3 = await store.suggestions.record_shown("c2", m3, [("faq/login", 1, 0.8, "A")])
    # m1 answered from both of its suggestions (one edited), m3 from its one as it was
    for suggestion, edited, minutes in ((s1[0], False, 5), (s1[1], True, 6), (s3[0], False, 7)):
        reply = await store.messages.add(suggestion.conversation_id, "agent", "text", "x", agent_id=aino,
                                         now=at(minutes))
        await store.suggestions.mark_used(suggestion.id, reply.id, edited, now=at(minutes))
    figures = await store.insights.period(NOW.date(), NOW.date())
    assert (figures.suggestions.shown, figures.suggestions.used, figures.suggestions.edited) == (3, 2, 1)
    other_day = await store.insights.period(NOW.date() + dt.timedelta(days=1), NOW.date() + dt.timedelta(days=1))
    assert figures.suggestions != other_day.suggestions and other_day.suggestions.shown == 0
    topics = await store.suggestions.topics_used(at(-60))
    assert [(t.topic, t.conversations, t.replies, t.edited) for t in topics] == [
        ("faq/login", 2, 2, 0), ("faq/contact", 1, 1, 1)]
    assert await store.suggestions.topics_used(at(6.5)) == [topics[0].__class__("faq/login", 1, 1, 0)]


async def test_erasure_takes_the_suggestions_with_the_conversation(store):
    aino = await agent(store, "aino", "online")
    await assigned(store, "c1", aino)
    m1 = await question(store, "c1", "miten kirjaudun", 1)
    shown = await store.suggestions.record_shown("c1", m1, [("faq/login", 1, 0.9, "A")])
    reply = await store.messages.add("c1", "agent", "text", "A", agent_id=aino, now=at(2))
    await store.suggestions.mark_used(shown[0].id, reply.id, False)
    deleted = await store.retention.delete_conversations(["c1"])
    assert (deleted.conversations, deleted.suggestions) == (1, 1)
    assert await store.suggestions.of_conversation("c1") == []
    async with store.engine.connect() as conn:
        assert (await conn.execute(sa.select(sa.func.count()).select_from(conversations))).scalar_one() == 0
