"""Limits per client address: who the client is (X-Forwarded-For only from trusted proxies), the
counters (in process and in Redis), and the service's answers to visitors and to HTTP clients."""

from __future__ import annotations

import asyncio
import random
import uuid
from typing import Any, Dict, List, Optional

import aiohttp
import pytest
import redis.asyncio as aioredis
import socketio

from liveagent.addresses import client_address, limit_key
from liveagent.ratelimit import PREFIX, MemoryCounter, RateLimits, RedisCounter
from liveagent.settings import Settings, SettingsError
from stack.processes import free_port
from tests.liveagent.conftest import DEMO_PASSWORD, Service, first_event

REDIS_URL = "redis://127.0.0.1:6379/0"
TOO_MANY_LOGINS = "Liian monta yritystä samasta verkosta. Odota hetki ja yritä uudelleen."
TOO_MANY_MESSAGES = "Samasta verkosta lähetetään juuri nyt liian paljon viestejä. Odota hetki ja yritä uudelleen."
TOO_MANY_CONNECTIONS = "Samasta verkosta avataan juuri nyt liian monta chat-yhteyttä. Odota hetki ja yritä uudelleen."


def unique_address() -> str:
    """A documentation-range address no other test run uses (Redis keys are per address)."""
    return f"2001:db8:{random.randrange(1 << 16):x}:{random.randrange(1 << 16):x}::7"


# who the client is


def test_x_forwarded_for_is_ignored_unless_the_peer_is_a_trusted_proxy():
    assert client_address("203.0.113.9", ["198.51.100.1"], ()) == "203.0.113.9"
    assert client_address("203.0.113.9", ["198.51.100.1"], ("10.0.0.0/8",)) == "203.0.113.9"
    assert client_address("10.0.0.5", [], ("10.0.0.5",)) == "10.0.0.5"


def test_a_trusted_proxy_vouches_only_for_the_entry_it_added():
    trusted = ("10.0.0.5", "10.1.0.0/16")
    # the client wrote "1.2.3.4, 5.6.7.8" itself; the proxy appended the real peer 198.51.100.7
    assert client_address("10.0.0.5", ["1.2.3.4, 5.6.7.8, 198.51.100.7"], trusted) == "198.51.100.7"
    # two trusted proxies in a row: the first untrusted entry from the right is the client
    assert client_address("10.0.0.5", ["1.2.3.4, 198.51.100.7, 10.1.2.3"], trusted) == "198.51.100.7"
    assert client_address("10.0.0.5", ["198.51.100.7", "10.1.2.3"], trusted) == "198.51.100.7"  # two headers
    assert client_address("10.0.0.5", ["bogus"], trusted) == "10.0.0.5"  # junk: stop at the proxy
    assert client_address("10.0.0.5", ["[2001:db8::1]:443"], trusted) == "2001:db8::1"
    assert client_address("::ffff:10.0.0.5", ["198.51.100.7:5555"], trusted) == "198.51.100.7"
    assert client_address(None, ["198.51.100.7"], trusted) == "unknown"


def test_ipv6_clients_are_limited_per_64_block():
    assert limit_key("2001:db8:1:2:aaaa::1") == limit_key("2001:db8:1:2:bbbb::9") == "2001:db8:1:2::/64"
    assert limit_key("203.0.113.9") == "203.0.113.9"


def test_settings_check_proxies_and_retention():
    base = {"LUMO_ENV": "demo", "LIVEAGENT_SECRET": "s" * 40}
    settings = Settings.from_env({**base, "LIVEAGENT_TRUSTED_PROXIES": "10.0.0.5, 10.1.0.0/16"})
    assert settings.trusted_proxies == ("10.0.0.5", "10.1.0.0/16")
    assert Settings.from_env(base).trusted_proxies == ()
    assert (Settings.from_env(base).retention_days, Settings.from_env(base).limit_logins) == (365, 20)
    for bad in ({"LIVEAGENT_TRUSTED_PROXIES": "proxy.internal"}, {"LIVEAGENT_RETENTION_DAYS": "0"},
                {"LIVEAGENT_LIMIT_LOGINS": "many"}):
        with pytest.raises(SettingsError):
            Settings.from_env({**base, **bad})


# the counters


async def test_the_memory_counter_allows_the_limit_per_window_then_refuses_until_it_ends():
    now = [100.0]
    limits = RateLimits(Settings(limit_logins=3, limit_window_seconds=60), MemoryCounter(clock=lambda: now[0]))
    assert [await limits.allow("login", "203.0.113.9") for _ in range(4)] == [True, True, True, False]
    assert await limits.allow("login", "203.0.113.10")  # another address has its own allowance
    assert await limits.allow("message", "203.0.113.9")  # and another limit its own
    now[0] += 59
    assert not await limits.allow("login", "203.0.113.9")
    now[0] += 2
    assert await limits.allow("login", "203.0.113.9")
    unlimited = RateLimits(Settings(limit_logins=0), MemoryCounter())
    assert all([await unlimited.allow("login", "203.0.113.9") for _ in range(100)])


@pytest.fixture
async def redis_prefix():
    """A key prefix of this test's own; every key under it is deleted afterwards."""
    prefix = f"test:{uuid.uuid4().hex}:"
    client = aioredis.from_url(REDIS_URL)
    yield prefix
    keys = [key async for key in client.scan_iter(match=prefix + "*")]
    if keys:
        await client.delete(*keys)
    await client.close()


async def test_redis_counters_are_shared_by_every_replica_and_expire(redis_prefix):
    settings = Settings(limit_messages=5, limit_window_seconds=1.0)
    replicas = [RateLimits(settings, RedisCounter(aioredis.from_url(REDIS_URL), redis_prefix)) for _ in range(2)]
    try:
        allowed = [await replicas[n % 2].allow("message", "203.0.113.9") for n in range(7)]
        assert allowed == [True] * 5 + [False] * 2
        client = aioredis.from_url(REDIS_URL)
        ttl = await client.pttl(f"{redis_prefix}message:203.0.113.9")
        await client.close()
        assert 0 < ttl <= 1000
        await asyncio.sleep(1.1)
        assert await replicas[1].allow("message", "203.0.113.9")
    finally:
        for replica in replicas:
            await replica.close()


async def test_without_redis_each_process_counts_on_its_own(caplog):
    limits = RateLimits(Settings(limit_logins=2), RedisCounter.from_url("redis://127.0.0.1:1/0"))
    try:
        assert [await limits.allow("login", "203.0.113.9") for _ in range(3)] == [True, True, False]
    finally:
        await limits.close()
    assert "counting in this process" in caplog.text


# the service's answers


async def login(session: aiohttp.ClientSession, url: str, forwarded_for: Optional[str] = None,
                username: str = "aino", password: str = "wrong-password") -> aiohttp.ClientResponse:
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    return await session.post(f"{url}/api/agent/login", json={"username": username, "password": password},
                              headers=headers)


@pytest.mark.parametrize("service_env", [{"LIVEAGENT_LIMIT_LOGINS": "3"}])
async def test_logins_per_address_get_429_and_a_spoofed_header_does_not_help(service):
    async with aiohttp.ClientSession() as session:
        statuses = [(await login(session, service.url, username=name)).status for name in ("aino", "ville", "x")]
        assert statuses == [401, 401, 401]  # three different accounts: no account's backoff sees them
        refused = await login(session, service.url, username="eeva", password=DEMO_PASSWORD)
        assert refused.status == 429 and refused.headers["Retry-After"] == "60"
        assert await refused.json() == {"error": "too_many_requests", "message": TOO_MANY_LOGINS}
        spoofed = await login(session, service.url, forwarded_for="198.51.100.77")
        assert spoofed.status == 429  # LIVEAGENT_TRUSTED_PROXIES is empty: the header is ignored


@pytest.mark.parametrize("service_env", [{"LIVEAGENT_LIMIT_LOGINS": "2", "LIVEAGENT_TRUSTED_PROXIES": "127.0.0.1"}])
async def test_behind_a_trusted_proxy_each_forwarded_client_has_its_own_allowance(service):
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        first = [(await login(session, service.url, "198.51.100.1")).status for _ in range(3)]
        assert first == [401, 401, 429]
        assert (await login(session, service.url, "1.2.3.4, 198.51.100.2")).status == 401  # its own allowance
        ok = await login(session, service.url, "198.51.100.3", username="ville", password=DEMO_PASSWORD)
        assert ok.status == 200
        csrf = (await ok.json())["csrf_token"]
        audit = await session.get(f"{service.url}/api/agent/audit", headers={"X-Forwarded-For": "198.51.100.3"})
        entries = (await audit.json())["entries"]
    assert csrf and [(e["action"], e["client_address"]) for e in entries] == [
        ("login.success", "198.51.100.3"), ("login.failure", "198.51.100.2"),
        ("login.failure", "198.51.100.1"), ("login.failure", "198.51.100.1")]


async def visitor(service, forwarded_for: Optional[str] = None) -> Dict[str, Any]:
    """A raw Socket.IO visitor; returns its client, token and received events."""
    client = socketio.AsyncClient(reconnection=False)
    events: List[tuple] = []
    arrived = asyncio.Event()

    def recorder(name: str):
        def record(data: Any = None) -> None:
            events.append((name, data))
            arrived.set()
        return record

    for name in ("session_confirm", "status", "bot_uttered", "history", "connect_error"):
        client.on(name, recorder(name))
    headers = {"Origin": service.url}
    if forwarded_for:
        headers["X-Forwarded-For"] = forwarded_for
    await client.connect(service.url, headers=headers, transports=["websocket"], wait_timeout=5)
    await client.emit("session_request", {})
    token = (await first_event(events, arrived, "session_confirm", timeout=5))["session_id"]
    return {"client": client, "token": token, "events": events}


@pytest.mark.parametrize("service_env", [{"LIVEAGENT_LIMIT_MESSAGES": "3"}])
async def test_visitor_messages_per_address_across_conversations(service):
    first, second = await visitor(service), await visitor(service)
    for who, text in ((first, "yksi"), (second, "kaksi"), (first, "kolme"), (second, "neljä")):
        await who["client"].call("user_uttered", {"message": text, "session_id": who["token"]}, timeout=10)
    statuses = [data["text"] for name, data in second["events"] if name == "status"]
    assert TOO_MANY_MESSAGES in statuses
    answered = [data["text"] for v in (first, second) for name, data in v["events"] if name == "bot_uttered"]
    assert sorted(answered) == ["Botti: kaksi", "Botti: kolme", "Botti: yksi"]
    for v in (first, second):
        await v["client"].disconnect()


@pytest.mark.parametrize("service_env", [{"LIVEAGENT_LIMIT_CONNECTIONS": "2"}])
async def test_socket_io_connections_per_address_are_refused_in_finnish(service):
    kept = [await visitor(service), await visitor(service)]
    client = socketio.AsyncClient(reconnection=False)
    refusals: List[Any] = []
    client.on("connect_error", lambda data=None: refusals.append(data))
    with pytest.raises(socketio.exceptions.ConnectionError):
        await client.connect(service.url, headers={"Origin": service.url}, transports=["websocket"], wait_timeout=5)
    assert refusals == [{"message": TOO_MANY_CONNECTIONS, "data": {"error": "rate_limited"}}]
    await client.disconnect()
    for v in kept:
        await v["client"].disconnect()


@pytest.mark.parametrize("service_env", [{"LIVEAGENT_LIMIT_LOGINS": "3", "LIVEAGENT_REDIS_URL": REDIS_URL,
                                          "LIVEAGENT_TRUSTED_PROXIES": "127.0.0.1"}])
async def test_two_replicas_with_redis_share_the_login_limit(service, tmp_path):
    port = free_port()
    other = Service(f"http://127.0.0.1:{port}", service.rasa_url,
                    {**service.env, "LIVEAGENT_PORT": str(port),
                     "LIVEAGENT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/replica-2.sqlite"},
                    tmp_path / "replica-2")
    other.tmp.mkdir()
    address, another = unique_address(), unique_address()
    client = aioredis.from_url(REDIS_URL)
    try:
        await other.start()
        async with aiohttp.ClientSession() as session:
            statuses = [(await login(session, url, address)).status
                        for url in (service.url, other.url, service.url, other.url)]
            assert statuses == [401, 401, 401, 429]
            assert (await login(session, service.url, address)).status == 429
            assert (await login(session, other.url, another)).status == 401
        assert await client.exists(f"{PREFIX}login:{limit_key(address)}")
    finally:
        await other.stop()
        await client.delete(*(f"{PREFIX}login:{limit_key(a)}" for a in (address, another)))
        await client.close()
