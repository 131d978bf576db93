"""Limits per client address (connections, visitor events, agent logins) and per Socket.IO connection.

Each limit allows ``limit`` events per address in a window of ``window`` seconds that starts at the
address's first event (so a burst cannot straddle two windows and get double the allowance). With
LIVEAGENT_REDIS_URL the counters live in Redis and every replica of the service shares them; without
it they live in this process. If Redis stops answering, this process counts on its own until it is
back (the limit then holds per replica) rather than refusing everyone or letting everyone through.

Memory is bounded everywhere: the in-process stores evict the least recently used key when full (an
address rotating through IPv6 /64s pushes out its own old counters, never everyone's at once).
Per-connection buckets (``SocketLimits``) and the count of open connections per address
(``SocketCounts``) are synchronous, so a visitor handler can refuse an event before it waits for
anything: no lock, no database, no Redis round trip.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Dict, Optional, Protocol, Tuple

from liveagent.addresses import limit_key
from liveagent.settings import Settings

logger = logging.getLogger(__name__)
PREFIX = "lumo:limit:"

# INCR, and start the window on the first hit (or on a key that somehow lost its expiry).
_HIT = """
local count = redis.call('INCR', KEYS[1])
if count == 1 or redis.call('PTTL', KEYS[1]) < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
return count
"""


class Counter(Protocol):
    async def hit(self, key: str, window: float) -> int:
        """Count one event for ``key``; returns the events in its current window, this one included."""

    async def close(self) -> None:
        ...


class MemoryCounter:
    """Counters in this process (one replica, or Redis unreachable), at most ``max_keys`` of them.

    When full, the least recently counted key goes first: a flood of new addresses evicts only the
    stalest counters, and an address that is being counted right now keeps its count.
    """

    def __init__(self, clock=time.monotonic, max_keys: int = 100_000) -> None:
        self._clock = clock
        self._max_keys = max_keys
        self._windows: "OrderedDict[str, Tuple[int, float]]" = OrderedDict()

    async def hit(self, key: str, window: float) -> int:
        now = self._clock()
        count, ends = self._windows.pop(key, (0, 0.0))
        if now >= ends:
            count, ends = 0, now + window
        while len(self._windows) >= self._max_keys:
            self._windows.popitem(last=False)
        self._windows[key] = (count + 1, ends)
        return count + 1

    def __len__(self) -> int:
        return len(self._windows)

    def __contains__(self, key: str) -> bool:
        return key in self._windows

    async def close(self) -> None:
        self._windows.clear()


class RedisCounter:
    """Counters shared by every replica (redis.asyncio); one atomic script call per event."""

    def __init__(self, client, prefix: str = PREFIX, fallback: Optional[Counter] = None) -> None:
        self._client = client
        self._prefix = prefix
        self._script = client.register_script(_HIT)
        self._fallback = fallback or MemoryCounter()
        self._warned_at = float("-inf")

    @classmethod
    def from_url(cls, url: str, prefix: str = PREFIX) -> "RedisCounter":
        import redis.asyncio as redis  # only deployments with Redis need it loaded

        # short timeouts: a slow Redis must not hold up every visitor message
        return cls(redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5), prefix)

    async def hit(self, key: str, window: float) -> int:
        from redis.exceptions import RedisError

        try:
            return int(await self._script(keys=[self._prefix + key], args=[max(1, int(window * 1000))]))
        except (RedisError, OSError) as error:
            if time.monotonic() - self._warned_at > 60:
                self._warned_at = time.monotonic()
                logger.warning("Rate-limit counters unavailable in Redis (%s); counting in this process",
                               type(error).__name__)
            return await self._fallback.hit(key, window)

    async def close(self) -> None:
        await self._fallback.close()
        await self._client.close()


@dataclass(frozen=True)
class Limit:
    name: str
    limit: int  # events per window; 0 = unlimited
    window: float


class RateLimits:
    """The service's per-address limits over one counter store."""

    def __init__(self, settings: Settings, counter: Counter) -> None:
        window = settings.limit_window_seconds
        self.counter = counter
        self.limits = {limit.name: limit for limit in (
            Limit("connect", settings.limit_connections, window),
            Limit("message", settings.limit_messages, window),
            Limit("login", settings.limit_logins, window),
            Limit("session", settings.limit_session_requests, window),
            Limit("contact", settings.limit_contact_requests, window),
            Limit("visitor_event", settings.limit_visitor_events, window),
        )}

    @classmethod
    def for_settings(cls, settings: Settings) -> "RateLimits":
        counter = RedisCounter.from_url(settings.redis_url) if settings.redis_url else MemoryCounter()
        return cls(settings, counter)

    async def allow(self, name: str, address: str) -> bool:
        """Count this event; False once ``address`` is over the limit ``name`` in its window."""
        limit = self.limits[name]
        if limit.limit <= 0:
            return True
        count = await self.counter.hit(f"{name}:{limit_key(address)}", limit.window)
        if count == limit.limit + 1:  # once per window, not for every refused event of a flood
            logger.warning("Rate limit %r reached by %s", name, address)
        return count <= limit.limit

    def retry_after(self, name: str) -> int:
        """Seconds a refused client should wait at most (the window's length)."""
        return max(1, int(self.limits[name].window + 0.999))

    async def close(self) -> None:
        await self.counter.close()


@dataclass(frozen=True)
class Bucket:
    """A token bucket: bursts of ``burst`` events, refilled at ``rate`` events per second."""

    rate: float
    burst: int


# Per visitor connection (and, for messages, per conversation: several tabs share one). Generous
# for the widget, which sends one session_request per (re)connection, typing at most every few
# seconds, one rating and one contact request per chat; far below what a script can send.
SOCKET_BUCKETS: Dict[str, Bucket] = {
    "session": Bucket(rate=1 / 10, burst=5),
    "message": Bucket(rate=1.0, burst=8),
    "typing": Bucket(rate=1.0, burst=10),
    "rating": Bucket(rate=1 / 10, burst=3),
    "contact": Bucket(rate=1 / 60, burst=2),
    "cancel": Bucket(rate=1 / 5, burst=3),
    # "Oliko vastauksesta apua?": a click per answer, changed now and then
    "feedback": Bucket(rate=1 / 2, burst=10),
    "end": Bucket(rate=1 / 10, burst=3),
}


class TokenBuckets:
    """Token buckets by key, in this process, at most ``max_keys`` (least recently used evicted).

    ``allow`` never suspends: a handler can call it before anything else.
    """

    def __init__(self, clock=time.monotonic, max_keys: int = 100_000) -> None:
        self._clock = clock
        self._max_keys = max_keys
        self._buckets: "OrderedDict[str, Tuple[float, float]]" = OrderedDict()

    def allow(self, key: str, bucket: Bucket) -> bool:
        now = self._clock()
        tokens, last = self._buckets.pop(key, (float(bucket.burst), now))
        tokens = min(float(bucket.burst), tokens + (now - last) * bucket.rate)
        while len(self._buckets) >= self._max_keys:
            self._buckets.popitem(last=False)
        allowed = tokens >= 1
        self._buckets[key] = (tokens - 1 if allowed else tokens, now)
        return allowed

    def forget(self, key: str) -> None:
        """Drop the bucket of ``key`` (a connection that closed)."""
        self._buckets.pop(key, None)

    def __len__(self) -> int:
        return len(self._buckets)


class SocketLimits:
    """Per-connection (and per-conversation) limits on visitor events, plus a notice throttle.

    Keys are ``<event>:<sid>`` or ``<event>:conversation:<id>``; a closed connection's buckets go
    with it (``forget``). ``notify`` says whether a refusal should be told to the visitor: the first
    one, then at most one per ``notice_seconds`` and event, so a flood does not get a flood back.
    """

    def __init__(self, clock=time.monotonic, max_keys: int = 100_000, notice_seconds: float = 2.0) -> None:
        self._clock = clock
        self._buckets = TokenBuckets(clock, max_keys)
        self._notices: "OrderedDict[str, float]" = OrderedDict()
        self._max_keys = max_keys
        self._notice_seconds = notice_seconds

    def allow(self, event: str, sid: str, conversation_id: Optional[str] = None) -> bool:
        bucket = SOCKET_BUCKETS[event]
        if not self._buckets.allow(f"{event}:{sid}", bucket):
            return False
        if conversation_id is not None and not self._buckets.allow(f"{event}:conversation:{conversation_id}", bucket):
            return False
        return True

    def notify(self, event: str, sid: str) -> bool:
        key, now = f"{event}:{sid}", self._clock()
        last = self._notices.pop(key, None)
        if last is not None and now - last < self._notice_seconds:
            self._notices[key] = last
            return False
        while len(self._notices) >= self._max_keys:
            self._notices.popitem(last=False)
        self._notices[key] = now
        return True

    def forget(self, sid: str) -> None:
        for event in SOCKET_BUCKETS:
            self._buckets.forget(f"{event}:{sid}")
            self._notices.pop(f"{event}:{sid}", None)


class SocketCounts:
    """Open Socket.IO connections per address (IPv6 per /64) in this process, capped at ``cap``.

    ``open`` and ``close`` are synchronous, so the check and the count cannot be raced by two
    connections arriving together. The cap holds per replica (a connection lives in one process).
    """

    def __init__(self, cap: int) -> None:
        self.cap = cap  # 0: no cap
        self._open: Dict[str, int] = {}

    def open(self, address: str) -> bool:
        """Count a new connection from ``address``; False (and not counted) when it is at the cap."""
        key = limit_key(address)
        count = self._open.get(key, 0)
        if self.cap > 0 and count >= self.cap:
            return False
        self._open[key] = count + 1
        return True

    def close(self, address: str) -> None:
        key = limit_key(address)
        count = self._open.get(key, 0) - 1
        if count > 0:
            self._open[key] = count
        else:
            self._open.pop(key, None)

    def count(self, address: str) -> int:
        return self._open.get(limit_key(address), 0)

    def total(self) -> int:
        """Every open connection of this process (the operators' lumo_visitors_connected)."""
        return sum(self._open.values())
