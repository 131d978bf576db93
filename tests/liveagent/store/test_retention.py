"""The retention and erasure deletes of the Store, on SQLite and on PostgreSQL."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from liveagent.store import Store, Transition
from liveagent.store import retention as retention_module
from liveagent.store.retention import Deleted
from liveagent.store.schema import (
    conversation_events,
    conversations,
    messages,
    missed_messages,
    read_marks,
    tickets,
)
from tests.liveagent.store.common import FAST_HASHER

NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.timezone.utc)


VERIFIED = {"summary": {"customer": {"verified": True, "customer_id": "LUMO-1004"}}}


def days_ago(days: float) -> dt.datetime:
    return NOW - dt.timedelta(days=days)


@pytest.fixture
def store_options():
    return {"hasher": FAST_HASHER, "clock": lambda: NOW}


async def count(store: Store, table: sa.Table, *where) -> int:
    async with store.engine.connect() as conn:
        return int((await conn.execute(sa.select(sa.func.count()).select_from(table).where(*where))).scalar_one())


async def conversation(store: Store, conversation_id: str, age_days: float, *, closed: bool = True,
                       handoff=None, agent_id=None) -> None:
    """A conversation whose last activity was ``age_days`` ago, with a message, events, a read mark,
    an inbox entry and a contact request."""
    when = days_ago(age_days)
    await store.conversations.get_or_create(conversation_id, now=when)
    await store.conversations.transition(conversation_id, Transition.ESCALATE, reason="visitor_request",
                                         handoff=handoff, now=when)
    message = await store.messages.add(conversation_id, "visitor", "text", "hetu 010190-123A", now=when)
    await store.tickets.create(conversation_id, "Matti", "040 123 4567", "Soittakaa", now=when)
    await store.content.add_missed([SimpleNamespace(conversation_id=conversation_id, event_timestamp=1.0,
                                                    text="[henkilötunnus]", reason="fallback", guess=None,
                                                    confidence=None)])
    if agent_id is not None:
        await store.messages.mark_read(agent_id, conversation_id, message.id)
    if closed:
        await store.conversations.transition(conversation_id, Transition.CLOSE, now=when)


async def test_purge_deletes_old_conversations_with_everything_hanging_off_them(store):
    anna = await store.agents.create("anna", "Anna", "pw-anna-123")
    await conversation(store, "old-closed", 400, agent_id=anna.id)
    await conversation(store, "old-idle", 370, closed=False)  # waiting and forgotten for over a year
    await conversation(store, "recent", 10)
    await conversation(store, "old-with-new-ticket", 400)
    await store.tickets.create("old-with-new-ticket", "Maija", "maija@example.com", "Vielä asiaa", now=days_ago(1))
    await store.tickets.create(None, "Orpo vanha", "x", "y", now=days_ago(500))
    await store.tickets.create(None, "Orpo uusi", "x", "y", now=days_ago(5))
    await store.audit.record("conversation.claim", target="conversation:old-closed")

    deleted = await store.retention.purge(days_ago(365))

    # old-closed: escalate + close events, 1 message, 1 read mark, 1 ticket, 1 inbox entry; old-idle the same
    # without the close event and the read mark; plus the old orphan ticket
    assert deleted == Deleted(conversations=2, messages=2, events=3, read_marks=1, tickets=3, missed=2)
    async with store.engine.connect() as conn:
        left = sorted(row[0] for row in await conn.execute(sa.select(conversations.c.id)))
    assert left == ["old-with-new-ticket", "recent"]
    for table in (messages, conversation_events, read_marks, missed_messages):
        assert await count(store, table, table.c.conversation_id.in_(["old-closed", "old-idle"])) == 0
    assert {t.name for t in await store.tickets.list()} == {"Matti", "Maija", "Orpo uusi"}
    assert len(await store.audit.entries()) == 1  # the log itself is kept
    assert await store.retention.purge(days_ago(365)) == Deleted()  # nothing left to do


async def test_purge_works_through_more_conversations_than_one_batch(store, monkeypatch):
    monkeypatch.setattr(retention_module, "BATCH", 3)
    for n in range(8):
        await conversation(store, f"old-{n}", 400)
    await conversation(store, "recent", 1)
    deleted = await store.retention.purge(days_ago(365))
    assert (deleted.conversations, deleted.messages, deleted.tickets) == (8, 8, 8)
    assert await count(store, conversations) == 1


async def test_retention_in_steps_lists_expired_conversations_and_deletes_only_those_still_expired(store, monkeypatch):
    """What liveagent/retention.py does to erase Rasa trackers first: list a batch, delete it."""
    monkeypatch.setattr(retention_module, "BATCH", 2)
    for name in ("old-a", "old-b", "old-c", "old-d"):
        await conversation(store, name, 400)
    await conversation(store, "recent", 10)
    await store.tickets.create(None, "Orpo vanha", "x", "y", now=days_ago(500))
    assert await store.retention.expired_conversations(days_ago(365)) == ["old-a", "old-b"]
    assert await store.retention.expired_conversations(days_ago(365), after="old-b") == ["old-c", "old-d"]
    assert await store.retention.expired_conversations(days_ago(365), after="old-d") == []
    await store.messages.add("old-c", "visitor", "text", "palasin", now=NOW)  # back to life meanwhile
    deleted = await store.retention.purge_conversations(days_ago(365), ["old-a", "old-b", "old-c", "recent"])
    assert (deleted.conversations, deleted.messages, deleted.tickets) == (2, 2, 2)
    assert await store.retention.expired_conversations(days_ago(365)) == ["old-d"]
    assert await store.conversations.find("old-c") is not None and await store.conversations.find("recent") is not None
    assert await store.retention.purge_orphan_tickets(days_ago(365)) == Deleted(tickets=1)


async def test_erasure_of_one_customer_deletes_all_their_conversations_and_nothing_else(store):
    anna = await store.agents.create("anna", "Anna", "pw-anna-123")
    await conversation(store, "theirs-1", 2, handoff=VERIFIED, agent_id=anna.id)
    await conversation(store, "theirs-2", 1, handoff=VERIFIED)
    await conversation(store, "someone-else", 1)
    ids = await store.retention.conversations_of_customer("LUMO-1004")
    assert ids == ["theirs-1", "theirs-2"]
    deleted = await store.retention.delete_conversations(ids + ids)  # duplicates are harmless
    assert deleted == Deleted(conversations=2, messages=2, events=4, read_marks=1, tickets=2, missed=2)
    assert await store.retention.conversations_of_customer("LUMO-1004") == []
    assert await store.conversations.find("someone-else") is not None
    assert await count(store, messages) == 1 and await count(store, tickets) == 1
    assert await store.retention.delete_conversations(["no-such"]) == Deleted()
