"""Limits per client address: Socket.IO connections, visitor messages and agent logins.

Each limit allows ``limit`` events per address in a window of ``window`` seconds that starts at the
address's first event (so a burst cannot straddle two windows and get double the allowance). With
LIVEAGENT_REDIS_URL the counters live in Redis and every replica of the service shares them; without
it they live in this process. If Redis stops answering, this process counts on its own until it is
back (the limit then holds per replica) rather than refusing everyone or letting everyone through.
"""

from __future__ import annotations

import logging
import time
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
    """Counters in this process (one replica, or Redis unreachable)."""

    def __init__(self, clock=time.monotonic, max_keys: int = 100_000) -> None:
        self._clock = clock
        self._max_keys = max_keys
        self._windows: Dict[str, Tuple[int, float]] = {}

    async def hit(self, key: str, window: float) -> int:
        now = self._clock()
        count, ends = self._windows.get(key, (0, 0.0))
        if now >= ends:
            count, ends = 0, now + window
            if len(self._windows) >= self._max_keys:
                self._prune(now)
        self._windows[key] = (count + 1, ends)
        return count + 1

    def _prune(self, now: float) -> None:
        self._windows = {key: value for key, value in self._windows.items() if value[1] > now}
        if len(self._windows) >= self._max_keys:  # all live: a flood of addresses; start over
            self._windows.clear()

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
