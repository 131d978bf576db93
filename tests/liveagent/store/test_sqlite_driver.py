"""The SQLite driver: one trip per statement through the pool, and the lane (the hot statements' own
connection) writes what SQLAlchemy would have written, or nothing, and reads what it would have read."""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
import subprocess
import sys
from typing import List

import aiosqlite
import pytest
import sqlalchemy as sa

from liveagent.store import NotFound, Store
from liveagent.store.engine import build
from liveagent.store.records import Conversation
from liveagent.store.schema import conversations, messages
from liveagent.store.sqlite_driver import OneTripConnection, Prepared, RowcountMismatch
from liveagent.store.state import ConversationState, Transition
from tests.conftest import ROOT
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
    writer = store.messages._writer  # noqa: SLF001 - the store's one writer, with its lane
    with pytest.raises(sqlite3.IntegrityError, match="CHECK constraint"):
        await writer.run_on_lane([(insert.sql, insert.parameters(row), None),
                                  (insert.sql, insert.parameters(bad), None)])
    with pytest.raises(RowcountMismatch):
        await writer.run_on_lane([(insert.sql, insert.parameters(row), None),
                                  ("UPDATE conversations SET version = version WHERE id = 'x'", (), 1)])
    assert raw_rows(store) == []
    assert (await store.messages.add("c1", "visitor", "text", "hei")).text == "hei"  # nothing left open


async def test_a_conversation_created_on_the_lane_is_stored_as_sqlalchemy_stores_it(store, tmp_path):
    """A new visitor's conversation (created on the lane) is the row the pooled path creates: the same raw
    columns (UTC times as text, the Helsinki reporting day), the same record; creating it again changes
    nothing."""
    assert store.conversations._create_on_lane is not None  # noqa: SLF001 - a SQLite file store creates on the lane
    late_evening = at(0).replace(hour=22, minute=30)  # 00:30 the next day in Helsinki: started_on is that day
    created = await store.conversations.get_or_create("c1", now=late_evening)
    assert await store.conversations.get_or_create("c1", now=at(5)) == created
    memory = await Store.open(f"sqlite+aiosqlite:///{tmp_path}/pooled.sqlite", hasher=FAST_HASHER)
    memory.conversations._create_on_lane = None  # noqa: SLF001 - the pooled path, as on PostgreSQL
    try:
        pooled = await memory.conversations.get_or_create("c1", now=late_evening)
    finally:
        await memory.close()
    assert created == pooled

    def raw(path):
        with sqlite3.connect(path) as connection:
            return connection.execute("SELECT * FROM conversations").fetchall()
    assert raw(store.engine.url.database) == raw(f"{tmp_path}/pooled.sqlite")
    with sqlite3.connect(store.engine.url.database) as connection:
        [(started_on,)] = connection.execute("SELECT started_on FROM conversations").fetchall()
    assert started_on == (late_evening + dt.timedelta(days=1)).date().isoformat()


async def test_the_lane_reads_the_row_sqlalchemy_reads(store):
    await store.conversations.get_or_create("c1", now=at(1))
    await store.messages.add("c1", "visitor", "text", "hei", now=at(2))
    await store.conversations.transition("c1", Transition.ESCALATE, reason="visitor_request",
                                         handoff={"summary": "Äkillinen kysymys", "n": [1, 2]}, now=at(3))
    through_lane = await store.conversations.find("c1")
    async with store.engine.connect() as conn:
        row = (await conn.execute(sa.select(conversations).where(conversations.c.id == "c1"))).first()
    assert through_lane == build(Conversation, row)
    assert through_lane.state == ConversationState.WAITING and through_lane.updated_at.tzinfo is not None
    assert await store.conversations.find("nobody") is None


async def test_lane_and_pool_writes_queue_on_one_lock_and_see_each_other(store):
    """Concurrent message writes (lane) and transitions (pool) all land, in SQLite's one-writer order."""
    await store.conversations.get_or_create("c1")

    async def chat(n: int) -> None:
        await store.messages.add("c1", "visitor", "text", f"viesti {n}")

    await asyncio.gather(*(chat(n) for n in range(20)),
                         store.conversations.transition("c1", Transition.ESCALATE, reason="visitor_request"))
    assert sorted(m.text for m in await store.messages.transcript("c1")) == sorted(f"viesti {n}" for n in range(20))
    assert (await store.conversations.find("c1")).state == ConversationState.WAITING


async def test_closing_the_store_closes_the_lane(tmp_path):
    store = await Store.open(f"sqlite+aiosqlite:///{tmp_path}/liveagent.sqlite", hasher=FAST_HASHER)
    await store.conversations.get_or_create("c1")
    lane = store.messages._writer.lane  # noqa: SLF001
    assert lane is not None and lane._connection is not None  # noqa: SLF001 - opened by the read
    await store.close()
    assert lane._connection is None  # noqa: SLF001
    memory = await Store.open("sqlite+aiosqlite://", hasher=FAST_HASHER)  # in memory: no second connection
    assert memory.messages._writer.lane is None  # noqa: SLF001
    await memory.close()


def trips(connection: aiosqlite.Connection) -> List[str]:
    """Records the functions run on ``connection``'s thread from now on (its trips)."""
    recorded: List[str] = []
    run = connection._execute  # noqa: SLF001

    async def counted(function, *args, **kwargs):
        recorded.append(function.__name__)
        return await run(function, *args, **kwargs)

    connection._execute = counted  # noqa: SLF001
    return recorded


async def test_a_repository_reads_without_a_transaction_in_one_trip_per_statement(store):
    await store.conversations.get_or_create("c1")
    reader = store.conversations._engine  # noqa: SLF001 - the engine the repository reads with
    async with reader.connect() as conn:
        driver = conn.sync_connection.connection.dbapi_connection
        assert isinstance(driver, OneTripConnection)
        made = trips(driver._connection)  # noqa: SLF001 - aiosqlite's connection
        assert (await conn.execute(sa.text("SELECT count(*) FROM conversations"))).scalar_one() == 1
        assert not driver._connection._conn.in_transaction  # noqa: SLF001 - no BEGIN: nothing held open
    assert made == ["_run"]  # the statement; ending the read and giving the connection back cost no trip


async def test_a_transaction_begun_on_the_engine_holds_its_snapshot_and_ends_in_one_trip(store):
    async with store.engine.begin() as conn:
        driver = conn.sync_connection.connection.dbapi_connection
        made = trips(driver._connection)  # noqa: SLF001 - aiosqlite's connection
        await conn.execute(sa.text("SELECT count(*) FROM conversations"))
        assert driver._connection._conn.in_transaction  # noqa: SLF001 - BEGIN went with the statement
    assert made == ["_run", "commit"]  # the pool's reset after the COMMIT costs no trip


def test_a_store_left_open_does_not_keep_the_process_from_exiting(tmp_path):
    """aiosqlite's connection threads are daemons: a store never closed (the pool's connections and the
    lane) lets the interpreter exit (a leaked one once hung make test after its last test)."""
    script = f"""
import asyncio
from liveagent.store import Store

KEPT = []

async def main():
    store = await Store.open("sqlite+aiosqlite:///{tmp_path}/liveagent.sqlite")
    KEPT.append(store)  # still referenced at exit: never collected, never closed
    await store.conversations.get_or_create("c1")
    await store.messages.add("c1", "visitor", "text", "hei")
    assert len(await store.messages.transcript("c1")) == 1

asyncio.run(main())
print("done")
"""
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == "done", done.stderr


async def test_the_lane_reads_and_writes_on_the_event_loop_without_a_trip_to_a_thread(store):
    await store.conversations.get_or_create("c1")
    lane = store.messages._writer.lane  # noqa: SLF001
    made = trips(lane._patient)  # noqa: SLF001 - the lane's connection on a thread
    await store.conversations.get_or_create("c1")
    await store.messages.add("c1", "visitor", "text", "hei")
    await store.messages.add("c1", "bot", "text", "Hei! Miten voin auttaa?")
    assert made == []
    # It never waits on the loop: no busy timeout, no checkpoint (those run on the patient connection).
    assert lane._connection.execute("PRAGMA busy_timeout").fetchone() == (0,)  # noqa: SLF001
    assert lane._connection.execute("PRAGMA wal_autocheckpoint").fetchone() == (0,)  # noqa: SLF001
    assert [text for *_, text, _, _, _ in raw_rows(store)] == ["hei", "Hei! Miten voin auttaa?"]


async def test_a_lane_write_that_finds_the_database_locked_waits_off_the_event_loop(store):
    """Another process holds SQLite's write lock: the message is written once it is released, by the
    patient connection's thread, and the event loop runs on meanwhile."""
    await store.conversations.get_or_create("c1")
    lane = store.messages._writer.lane  # noqa: SLF001
    made = trips(lane._patient)  # noqa: SLF001 - the lane's connection on a thread
    other = sqlite3.connect(store.engine.url.database, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        adding = asyncio.ensure_future(store.messages.add("c1", "visitor", "text", "odotan vuoroani"))
        ticks = 0
        for _ in range(10):
            await asyncio.sleep(0.02)
            ticks += 1
        assert not adding.done() and ticks == 10  # waiting, and not on the loop
    finally:
        other.execute("COMMIT")
        other.close()
    message = await asyncio.wait_for(adding, 15)
    assert message.text == "odotan vuoroani"
    assert made == ["_run_transaction"]
    assert [text for *_, text, _, _, _ in raw_rows(store)] == ["odotan vuoroani"]


async def test_the_lane_checkpoints_the_log_on_its_patient_connection(store, monkeypatch):
    from liveagent.store import sqlite_driver

    monkeypatch.setattr(sqlite_driver, "CHECKPOINT_EVERY", 5)
    await store.conversations.get_or_create("c1")
    lane = store.messages._writer.lane  # noqa: SLF001
    made = trips(lane._patient)  # noqa: SLF001 - the lane's connection on a thread
    for n in range(11):
        await store.messages.add("c1", "visitor", "text", f"viesti {n}")
        if n in (4, 9):  # the 5th and 10th commits on the lane started a checkpoint: it ends on its thread
            assert made == ["_checkpoint"] * (n // 5) and not lane._checkpointing.done()  # noqa: SLF001
            await lane._checkpointing  # noqa: SLF001
    assert made == ["_checkpoint", "_checkpoint"]
