"""Canned replies on both backends."""

from __future__ import annotations

from liveagent.store import ConversationState, Transition
from tests.liveagent.store.common import agent, at

S, T = ConversationState, Transition


async def test_canned_replies_crud(store):
    anna = await agent(store, "anna", role="supervisor")
    hours = await store.canned.create("Aukioloajat", "Palvelemme arkisin 8-16.", updated_by=anna, now=at(1))
    thanks = await store.canned.create("Kiitos", "Kiitos yhteydenotosta!", now=at(2))
    assert await store.canned.list() == [hours, thanks]
    assert await store.canned.get(hours.id) == hours

    changed = await store.canned.update(hours.id, "Aukioloajat", "Arkisin 9-17.", updated_by=anna, now=at(3))
    assert (changed.text, changed.updated_by, changed.updated_at) == ("Arkisin 9-17.", anna, at(3))
    assert await store.canned.update(999, "x", "y") is None
    assert await store.canned.delete(thanks.id)
    assert not await store.canned.delete(thanks.id)
    assert await store.canned.list() == [changed]
    assert await store.canned.get(thanks.id) is None
