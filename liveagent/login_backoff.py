"""Backoff after failed logins, which an attacker cannot turn into a lockout of a real agent.

Failures are counted under three keys (keyed digests, see ``Store.logins``):

- **pair**: this username from this address (IPv6 per /64). After PAIR_FREE failures each further
  attempt waits FIRST_DELAY (15 s), then twice as long after each failure, up to PAIR_MAX. Only
  the guesser's own address is slowed down.
- **account**: this username from any address. After ACCOUNT_FREE failures, up to ACCOUNT_MAX
  between attempts: guessing one password from many addresses gets slow. Not applied to a
  *known-good* address, one from which this username logged in within KNOWN_GOOD, so the real
  agent at their usual address logs in while an attack on the account goes on elsewhere; from a
  new address they wait ACCOUNT_MAX at most.
- **address**: this address with any username (spraying). After ADDRESS_FREE failures, up to
  ADDRESS_MAX between attempts; not applied to a known-good pair either.

A failure count starts again after DECAY without failures. A right password forgets the pair's
failures and marks the pair known-good. While an attempt must wait, the password is not checked at
all (a right guess would otherwise get through), and the answer (429 with Retry-After) is the
same for every username, existing or not: the keys are made from the typed name, never from
whether an agent has it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass
from typing import Dict, Optional

from liveagent.addresses import limit_key
from liveagent.store.logins import Failures, LoginFailures

PAIR_FREE, PAIR_MAX = 5, dt.timedelta(minutes=5)
ACCOUNT_FREE, ACCOUNT_MAX = 20, dt.timedelta(minutes=1)
ADDRESS_FREE, ADDRESS_MAX = 30, dt.timedelta(minutes=5)
FIRST_DELAY = dt.timedelta(seconds=15)
DECAY = dt.timedelta(hours=1)
KNOWN_GOOD = dt.timedelta(days=30)


def delay(failures: int, free: int, most: dt.timedelta) -> dt.timedelta:
    """No wait for the first ``free`` failures, then FIRST_DELAY doubling per failure, at most ``most``."""
    if failures < free:
        return dt.timedelta(0)
    return min(most, FIRST_DELAY * 2 ** min(failures - free, 20))


@dataclass(frozen=True)
class Keys:
    pair: str
    account: str
    address: str


class LoginBackoff:
    def __init__(self, failures: LoginFailures, secret: str) -> None:
        self._failures = failures
        self._key = hashlib.sha256(("liveagent-login:" + secret).encode()).digest()

    def keys(self, username: str, address: str) -> Keys:
        name, net = username.casefold(), limit_key(address)

        def digest(*parts: str) -> str:
            return hmac.new(self._key, "\0".join(parts).encode(), hashlib.sha256).hexdigest()

        return Keys(pair=digest("pair", name, net), account=digest("account", name), address=digest("address", net))

    async def wait(self, username: str, address: str, now: dt.datetime) -> Optional[dt.timedelta]:
        """How long this attempt must wait before its password is checked; None: check it now."""
        keys = self.keys(username, address)
        rows: Dict[str, Failures] = await self._failures.get([keys.pair, keys.account, keys.address])
        pair = rows.get(keys.pair)
        rules = [(pair, PAIR_FREE, PAIR_MAX)]
        known_good = pair is not None and pair.succeeded_at is not None and now - pair.succeeded_at < KNOWN_GOOD
        if not known_good:
            rules += [(rows.get(keys.account), ACCOUNT_FREE, ACCOUNT_MAX),
                      (rows.get(keys.address), ADDRESS_FREE, ADDRESS_MAX)]
        longest = dt.timedelta(0)
        for row, free, most in rules:
            if row is None or row.last_failure_at is None or now - row.last_failure_at >= DECAY:
                continue
            longest = max(longest, row.last_failure_at + delay(row.failures, free, most) - now)
        return longest if longest > dt.timedelta(0) else None

    async def failed(self, username: str, address: str, now: dt.datetime) -> None:
        keys = self.keys(username, address)
        await self._failures.fail([keys.pair, keys.account, keys.address], DECAY, now)

    async def succeeded(self, username: str, address: str, now: dt.datetime) -> None:
        await self._failures.succeed(self.keys(username, address).pair, now)

    async def prune(self, now: dt.datetime) -> int:
        return await self._failures.prune(DECAY, KNOWN_GOOD, now)
