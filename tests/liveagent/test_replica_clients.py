"""Several Rasa replicas behind one RasaClient, and Store calls that outlive a lost connection."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import List

import pytest
import sqlalchemy as sa
from aiohttp import web
from aiohttp.test_utils import TestServer

from liveagent.rasa_client import RasaClient, RasaUnavailable
from liveagent.store import Store
from liveagent.store import reconnect as reconnect_module
from stack.processes import free_port
from tests.liveagent.databases import postgres_database


def fake_rasa(name: str, calls: List[str], delay: float = 0.0) -> web.Application:
    async def webhook(request: web.Request) -> web.Response:
        calls.append(f"{name} webhook")
        await asyncio.sleep(delay)
        return web.json_response([{"recipient_id": "x", "text": f"vastaus replikasta {name}"}])

    async def model(request: web.Request) -> web.Response:
        calls.append(f"{name} model {(await request.json())['model_file']}")
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/webhooks/rest/webhook", webhook)
    app.router.add_put("/model", model)
    return app


@pytest.fixture
async def replicas():
    calls: List[str] = []
    servers = [TestServer(fake_rasa(name, calls)) for name in ("a", "b")]
    for server in servers:
        await server.start_server()
    yield servers, calls
    for server in servers:
        await server.close()


def url(server: TestServer) -> str:
    return str(server.make_url("")).rstrip("/")


async def test_each_conversation_keeps_its_replica_and_moves_when_it_is_down(replicas) -> None:
    (a, b), calls = replicas
    dead = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    client = RasaClient([dead, url(a), url(b)], "", 5)
    await client.open()
    try:
        conversations = [f"c{n}" for n in range(30)]
        for conversation in conversations:
            replies = await client.send(conversation, "moi", {})
            assert len(replies) == 1
        first_choice = [client.replicas(c)[0] for c in conversations]
        assert len(set(first_choice)) == 3, "conversations spread over every replica"
        # those whose own replica is the dead one were answered by the next in line
        assert calls.count("a webhook") + calls.count("b webhook") == 30
        names = {url(a): "a", url(b): "b"}
        for conversation in conversations[:6]:  # answered by the first live replica in its own order
            live = next(base for base in client.replicas(conversation) if base != dead)
            reply = await client.send(conversation, "moi", {})
            assert reply[0]["text"] == f"vastaus replikasta {names[live]}"
    finally:
        await client.close()


async def test_a_slow_replica_is_not_asked_twice() -> None:
    """A timeout is not failed over: that Rasa may still be answering, a second try would duplicate."""
    calls: List[str] = []
    slow, fast = TestServer(fake_rasa("slow", calls, delay=2)), TestServer(fake_rasa("fast", calls))
    await slow.start_server()
    await fast.start_server()
    client = RasaClient([url(slow), url(fast)], "", 0.5)
    await client.open()
    try:
        conversation = next(c for c in (f"c{n}" for n in range(50)) if client.replicas(c)[0] == url(slow))
        with pytest.raises(RasaUnavailable):
            await client.send(conversation, "moi", {})
        assert calls == ["slow webhook"]
    finally:
        await client.close()
        await slow.close()
        await fast.close()


async def test_a_new_model_is_loaded_into_every_replica(replicas) -> None:
    (a, b), calls = replicas
    client = RasaClient([url(a), url(b)], "", 5)
    await client.open()
    try:
        await client.load_model("/models/uusi.tar.gz")
    finally:
        await client.close()
    assert calls == ["a model /models/uusi.tar.gz", "b model /models/uusi.tar.gz"]


class Flaky:
    """Fails the first ``failures`` calls the way a restarting PostgreSQL does."""

    def __init__(self, failures: int) -> None:
        self.failures, self.calls = failures, 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.calls <= self.failures:
            raise sa.exc.OperationalError("SELECT 1", {}, ConnectionRefusedError("the database system is starting up"))
        return "ok"


@reconnect_module.survives_reconnects
class Retrying:
    def __init__(self, flaky: Flaky, reconnects: bool = True) -> None:
        self.flaky = flaky
        self._engine = SimpleNamespace(dialect=SimpleNamespace(name="postgresql" if reconnects else "sqlite"))

    async def read(self) -> str:
        return await self.flaky()

    async def outer(self) -> str:
        return await self.read()  # nested: retried once, by the outer call

    async def broken(self) -> None:
        raise sa.exc.IntegrityError("INSERT", {}, Exception("duplicate key"))


async def test_calls_that_lost_the_database_are_retried_and_others_are_not() -> None:
    flaky = Flaky(3)
    assert await Retrying(flaky).read() == "ok"
    assert flaky.calls == 4
    nested = Flaky(2)
    assert await Retrying(nested).outer() == "ok"
    assert nested.calls == 3
    with pytest.raises(sa.exc.IntegrityError):
        await Retrying(Flaky(0)).broken()
    with pytest.raises(sa.exc.OperationalError):  # SQLite: no connection to lose, nothing retried
        await Retrying(Flaky(1), reconnects=False).read()


async def test_retrying_gives_up_after_its_time(monkeypatch) -> None:
    monkeypatch.setattr(reconnect_module, "RETRY_SECONDS", 0.3)
    flaky = Flaky(1000)
    with pytest.raises(sa.exc.OperationalError):
        await Retrying(flaky).read()
    assert 2 <= flaky.calls < 10


@pytest.mark.postgres
async def test_the_store_survives_its_connections_being_cut(tmp_path) -> None:
    """Every server connection killed (as in a PostgreSQL restart): the next calls still work."""
    with postgres_database("replica_clients") as url:
        store = await Store.open(url)
        try:
            conversation = await store.conversations.get_or_create("c" * 32)
            await store.messages.add(conversation.id, "visitor", "text", "ennen katkoa")
            async with store.engine.connect() as conn:
                await conn.execute(sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"))
            await store.messages.add(conversation.id, "visitor", "text", "katkon jälkeen")
            texts = [m.text for m in await store.messages.transcript(conversation.id, visible_to="agent")]
            assert texts == ["ennen katkoa", "katkon jälkeen"]
        finally:
            await store.close()
