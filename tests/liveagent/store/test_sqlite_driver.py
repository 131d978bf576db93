"""The SQLite driver's one-trip transactions write what SQLAlchemy would have written, or nothing."""

from __future__ import annotations

import sqlite3

import pytest

from liveagent.store import NotFound, Store
from liveagent.store.schema import messages
from liveagent.store.sqlite_driver import OneTripConnection, Prepared, RowcountMismatch
from tests.liveagent.store.common import FAST_HASHER, at


@pytest.fixture
async def store(tmp_path):
    store = await Store.open(f"sqlite+aiosqlite:///{tmp_path}/liveagent.sqlite", hasher=FAST_HASHER)
    yield store
    await store.close()


def raw_rows(store: Store):
    path = store.engine.url.database
    with sqlite3.connect(path) as connection:
        return connection.execute("SELECT conversation_id, sender, kind, text, payload, agent_id, created_at "
                                  "FROM messages ORDER BY id").fetchall()


async def test_a_message_added_in_one_trip_is_stored_as_sqlalchemy_stores_it(store):
    await store.conversations.get_or_create("c1")
    payload = {"quick_replies": [{"title": "Kyllä, jonoon", "payload": "/affirm"}], "ä": [1, 2]}
    added = await store.messages.add("c1", "bot", "text", "Haluatko jonoon? Ääkköset säilyvät.", payload, now=at(2))
    async with store.engine.begin() as conn:  # the same row through SQLAlchemy's own execution
        await conn.execute(messages.insert(), {"conversation_id": "c1", "sender": "bot", "kind": "text",
                                               "text": added.text, "payload": payload, "agent_id": None,
                                               "created_at": at(2)})
    one_trip, through_sqlalchemy = raw_rows(store)
    assert one_trip == through_sqlalchemy
    assert await store.messages.transcript("c1") == [added, *(await store.messages.transcript("c1"))[1:]]
    assert (await store.conversations.find("c1")).updated_at == at(2)


async def test_a_message_for_an_unknown_conversation_is_refused_and_nothing_is_written(store):
    with pytest.raises(NotFound):
        await store.messages.add("nobody", "visitor", "text", "hei")
    assert raw_rows(store) == []
    await store.conversations.get_or_create("c1")
    assert (await store.messages.add("c1", "visitor", "text", "hei")).text == "hei"  # the writer is free again


async def test_a_failing_step_rolls_the_whole_transaction_back(store):
    await store.conversations.get_or_create("c1")
    insert = Prepared(messages.insert(), store.engine.dialect,
                      ("conversation_id", "sender", "kind", "text", "payload", "agent_id", "created_at"))
    row = {"conversation_id": "c1", "sender": "visitor", "kind": "text", "text": "hei", "payload": None,
           "agent_id": None, "created_at": at(1)}
    bad = {**row, "sender": "hacker"}  # the CHECK constraint refuses it
    async with store.engine.begin() as conn:
        driver = conn.sync_connection.connection.dbapi_connection
        assert isinstance(driver, OneTripConnection)
        with pytest.raises(sqlite3.IntegrityError, match="CHECK constraint"):
            await driver.run_transaction([(insert.sql, insert.parameters(row), None),
                                          (insert.sql, insert.parameters(bad), None)])
    async with store.engine.begin() as conn:
        driver = conn.sync_connection.connection.dbapi_connection
        with pytest.raises(RowcountMismatch):
            await driver.run_transaction([(insert.sql, insert.parameters(row), None),
                                          ("UPDATE conversations SET version = version WHERE id = 'x'", (), 1)])
    assert raw_rows(store) == []
