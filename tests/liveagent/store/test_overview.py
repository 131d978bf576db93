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
    await store.agents.set_capacity(anna, 5)  # room for every chat below (the default is 3)
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


async def test_held_counts_are_the_chats_each_agent_holds_now(store):
    anna, ben = await agent(store, "anna"), await agent(store, "ben")
    await assigned(store, "a1", anna)
    await assigned(store, "a2", anna)
    await assigned(store, "b1", ben)
    await store.conversations.transition("b1", T.CLOSE, agent_id=ben, now=at(1))
    await waiting(store, "w1")
    assert await store.overview.held_counts() == {anna: 2}


async def test_handling_time_is_the_median_of_recent_agent_chats_from_claim_to_their_end(store):
    anna, ben = await agent(store, "anna"), await agent(store, "ben")
    assert await store.overview.handling_minutes(at(0)) is None
    ends = {"closed": T.CLOSE, "returned": T.RETURN_TO_BOT, "requeued": T.REQUEUE}
    for index, (name, end) in enumerate(ends.items()):
        await assigned(store, name, anna, minutes=index * 100)
        await store.conversations.transition(name, end, agent_id=anna, now=at(index * 100 + 2 * (index + 1)))
    # a transfer in between does not end the chat: 10 minutes from the claim to the close
    await assigned(store, "transferred", anna, minutes=400)
    await store.conversations.transition("transferred", T.TRANSFER, agent_id=ben, now=at(405))
    await store.conversations.transition("transferred", T.CLOSE, agent_id=ben, now=at(410))
    assert await store.overview.handling_minutes(at(0)) is None  # four chats: too few to say
    await assigned(store, "fifth", ben, minutes=500)
    await store.conversations.transition("fifth", T.CLOSE, agent_id=ben, now=at(508))
    # 2, 4, 6, 10 and 8 minutes
    assert await store.overview.handling_minutes(at(0)) == 6
    assert await store.overview.handling_minutes(at(0), samples=2) is None  # only the newest count...
    assert await store.overview.handling_minutes(at(0), samples=2, at_least=2) == 9  # ...10 and 8
    assert await store.overview.handling_minutes(at(300), at_least=2) == 9  # ...and only recent ones
    # a chat still held, or one closed from the queue, is no sample
    await assigned(store, "held", anna, minutes=600)
    await waiting(store, "abandoned", minutes=600)
    await store.conversations.transition("abandoned", T.CLOSE, now=at(700))
    assert await store.overview.handling_minutes(at(0)) == 6
