"""The Store itself on both backends: migrations on open, constraints the database enforces, a restart.

PostgreSQL runs in a database of its own (tests/liveagent/databases.py); it being down fails these
tests instead of skipping them: a green run must mean both backends were exercised.
"""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from liveagent.store import Store
from liveagent.store.schema import TABLES, conversations, metadata, read_marks
from tests.liveagent.store.common import FAST_HASHER, NOW, agent, assigned, at, waiting

OUR_TABLES = {table.name for table in TABLES}


# schema


async def test_migrations_create_the_schema(store):
    def inspect(connection: Any):
        context = MigrationContext.configure(
            connection,
            opts={"include_name": lambda name, kind, _parent: kind != "table" or name in OUR_TABLES},
        )
        tables = set(sa.inspect(connection).get_table_names())
        return context.get_current_revision(), compare_metadata(context, metadata), tables

    async with store.engine.connect() as connection:
        revision, differences, tables = await connection.run_sync(inspect)
    assert revision == "0010"
    assert differences == []
    assert OUR_TABLES | {"alembic_version"} <= tables


async def test_the_database_enforces_constraints_and_foreign_keys(store):
    await store.conversations.get_or_create("c1", now=NOW)
    with pytest.raises(sa.exc.IntegrityError):
        async with store.engine.begin() as connection:
            await connection.execute(conversations.update().values(state="lost"))
    with pytest.raises(sa.exc.IntegrityError):
        async with store.engine.begin() as connection:
            orphan = read_marks.insert().values(agent_id=999, conversation_id="c1", last_read_message_id=1)
            await connection.execute(orphan)


# restart


async def test_a_restart_keeps_conversations_messages_and_read_marks(database_url):
    first = await Store.open(database_url, hasher=FAST_HASHER)
    anna = await agent(first, "anna", "online")
    await waiting(first, "queued", minutes=1)
    await assigned(first, "talking", anna, minutes=2)
    sent = [
        await first.messages.add("talking", "visitor", "text", "hei", now=at(3)),
        await first.messages.add("talking", "agent", "note", "sisäinen", agent_id=anna, now=at(4)),
        await first.messages.add("talking", "visitor", "text", "oletko siellä?", now=at(5)),
    ]
    await first.messages.mark_read(anna, "talking", sent[0].id)
    before = (await first.conversations.find("queued"), await first.conversations.find("talking"))
    await first.close()

    second = await Store.open(database_url, hasher=FAST_HASHER)  # migrations run again: a no-op
    try:
        assert (await second.conversations.find("queued"), await second.conversations.find("talking")) == before
        assert [c.id for c in await second.conversations.queue()] == ["queued"]
        assert [c.id for c in await second.conversations.assigned_to(anna)] == ["talking"]
        assert await second.messages.transcript("talking") == sent
        assert await second.messages.unread_counts(anna) == {"talking": 1}
        assert await second.messages.mark_read(anna, "talking", 0) == sent[0].id
        assert (await second.agents.get(anna)).presence == "online"
        assert await second.agents.verify_login("anna", "pw-anna", NOW) is not None
    finally:
        await second.close()
