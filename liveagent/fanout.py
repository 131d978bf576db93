"""Events across service replicas through Redis pub/sub (production; one process needs none of this).

Two things fan out: Socket.IO emits to visitors (``RedisSocketManager``, python-socketio's pub/sub
manager with our transport) and agent-console events (``RedisAgentHub``). Both deliver to the local
connections at once and publish for the other replicas, which skip what they published themselves.

``RedisChannel`` is the transport: JSON only (python-socketio's own Redis manager unpickles whatever
arrives on the channel, so anyone able to publish there could run code in the service), every
payload signed with HMAC-SHA256 under a key derived from ``LIVEAGENT_SECRET`` (the same on every
replica) and bound to the channel's name, so that a client of Redis that is not a replica cannot
make one show an agent a message or a visitor a reply: unsigned and forged payloads are dropped
and counted in the log (never their content), an ordered
publish queue that waits out a Redis restart instead of dropping events, and a subscription that
reconnects. Pub/sub keeps nothing for a subscriber that is away, so after every reconnect the
``on_resync`` callback, given the time the subscription was lost, tells the local clients to fetch what
they missed from the database; they de-duplicate by message id. By time, not by the newest id a client
has seen: while the subscription was down, this replica's own events still reached its clients, so a
client can hold a newer message than one it missed from another replica.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import hmac
import json
import logging
import time
import uuid
from typing import Any, AsyncIterator, Awaitable, Callable, Dict, Optional, Set

from redis import asyncio as aioredis
from redis.exceptions import RedisError
from socketio.async_pubsub_manager import AsyncPubSubManager

from liveagent.hub import AgentHub

logger = logging.getLogger(__name__)

PUBLISH_QUEUE_MAX = 10_000  # events held while Redis is away; beyond this the oldest are dropped
RETRY_MAX_SECONDS = 5.0
RESYNC_MARGIN_SECONDS = 5.0  # a resync also re-sends what was written this long before the subscription was lost
DROPPED_LOG_SECONDS = 60.0  # refused payloads are logged at most this often, as a count


def fanout_key(session_secret: str) -> bytes:
    """The payload signing key of every replica, derived from LIVEAGENT_SECRET (never used as is)."""
    return hmac.new(session_secret.encode(), b"lumo-fanout-v1", hashlib.sha256).digest()


def sign(key: bytes, channel: str, body: str) -> str:
    """``<hex HMAC>.<JSON body>``: the signature covers the channel too (no replay onto another one)."""
    mac = hmac.new(key, channel.encode() + b"\n" + body.encode(), hashlib.sha256).hexdigest()
    return f"{mac}.{body}"


def verified_body(key: bytes, channel: str, raw: Any) -> Optional[str]:
    """The JSON body of a payload a replica signed for ``channel``; None for anything else."""
    if isinstance(raw, bytes):
        try:
            raw = raw.decode()
        except UnicodeDecodeError:
            return None
    if not isinstance(raw, str):
        return None
    mac, dot, body = raw.partition(".")
    if not dot:
        return None
    expected = hmac.new(key, channel.encode() + b"\n" + body.encode(), hashlib.sha256).hexdigest()
    return body if hmac.compare_digest(mac.encode(), expected.encode()) else None


class RedisChannel:
    """Ordered, retrying JSON publish and a reconnecting subscription on one channel."""

    def __init__(
        self,
        url: str,
        channel: str,
        key: bytes,
        on_message: Callable[[Dict[str, Any]], Awaitable[None]],
        on_resync: Optional[Callable[[float], Awaitable[None]]] = None,
    ) -> None:
        if len(key) < 32:
            raise ValueError("the fan-out key must be at least 32 bytes (fanout_key(LIVEAGENT_SECRET))")
        self.host_id = uuid.uuid4().hex
        self._url, self._channel, self._key = url, channel, key
        self.dropped = 0  # payloads refused: unsigned, forged or signed for another channel
        self._dropped_logged = 0
        self._dropped_logged_at = float("-inf")
        self._on_message, self._on_resync = on_message, on_resync
        self._outbox: "asyncio.Queue[str]" = asyncio.Queue()
        self._tasks: Set[asyncio.Task] = set()
        self.subscribed = asyncio.Event()

    def start(self) -> None:
        """Starts publishing and listening (call inside the running event loop)."""
        self._tasks = {asyncio.ensure_future(self._publisher()), asyncio.ensure_future(self._subscriber())}

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = set()

    def publish(self, data: Dict[str, Any]) -> None:
        """Queue ``data`` for the other replicas; never blocks the caller."""
        if self._outbox.qsize() >= PUBLISH_QUEUE_MAX:
            self._outbox.get_nowait()
            logger.warning("Redis has been away too long; an old event for other replicas was dropped")
        body = json.dumps({**data, "host_id": self.host_id}, default=str)
        self._outbox.put_nowait(sign(self._key, self._channel, body))

    async def _publisher(self) -> None:
        redis = aioredis.Redis.from_url(self._url)
        delay = 0.1
        try:
            while True:
                message = await self._outbox.get()
                while True:  # in order: the next event waits until this one is out
                    try:
                        await redis.publish(self._channel, message)
                        delay = 0.1
                        break
                    except (RedisError, OSError) as error:
                        logger.warning("Cannot publish to Redis (%s); retrying in %.1f s", type(error).__name__, delay)
                        await asyncio.sleep(delay)
                        delay = min(RETRY_MAX_SECONDS, delay * 2)
        finally:
            await redis.close()

    async def _subscriber(self) -> None:
        delay, lost_at = 0.1, None  # lost_at: when the subscription went (epoch seconds)
        while True:
            redis = aioredis.Redis.from_url(self._url)
            pubsub = redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self._channel)
                self.subscribed.set()
                delay = 0.1
                if lost_at is not None and self._on_resync is not None:
                    await self._on_resync(lost_at)  # events published while we were away are gone
                lost_at = None
                async for message in pubsub.listen():
                    await self._dispatch(message.get("data"))
            except (RedisError, OSError) as error:
                if lost_at is None:
                    lost_at = time.time()
                self.subscribed.clear()
                logger.warning("Lost the Redis subscription (%s); reconnecting in %.1f s", type(error).__name__, delay)
                await asyncio.sleep(delay)
                delay = min(RETRY_MAX_SECONDS, delay * 2)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.close()
                    await redis.close()

    async def _dispatch(self, raw: Any) -> None:
        body = verified_body(self._key, self._channel, raw)
        if body is None:
            self._refused()
            return
        try:
            data = json.loads(body)
        except (TypeError, ValueError):
            return  # only JSON is ever read, never pickle
        if not isinstance(data, dict) or data.get("host_id") == self.host_id:
            return
        try:
            await self._on_message(data)
        except Exception:  # noqa: BLE001 - one bad event must not end the subscription
            logger.exception("Could not deliver an event from another replica")


    def _refused(self) -> None:
        """Counts a refused payload; logs the count now and then (a flood must not flood the log)."""
        self.dropped += 1
        now = time.monotonic()
        if now - self._dropped_logged_at >= DROPPED_LOG_SECONDS:
            logger.warning("Dropped %d unsigned or forged payloads on the Redis channel %s (someone other than a "
                           "replica publishes there: check who can reach Redis)",
                           self.dropped - self._dropped_logged, self._channel)
            self._dropped_logged, self._dropped_logged_at = self.dropped, now


class RedisSocketManager(AsyncPubSubManager):
    """python-socketio's pub/sub manager over ``RedisChannel`` (JSON, ordered, restart-proof)."""

    name = "lumo-redis"

    def __init__(self, url: str, key: bytes, channel: str = "lumo:socketio") -> None:
        super().__init__(channel=channel)
        self._inbox: "asyncio.Queue[Dict[str, Any]]" = asyncio.Queue()
        self.transport: Optional[RedisChannel] = None
        self._url, self._key = url, key

    def initialize(self) -> None:
        self.transport = RedisChannel(self._url, self.channel, self._key, self._inbox.put, self._resync)
        self.host_id = self.transport.host_id  # our own events come back marked with it and are skipped
        super().initialize()  # starts _thread, which reads _listen
        self.transport.start()

    async def close(self) -> None:
        if self.transport is not None:
            await self.transport.stop()

    async def _resync(self, lost_at: float) -> None:
        # Every visitor connected here asks for what it missed (widget: a new session_request, which
        # sends everything of its one conversation after the last message id it has seen).
        await self.server.emit("resync", {}, ignore_queue=True)

    async def _publish(self, data: Dict[str, Any]) -> None:
        assert self.transport is not None
        self.transport.publish(data)

    async def _listen(self) -> AsyncIterator[Dict[str, Any]]:
        while True:
            yield await self._inbox.get()


class RedisAgentHub(AgentHub):
    """The agent hub of one replica; sends and broadcasts reach agents connected to any replica."""

    def __init__(self, url: str, key: bytes, channel: str = "lumo:agents") -> None:
        super().__init__()
        self.transport = RedisChannel(url, channel, key, self._remote, self._resync)

    def start(self) -> None:
        self.transport.start()

    async def stop(self) -> None:
        await self.transport.stop()

    def send(self, agent_id: Optional[int], event: Dict[str, Any]) -> None:
        if agent_id is None:
            return
        super().send(agent_id, event)
        self.transport.publish({"op": "send", "agent_id": agent_id, "event": event})

    def broadcast(self, event: Dict[str, Any], only: Optional[Set[int]] = None) -> None:
        super().broadcast(event, only)
        self.transport.publish({"op": "broadcast", "only": sorted(only) if only is not None else None,
                                "event": event})

    def close_agent(self, agent_id: int) -> None:
        super().close_agent(agent_id)
        self.transport.publish({"op": "close_agent", "agent_id": agent_id})

    async def _remote(self, data: Dict[str, Any]) -> None:
        if data.get("op") == "close_agent" and isinstance(data.get("agent_id"), int):
            AgentHub.close_agent(self, data["agent_id"])  # the session check would close them soon anyway
            return
        event = data.get("event")
        if not isinstance(event, dict):
            return
        if data.get("op") == "send" and isinstance(data.get("agent_id"), int):
            AgentHub.send(self, data["agent_id"], event)
        elif data.get("op") == "broadcast":
            only = data.get("only")
            AgentHub.broadcast(self, event, set(only) if isinstance(only, list) else None)

    async def _resync(self, lost_at: float) -> None:
        # consoles fetch the queue and their chats again, and the messages written since the loss
        since = dt.datetime.fromtimestamp(lost_at - RESYNC_MARGIN_SECONDS, tz=dt.timezone.utc)
        AgentHub.broadcast(self, {"type": "resync", "since": since.isoformat()})


class RedisLease:
    """A lease on a Redis key: of several replicas, one holds it until it stops renewing.

    Used so that only one replica runs the periodic sweep (requeues, harvests, retention) at a time;
    if that replica dies, another takes over once the lease expires.
    """

    def __init__(self, url: str, key: str) -> None:
        self._redis = aioredis.Redis.from_url(url)
        self._key = key
        self._me = uuid.uuid4().hex

    async def hold(self, seconds: float) -> bool:
        """True if this replica holds the lease for the next ``seconds`` (taken or renewed)."""
        ttl = max(1, int(seconds * 1000))
        try:
            if await self._redis.set(self._key, self._me, nx=True, px=ttl):
                return True
            # Renew only our own lease (compare and extend in one step).
            return bool(await self._redis.eval(_RENEW, 1, self._key, self._me, ttl))
        except (RedisError, OSError) as error:
            logger.warning("Redis unavailable for the sweep lease (%s); skipping this sweep", type(error).__name__)
            return False

    async def close(self) -> None:
        await self._redis.close()


_RENEW = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end return 0"
