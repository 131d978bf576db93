"""`DELETE /conversations/<id>/tracker` (rasa_runtime/erasure.py) on Rasa's own app: it deletes one
conversation from a real SQL tracker store (SQLite and PostgreSQL), an in-memory one and Redis,
keeps the others, takes the conversation's lock, and needs a valid JWT."""

from __future__ import annotations

import asyncio
import contextlib
import os
from typing import Any, AsyncIterator, Dict, List, Optional

import aiohttp
import jwt
import pytest
import rasa.server
import sqlalchemy as sa
from rasa.core.agent import Agent
from rasa.core.lock_store import InMemoryLockStore
from rasa.core.tracker_store import (
    AwaitableTrackerStore,
    InMemoryTrackerStore,
    RedisTrackerStore,
    SerializedTrackerAsText,
    SQLTrackerStore,
    TrackerStore,
)
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sanic import Sanic
from sanic_jwt.authentication import Authentication

from rasa_runtime import api_auth, erasure
from tests.integration.conftest import free_port
from tests.liveagent.databases import postgres_database

SECRET = "erasure-api-secret-for-the-tests-0123456789"
ERASED, KEPT = "visitor-erased", "visitor-kept"


def token(role: str = "admin", username: str = "liveagent", secret: str = SECRET, minutes: int = 5) -> str:
    import datetime as dt

    expires = dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=minutes)
    return jwt.encode({"user": {"username": username, "role": role}, "exp": expires}, secret, algorithm="HS256")


def conversation(sender_id: str) -> DialogueStateTracker:
    return DialogueStateTracker.from_events(sender_id, [
        ActionExecuted("action_listen"), UserUttered("hetuni on 131052-308T", {"name": "faq"}),
        BotUttered("Kiitos"), ActionExecuted("action_listen")])


class Api:
    def __init__(self, url: str, agent: Agent) -> None:
        self.url = url
        self.agent = agent

    async def delete(self, conversation_id: str, headers: Optional[Dict[str, str]] = None) -> int:
        headers = {"Authorization": f"Bearer {token()}"} if headers is None else headers
        async with aiohttp.ClientSession() as session:
            async with session.delete(f"{self.url}/conversations/{conversation_id}/tracker",
                                      headers=headers) as response:
                return response.status

    async def events(self, conversation_id: str) -> List[str]:
        tracker = await self.agent.tracker_store.retrieve_full_tracker(conversation_id)
        return [] if tracker is None else [event.type_name for event in tracker.events]


@contextlib.asynccontextmanager
async def serving(store: TrackerStore, monkeypatch) -> AsyncIterator[Api]:
    """Rasa's app as python -m rasa_runtime builds it (api_auth and erasure installed) over an agent
    whose tracker store is ``store``, with ERASED and KEPT in it."""
    monkeypatch.setattr(Authentication, "_decode", Authentication._decode)
    monkeypatch.setattr(rasa.server, "create_app", rasa.server.create_app)
    monkeypatch.setattr(Sanic, "test_mode", True)
    api_auth.install()
    erasure.install()
    agent = Agent(tracker_store=store, lock_store=InMemoryLockStore())  # wrapped in a FailSafeTrackerStore
    agent.is_ready = lambda: True  # no model needed to delete
    for sender_id in (ERASED, KEPT):
        await agent.tracker_store.save(conversation(sender_id))
    app = rasa.server.create_app(agent=agent, jwt_secret=SECRET, jwt_method="HS256")
    port = free_port()
    server = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True)
    await server.startup()
    try:
        yield Api(f"http://127.0.0.1:{port}", agent)
    finally:
        server.close()
        await server.wait_closed()


def sql_rows(store: SQLTrackerStore) -> Dict[str, int]:
    with store.engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT sender_id, count(*) FROM events GROUP BY sender_id"))
        return {sender_id: count for sender_id, count in rows}


async def erases_one_conversation_from_sql(store: SQLTrackerStore, monkeypatch) -> None:
    async with serving(AwaitableTrackerStore(store), monkeypatch) as api:
        before = sql_rows(store)
        assert before[ERASED] == before[KEPT] == 4
        assert await api.delete(ERASED) == 204
        assert sql_rows(store) == {KEPT: 4}  # the rows are gone, not emptied
        assert await api.events(ERASED) == [] and len(await api.events(KEPT)) == 4
        assert await api.delete(ERASED) == 204  # nothing left: still done
        assert await api.delete("never-seen") == 204
        assert sql_rows(store) == {KEPT: 4}


async def test_deletes_the_rows_from_a_sql_tracker_store_on_sqlite(tmp_path, monkeypatch):
    store = SQLTrackerStore(dialect="sqlite", db=str(tmp_path / "tracker.sqlite"))
    try:
        await erases_one_conversation_from_sql(store, monkeypatch)
    finally:
        store.engine.dispose()


@pytest.mark.postgres
async def test_deletes_the_rows_from_a_sql_tracker_store_on_postgresql(monkeypatch):
    with postgres_database("erasure") as url:
        store = SQLTrackerStore(dialect="postgresql", host="127.0.0.1", port=5432, username="postgres",
                                db=url.rsplit("/", 1)[1])
        try:
            await erases_one_conversation_from_sql(store, monkeypatch)
        finally:
            store.engine.dispose()


async def test_deletes_the_key_from_an_in_memory_tracker_store(monkeypatch):
    store = InMemoryTrackerStore(None)
    async with serving(store, monkeypatch) as api:
        assert await api.delete(ERASED) == 204
        assert set(store.store) == {KEPT}


@pytest.mark.redis
async def test_deletes_the_key_from_a_redis_tracker_store(monkeypatch):
    prefix = f"lumoerasure{os.getpid()}"
    store = RedisTrackerStore(None, host="127.0.0.1", port=6379, key_prefix=prefix)
    try:
        async with serving(store, monkeypatch) as api:
            assert sorted(await store.keys()) == [f"{prefix}:tracker:{ERASED}", f"{prefix}:tracker:{KEPT}"]
            assert await api.delete(ERASED) == 204
            assert await store.keys() == [f"{prefix}:tracker:{KEPT}"]
    finally:
        for key in store.red.keys(f"{prefix}:*"):
            store.red.delete(key)


async def test_clears_the_fail_safe_fallback_too(tmp_path, monkeypatch):
    """A tracker the real store failed to save lives in Rasa's in-memory fallback store."""
    store = SQLTrackerStore(dialect="sqlite", db=str(tmp_path / "tracker.sqlite"))
    try:
        async with serving(store, monkeypatch) as api:
            fallback = api.agent.tracker_store.fallback_tracker_store
            await fallback.save(conversation(ERASED))
            await fallback.save(conversation(KEPT))
            assert await api.delete(ERASED) == 204
            assert set(fallback.store) == {KEPT} and sql_rows(store) == {KEPT: 4}
    finally:
        store.engine.dispose()


class KeepingTrackerStore(TrackerStore, SerializedTrackerAsText):
    """A store the route knows nothing about (like Mongo or DynamoDB)."""

    def __init__(self) -> None:
        super().__init__(None)
        self.store: Dict[str, str] = {}

    async def save(self, tracker: DialogueStateTracker) -> None:
        self.store[tracker.sender_id] = self.serialise_tracker(tracker)

    async def retrieve(self, sender_id: str) -> Optional[DialogueStateTracker]:
        return self.deserialise_tracker(sender_id, self.store[sender_id]) if sender_id in self.store else None

    async def keys(self) -> List[str]:
        return list(self.store)


async def test_a_store_it_cannot_delete_from_answers_501_and_keeps_everything(monkeypatch):
    store = KeepingTrackerStore()
    async with serving(store, monkeypatch) as api:
        async with aiohttp.ClientSession() as session:
            async with session.delete(f"{api.url}/conversations/{ERASED}/tracker",
                                      headers={"Authorization": f"Bearer {token()}"}) as response:
                assert response.status == 501
                body: Any = await response.json()
        assert "KeepingTrackerStore" in body["message"] and "Nothing was deleted" in body["message"]
        assert set(store.store) == {ERASED, KEPT}


async def test_it_needs_a_valid_jwt(tmp_path, monkeypatch):
    store = SQLTrackerStore(dialect="sqlite", db=str(tmp_path / "tracker.sqlite"))
    try:
        async with serving(store, monkeypatch) as api:
            refused = {
                "no header": await api.delete(ERASED, {}),
                "wrong key": await api.delete(ERASED, {"Authorization": f"Bearer {token(secret='x' * 40)}"}),
                "expired": await api.delete(ERASED, {"Authorization": f"Bearer {token(minutes=-5)}"}),
                "alg none": await api.delete(ERASED, {"Authorization": "Bearer " + jwt.encode(
                    {"user": {"username": "x", "role": "admin"}}, None, algorithm="none")}),
                "garbage": await api.delete(ERASED, {"Authorization": "Bearer nonsense"}),
            }
            assert refused == {reason: 401 for reason in refused}
            # Rasa's scopes: a "user" token is good for its own conversation only.
            other = {"Authorization": f"Bearer {token(role='user', username=KEPT)}"}
            assert await api.delete(ERASED, other) == 403
            assert sql_rows(store) == {ERASED: 4, KEPT: 4}
            own = {"Authorization": f"Bearer {token(role='user', username=ERASED)}"}
            assert await api.delete(ERASED, own) == 204
            assert sql_rows(store) == {KEPT: 4}
    finally:
        store.engine.dispose()


async def test_it_waits_for_the_conversations_lock(tmp_path, monkeypatch):
    """A turn in progress holds the lock: the deletion happens after it, never in the middle."""
    store = SQLTrackerStore(dialect="sqlite", db=str(tmp_path / "tracker.sqlite"))
    try:
        async with serving(store, monkeypatch) as api:
            async with api.agent.lock_store.lock(ERASED):  # as Rasa holds it during a turn
                deleting = asyncio.ensure_future(api.delete(ERASED))
                await asyncio.sleep(1.5)  # Rasa's lock store looks again every second
                assert not deleting.done() and sql_rows(store)[ERASED] == 4
                turn = await api.agent.tracker_store.retrieve_full_tracker(ERASED)
                turn.update(BotUttered("Vielä yksi asia"))
                await api.agent.tracker_store.save(turn)  # the turn writes its events
                assert sql_rows(store)[ERASED] == 5
            assert await asyncio.wait_for(deleting, 10) == 204
            assert sql_rows(store) == {KEPT: 4}
            other_lock_held = api.agent.lock_store.lock(ERASED + "-other")
            async with other_lock_held:  # another conversation's turn does not hold it up
                assert await asyncio.wait_for(api.delete(KEPT), 5) == 204
            assert sql_rows(store) == {}
    finally:
        store.engine.dispose()


async def test_install_registers_the_route_on_the_app_rasa_builds(monkeypatch):
    monkeypatch.setattr(rasa.server, "create_app", rasa.server.create_app)
    monkeypatch.setattr(Sanic, "test_mode", True)
    erasure.install()
    app = rasa.server.create_app(jwt_secret=SECRET, jwt_method="HS256")
    routes = {(route.path, method) for route in app.router.routes for method in route.methods}
    assert ("conversations/<conversation_id:path>/tracker", "DELETE") in routes
    assert ("conversations/<conversation_id:path>/tracker", "GET") in routes  # Rasa's own stays
