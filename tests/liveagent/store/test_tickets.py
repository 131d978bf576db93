"""Tickets (contact requests) on both backends."""

from __future__ import annotations

from liveagent.store import ConversationState, Transition
from tests.liveagent.store.common import agent, at

S, T = ConversationState, Transition


async def test_tickets(store):
    anna, ben = await agent(store, "anna"), await agent(store, "ben")
    await store.conversations.get_or_create("c1")
    first = await store.tickets.create("c1", "Maija", "maija@example.com", "Soittakaa huomenna", now=at(1))
    second = await store.tickets.create(None, "Pekka", "040 123 4567", "Kysymys laskusta", now=at(2))
    assert await store.tickets.list() == [first, second]

    handled = await store.tickets.mark_handled(first.id, anna, at(3))
    assert (handled.handled_by, handled.handled_at) == (anna, at(3))
    again = await store.tickets.mark_handled(first.id, ben, at(4))
    assert (again.handled_by, again.handled_at) == (anna, at(3))  # the first handler is kept
    assert await store.tickets.mark_handled(999, anna, at(4)) is None
    assert await store.tickets.list(unhandled_only=True) == [second]


async def test_a_ticket_keeps_the_verified_customer_and_says_which_conversation_has_one(store):
    await store.conversations.get_or_create("c1")
    await store.conversations.get_or_create("c2")
    verified = await store.tickets.create("c1", "Maija", "040", "Soittakaa", customer_id="LUMO-1004", now=at(1))
    anonymous = await store.tickets.create(None, "Pekka", "040", "Kysymys", now=at(2))
    assert (verified.customer_id, anonymous.customer_id) == ("LUMO-1004", None)
    assert [t.customer_id for t in await store.tickets.list()] == ["LUMO-1004", None]
    assert await store.tickets.about("c1") is True
    assert await store.tickets.about("c2") is False
