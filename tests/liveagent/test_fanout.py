"""Events across replicas over a real Redis (127.0.0.1:6379): liveagent/fanout.py.

Two hubs stand for two service replicas. Redis being down fails these tests (.ci/run starts it).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import pickle
import time
import uuid
from typing import List

import pytest
import redis.asyncio as aioredis

from liveagent.fanout import RESYNC_MARGIN_SECONDS, RedisAgentHub, RedisLease, fanout_key, sign
from tests.liveagent.conftest import eventually

pytestmark = pytest.mark.redis
REDIS_URL = "redis://127.0.0.1:6379/7"
KEY = fanout_key("service-secret-for-tests-0123456789-abcdefghijklmnop")


class FakeSocket:
    def __init__(self) -> None:
        self.sent: List[dict] = []

    async def send(self, data: str) -> None:
        self.sent.append(json.loads(data))


@pytest.fixture
async def replicas():
    channel = f"test:agents:{uuid.uuid4().hex}"
    client = aioredis.Redis.from_url(REDIS_URL)
    try:
        await client.ping()
    except Exception as error:  # noqa: BLE001
        pytest.fail(f"Redis is not reachable at {REDIS_URL} (.ci/run starts it): {error}")
    hubs = [RedisAgentHub(REDIS_URL, KEY, channel) for _ in range(2)]
    for hub in hubs:
        hub.start()
    for hub in hubs:
        await asyncio.wait_for(hub.transport.subscribed.wait(), 5)
    yield hubs, client, channel
    for hub in hubs:
        await hub.stop()
    await client.close()


def connect(hub: RedisAgentHub, agent_id: int) -> FakeSocket:
    socket = FakeSocket()
    client = hub.register(agent_id, socket)
    asyncio.ensure_future(client.sender())
    return socket


async def test_an_event_reaches_the_agent_on_the_other_replica_once(replicas) -> None:
    (a, b), _, _ = replicas
    on_a, on_b = connect(a, 1), connect(b, 1)
    other_agent = connect(b, 2)
    for n in range(20):
        a.send(1, {"type": "message", "n": n})
    await eventually(lambda: len(on_b.sent) == 20, timeout=5)
    await asyncio.sleep(0.3)  # nothing more arrives: the publisher skips its own events
    assert [e["n"] for e in on_a.sent] == list(range(20))
    assert [e["n"] for e in on_b.sent] == list(range(20))  # in order, once
    assert other_agent.sent == []


async def test_broadcasts_reach_every_replica_once(replicas) -> None:
    (a, b), _, _ = replicas
    sockets = [connect(a, 1), connect(b, 2), connect(b, 3)]
    b.broadcast({"type": "queue", "conversations": []})
    a.broadcast({"type": "presence"}, only={3})
    await eventually(lambda: len(sockets[2].sent) == 2, timeout=5)
    await asyncio.sleep(0.3)
    assert [e["type"] for e in sockets[0].sent] == ["queue"]
    assert [e["type"] for e in sockets[1].sent] == ["queue"]
    assert [e["type"] for e in sockets[2].sent] == ["queue", "presence"]


async def test_foreign_payloads_on_the_channel_are_ignored(replicas) -> None:
    """Only JSON is read: a pickle published on the channel is never unpickled (code execution)."""
    (a, b), client, channel = replicas
    socket = connect(b, 1)

    class Exploit:
        def __reduce__(self):
            return (exec, ("raise SystemExit('unpickled')",))

    await client.publish(channel, pickle.dumps(Exploit()))
    await client.publish(channel, b"not json")
    await client.publish(channel, json.dumps({"op": "send", "agent_id": 1, "event": "not a dict"}))
    a.send(1, {"type": "after"})
    await eventually(lambda: len(socket.sent) == 1, timeout=5)
    assert socket.sent == [{"type": "after"}]


async def test_forged_and_unsigned_events_are_dropped_and_counted_without_their_content(replicas, caplog) -> None:
    """Anyone who can publish on Redis but is not a replica (no LIVEAGENT_SECRET) cannot reach a console."""
    (a, b), client, channel = replicas
    socket = connect(b, 1)
    forged_event = json.dumps({"op": "send", "agent_id": 1, "host_id": "x",
                               "event": {"type": "message", "text": "Soita 040 123 4567 heti"}})
    other_key = fanout_key("another-deployments-secret-0123456789-abcdefgh")
    payloads = [
        forged_event,  # well-formed, unsigned
        f"{'0' * 64}.{forged_event}",  # a made-up signature
        sign(other_key, channel, forged_event),  # signed with another key
        sign(KEY, "lumo:socketio", forged_event),  # genuine signature for another channel (replayed here)
        sign(KEY, channel, forged_event).replace("Soita", "Sano "),  # signed, then altered
    ]
    with caplog.at_level(logging.WARNING, logger="liveagent.fanout"):
        for payload in payloads:
            await client.publish(channel, payload)
        a.send(1, {"type": "after"})
        await eventually(lambda: len(socket.sent) == 1, timeout=5)
    assert socket.sent == [{"type": "after"}]
    assert b.transport.dropped == len(payloads)
    assert "Dropped" in caplog.text and "040" not in caplog.text and "Soita" not in caplog.text


async def test_a_genuine_signed_event_is_delivered(replicas) -> None:
    """The control for the test above: the same event signed with the replicas' key for this channel arrives."""
    (_a, b), client, channel = replicas
    socket = connect(b, 1)
    await client.publish(channel, sign(KEY, channel, json.dumps({"op": "send", "agent_id": 1, "host_id": "x",
                                                                 "event": {"type": "signed"}})))
    await eventually(lambda: socket.sent == [{"type": "signed"}], timeout=5)
    assert b.transport.dropped == 0


async def test_a_lost_subscription_makes_local_consoles_catch_up(replicas) -> None:
    """Pub/sub keeps nothing for a subscriber that is away: after reconnecting, consoles resync."""
    (a, b), client, _ = replicas
    socket = connect(b, 1)
    before = time.time()
    await client.client_kill_filter(_type="pubsub")  # every subscription drops, as in a Redis restart
    resync = await eventually(lambda: next((e for e in socket.sent if e.get("type") == "resync"), None), timeout=5)
    # since: when the subscription was lost, less a margin for events in flight then (consoles resume by it)
    since = dt.datetime.fromisoformat(resync["since"]).timestamp()
    assert before - RESYNC_MARGIN_SECONDS - 0.5 <= since <= time.time() - RESYNC_MARGIN_SECONDS
    a.send(1, {"type": "message", "n": 1})
    await eventually(lambda: {"type": "message", "n": 1} in socket.sent, timeout=5)


async def test_one_replica_holds_the_sweep_lease_until_it_lapses() -> None:
    key = f"test:lease:{uuid.uuid4().hex}"
    first, second = RedisLease(REDIS_URL, key), RedisLease(REDIS_URL, key)
    try:
        assert await first.hold(0.5)
        assert not await second.hold(0.5)
        assert await first.hold(0.5)  # renewing its own lease
        await asyncio.sleep(0.7)  # the holder stopped renewing (died)
        assert await second.hold(0.5)
        assert not await first.hold(0.5)
    finally:
        await first.close()
        await second.close()
