"""The audit log and the retention/erasure deletes of the Store, on SQLite and on PostgreSQL.

PostgreSQL runs in a database of its own (tests/liveagent/databases.py); it being down fails these
tests instead of skipping them.
"""

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
from tests.liveagent.databases import postgres_database
from tests.liveagent.test_store import FAST_HASHER

NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.timezone.utc)
VERIFIED = {"summary": {"customer": {"verified": True, "customer_id": "LUMO-1004"}}}


def days_ago(days: float) -> dt.datetime:
    return NOW - dt.timedelta(days=days)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def store(request, tmp_path):
    if request.param == "sqlite":
        opened = await Store.open(f"sqlite+aiosqlite:///{tmp_path}/privacy.sqlite", hasher=FAST_HASHER,
                                  clock=lambda: NOW)
        yield opened
        await opened.close()
        return
    with postgres_database("privacy_store") as url:
        opened = await Store.open(url, hasher=FAST_HASHER, clock=lambda: NOW)
        yield opened
        await opened.close()


async def count(store: Store, table: sa.Table, *where) -> int:
    async with store.engine.connect() as conn:
        return int((await conn.execute(sa.select(sa.func.count()).select_from(table).where(*where))).scalar_one())


# the audit log


async def test_audit_entries_are_masked_newest_first_and_paged(store):
    anna = await store.create_agent("anna", "Anna", "pw-anna-123", "supervisor")
    detail = {"summary": "Asiakas 010190-123A, matti.meikalainen@example.com, p. 040 123 4567",
              "nested": [{"iban": "FI21 1234 5600 0007 85"}], "count": 3, "long": "x" * 2000}
    first = await store.audit.record("content.answer", actor_id=anna.id, actor_username="anna",
                                     target="topic:login", detail=detail, client_address="203.0.113.9")
    assert first.detail["summary"] == "Asiakas [henkilötunnus], [sähköposti], p. [puhelinnumero]"
    assert first.detail["nested"] == [{"iban": "[tilinumero]"}]
    assert first.detail["count"] == 3 and len(first.detail["long"]) == 500
    assert (first.actor_id, first.actor_username, first.client_address) == (anna.id, "anna", "203.0.113.9")
    assert first.created_at == NOW
    for n in range(6):
        await store.audit.record("conversation.claim", actor_id=anna.id, actor_username="anna",
                                 target=f"conversation:c{n}")
    await store.audit.record("login.failure", detail={"known_user": False})  # no actor

    page = await store.audit.entries(limit=3)
    assert [e.action for e in page] == ["login.failure", "conversation.claim", "conversation.claim"]
    assert page[0].actor_id is None and page[0].actor_username is None
    seen, before = [], None
    while True:
        batch = await store.audit.entries(limit=3, before_id=before)
        seen.extend(batch)
        if len(batch) < 3:
            break
        before = batch[-1].id
    assert [e.id for e in seen] == sorted((e.id for e in seen), reverse=True) and len(seen) == 8
    assert [e.target for e in await store.audit.entries(action="conversation.claim", limit=2)] == [
        "conversation:c5", "conversation:c4"]
    assert [e.id for e in await store.audit.entries(target="topic:login")] == [first.id]
    # the stored text itself is masked, not only what the API shows
    async with store.engine.connect() as conn:
        raw = (await conn.execute(sa.text("SELECT detail FROM audit_log WHERE id = :id"), {"id": first.id})).scalar()
    assert "010190-123A" not in raw and "example.com" not in raw and "040 123" not in raw


async def test_old_audit_entries_go_but_the_newest_retention_entry_stays(store):
    """The log holds client addresses: it has a retention of its own (LIVEAGENT_AUDIT_RETENTION_DAYS)."""
    old = NOW - dt.timedelta(days=800)
    await store.audit.record("login.success", actor_username="anna", client_address="203.0.113.9", now=old)
    await store.audit.record("retention", detail={"days": 365}, now=old - dt.timedelta(days=1))
    await store.audit.record("retention", detail={"days": 365}, now=old)  # the newest retention run
    await store.audit.record("conversation.claim", actor_username="anna", now=NOW - dt.timedelta(days=10))
    assert await store.audit.purge_before(NOW - dt.timedelta(days=730)) == 2
    left = [(entry.action, entry.created_at) for entry in await store.audit.entries()]
    assert left == [("conversation.claim", NOW - dt.timedelta(days=10)), ("retention", old)]



# retention and erasure


async def conversation(store: Store, conversation_id: str, age_days: float, *, closed: bool = True,
                       handoff=None, agent_id=None) -> None:
    """A conversation whose last activity was ``age_days`` ago, with a message, events, a read mark,
    an inbox entry and a contact request."""
    when = days_ago(age_days)
    await store.get_or_create_conversation(conversation_id, now=when)
    await store.transition(conversation_id, Transition.ESCALATE, reason="visitor_request", handoff=handoff, now=when)
    message = await store.add_message(conversation_id, "visitor", "text", "hetu 010190-123A", now=when)
    await store.create_ticket(conversation_id, "Matti", "040 123 4567", "Soittakaa", now=when)
    await store.content.add_missed([SimpleNamespace(conversation_id=conversation_id, event_timestamp=1.0,
                                                    text="[henkilötunnus]", reason="fallback", guess=None,
                                                    confidence=None)])
    if agent_id is not None:
        await store.mark_read(agent_id, conversation_id, message.id)
    if closed:
        await store.transition(conversation_id, Transition.CLOSE, now=when)


async def test_purge_deletes_old_conversations_with_everything_hanging_off_them(store):
    anna = await store.create_agent("anna", "Anna", "pw-anna-123")
    await conversation(store, "old-closed", 400, agent_id=anna.id)
    await conversation(store, "old-idle", 370, closed=False)  # waiting and forgotten for over a year
    await conversation(store, "recent", 10)
    await conversation(store, "old-with-new-ticket", 400)
    await store.create_ticket("old-with-new-ticket", "Maija", "maija@example.com", "Vielä asiaa", now=days_ago(1))
    await store.create_ticket(None, "Orpo vanha", "x", "y", now=days_ago(500))
    await store.create_ticket(None, "Orpo uusi", "x", "y", now=days_ago(5))
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
    assert {t.name for t in await store.list_tickets()} == {"Matti", "Maija", "Orpo uusi"}
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
    await store.create_ticket(None, "Orpo vanha", "x", "y", now=days_ago(500))
    assert await store.retention.expired_conversations(days_ago(365)) == ["old-a", "old-b"]
    assert await store.retention.expired_conversations(days_ago(365), after="old-b") == ["old-c", "old-d"]
    assert await store.retention.expired_conversations(days_ago(365), after="old-d") == []
    await store.add_message("old-c", "visitor", "text", "palasin", now=NOW)  # back to life meanwhile
    deleted = await store.retention.purge_conversations(days_ago(365), ["old-a", "old-b", "old-c", "recent"])
    assert (deleted.conversations, deleted.messages, deleted.tickets) == (2, 2, 2)
    assert await store.retention.expired_conversations(days_ago(365)) == ["old-d"]
    assert await store.find_conversation("old-c") is not None and await store.find_conversation("recent") is not None
    assert await store.retention.purge_orphan_tickets(days_ago(365)) == Deleted(tickets=1)


async def test_erasure_of_one_customer_deletes_all_their_conversations_and_nothing_else(store):
    anna = await store.create_agent("anna", "Anna", "pw-anna-123")
    await conversation(store, "theirs-1", 2, handoff=VERIFIED, agent_id=anna.id)
    await conversation(store, "theirs-2", 1, handoff=VERIFIED)
    await conversation(store, "someone-else", 1)
    ids = await store.retention.conversations_of_customer("LUMO-1004")
    assert ids == ["theirs-1", "theirs-2"]
    deleted = await store.retention.delete_conversations(ids + ids)  # duplicates are harmless
    assert deleted == Deleted(conversations=2, messages=2, events=4, read_marks=1, tickets=2, missed=2)
    assert await store.retention.conversations_of_customer("LUMO-1004") == []
    assert await store.find_conversation("someone-else") is not None
    assert await count(store, messages) == 1 and await count(store, tickets) == 1
    assert await store.retention.delete_conversations(["no-such"]) == Deleted()
