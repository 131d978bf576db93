"""The console's reads across conversations (store.overview) on both backends."""

from __future__ import annotations

from liveagent.store import Transition
from liveagent.store.overview import Handover
from tests.liveagent.store.common import agent, assigned, at, waiting

T = Transition


async def test_handovers_say_who_transferred_or_left_a_chat_while_it_is_where_that_put_it(store):
    anna, ben, cid = await agent(store, "anna"), await agent(store, "ben"), await agent(store, "cid")
    await assigned(store, "transferred", anna, minutes=1)
    await store.conversations.transition("transferred", T.TRANSFER, agent_id=ben, now=at(2))
    await store.conversations.transition("transferred", T.TRANSFER, agent_id=cid, now=at(3))
    await assigned(store, "requeued", anna, minutes=4)
    await store.conversations.transition("requeued", T.REQUEUE, now=at(5))
    await assigned(store, "claimed", ben, minutes=6)
    await waiting(store, "fresh", minutes=7)
    await assigned(store, "reclaimed", anna, minutes=8)
    await store.conversations.transition("reclaimed", T.REQUEUE, now=at(9))
    await store.conversations.transition("reclaimed", T.CLAIM, agent_id=ben, now=at(10))

    found = await store.overview.handovers(["transferred", "requeued", "claimed", "fresh", "reclaimed", "none"])
    assert found == {
        "transferred": Handover("transfer", ben, cid, at(3)),  # the last transfer: from the holder before it
        "requeued": Handover("requeue", anna, None, at(5)),
    }
    assert await store.overview.handovers([]) == {}


async def test_the_unanswered_message_is_the_visitors_newest_after_the_last_agent_reply(store):
    anna = await agent(store, "anna")
    for name in ("asked", "answered", "noted", "payload", "bot"):
        await assigned(store, name, anna)
    add = store.messages.add
    await add("asked", "visitor", "text", "Hei")
    await add("asked", "agent", "text", "Hei, miten voin auttaa?", agent_id=anna)
    await add("asked", "visitor", "text", "Milloin rahat tulevat?")
    await add("asked", "visitor", "text", "Ja paljonko?")
    await add("answered", "visitor", "text", "Kiitos")
    await add("answered", "agent", "text", "Ole hyvä", agent_id=anna)
    await add("noted", "visitor", "text", "Onko päätös tehty?")
    await add("noted", "agent", "note", "tarkista päätös", agent_id=anna)  # a note is no answer
    await add("noted", "system", "status", "Keskustelu siirtyi")
    await add("payload", "visitor", "text", "Kysyisin liitteistä")
    await add("payload", "visitor", "text", "/affirm")  # a quick reply: the question stays the one before
    await add("bot", "bot", "text", "Botti vastasi")

    found = await store.overview.unanswered(["asked", "answered", "noted", "payload", "bot", "none"])
    assert {cid: message.text for cid, message in found.items()} == {
        "asked": "Ja paljonko?", "noted": "Onko päätös tehty?", "payload": "Kysyisin liitteistä"}
    assert found["asked"].sender == "visitor" and isinstance(found["asked"].id, int)
    assert await store.overview.unanswered([]) == {}
