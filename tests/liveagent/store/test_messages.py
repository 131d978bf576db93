"""Messages and read marks on both backends."""

from __future__ import annotations

import pytest

from liveagent.store import ConversationState, NotFound, Transition
from tests.liveagent.store.common import agent, assigned, at

S, T = ConversationState, Transition


async def test_messages_after_returns_exactly_the_missed_messages_and_hides_notes(store):
    anna = await agent(store, "anna")
    await assigned(store, "c1", anna)
    await store.conversations.get_or_create("c2")
    buttons = {"buttons": [{"title": "Kyllä", "payload": "/affirm"}]}
    m1 = await store.messages.add("c1", "visitor", "text", "hei", now=at(1))
    m2 = await store.messages.add("c1", "bot", "text", "Haluatko jonoon?", payload=buttons, now=at(2))
    await store.messages.add("c2", "visitor", "text", "toinen keskustelu", now=at(2.5))
    m3 = await store.messages.add("c1", "agent", "note", "asiakas vaikuttaa kiireiseltä", agent_id=anna, now=at(3))
    m4 = await store.messages.add("c1", "agent", "text", "Hei, olen Anna", agent_id=anna, now=at(4))
    m5 = await store.messages.add("c1", "system", "status", "Anna liittyi", now=at(5))
    m6 = await store.messages.add("c1", "visitor", "text", "kiitos", now=at(6))

    assert await store.messages.after("c1", 0, visible_to="visitor") == [m1, m2, m4, m5, m6]
    assert await store.messages.after("c1", 0, visible_to="agent") == [m1, m2, m3, m4, m5, m6]
    assert await store.messages.after("c1", m2.id, visible_to="visitor") == [m4, m5, m6]
    assert await store.messages.after("c1", m2.id, visible_to="visitor", limit=2) == [m4, m5]
    assert await store.messages.after("c1", m6.id, visible_to="agent") == []
    assert (await store.messages.after("c1", 0, visible_to="agent"))[1].payload == buttons
    assert await store.messages.transcript("c1") == [m1, m2, m3, m4, m5, m6]
    assert await store.messages.transcript("c1", visible_to="visitor") == [m1, m2, m4, m5, m6]

    c1 = await store.conversations.find("c1")
    assert c1.last_visitor_message_at == at(6)
    assert c1.last_agent_message_at == at(4)  # the note did not answer the visitor

    with pytest.raises(NotFound):
        await store.messages.add("nobody", "visitor", "text", "hei")
    with pytest.raises(ValueError):
        await store.messages.add("c1", "visitor", "whisper", "hei")
    with pytest.raises(ValueError):
        await store.messages.after("c1", 0, visible_to="everyone")


# read marks


async def test_read_marks_only_move_forward_and_drive_unread_counts(store):
    anna, ben = await agent(store, "anna"), await agent(store, "ben")
    await assigned(store, "mine", anna)
    await assigned(store, "quiet", anna)
    await assigned(store, "bens", ben)
    visitor = [await store.messages.add("mine", "visitor", "text", f"viesti {n}") for n in range(3)]
    await store.messages.add("mine", "agent", "text", "vastaus", agent_id=anna)
    await store.messages.add("bens", "visitor", "text", "hei")

    assert await store.messages.unread_counts(anna) == {"mine": 3, "quiet": 0}
    assert await store.messages.mark_read(anna, "mine", visitor[1].id) == visitor[1].id
    assert await store.messages.unread_counts(anna) == {"mine": 1, "quiet": 0}
    assert await store.messages.mark_read(anna, "mine", visitor[0].id) == visitor[1].id  # never backwards
    assert await store.messages.unread_counts(anna) == {"mine": 1, "quiet": 0}
    await store.messages.mark_read(anna, "mine", visitor[2].id)
    assert await store.messages.unread_counts(anna) == {"mine": 0, "quiet": 0}
    assert await store.messages.unread_counts(ben) == {"bens": 1}
