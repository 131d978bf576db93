"""The login backoff over the failed-logins repository, on SQLite and PostgreSQL.

The clock is passed in, so backoff delays are checked exactly, without waiting. The service-level
attacks are in tests/security/test_sessions.py.
"""

from __future__ import annotations

import datetime as dt

from liveagent.login_backoff import (
    ACCOUNT_FREE,
    ACCOUNT_MAX,
    ADDRESS_FREE,
    DECAY,
    FIRST_DELAY,
    PAIR_FREE,
    PAIR_MAX,
    LoginBackoff,
    delay,
)
from liveagent.store.schema import login_failures
from tests.liveagent.store.test_sessions import rows

NOW = dt.datetime(2026, 12, 4, 12, 0, tzinfo=dt.timezone.utc)
SECRET = "store-test-secret-0123456789-0123456789"


def at(seconds: float) -> dt.datetime:
    return NOW + dt.timedelta(seconds=seconds)


def test_the_delay_grows_from_the_first_delay_to_its_cap():
    assert [delay(n, 5, PAIR_MAX) for n in (0, 4)] == [dt.timedelta(0)] * 2
    assert [delay(n, 5, PAIR_MAX).total_seconds() for n in range(5, 11)] == [15, 30, 60, 120, 240, 300]
    assert delay(10_000, 5, PAIR_MAX) == PAIR_MAX


async def test_a_guesser_slows_down_only_his_own_address(store):
    backoff = LoginBackoff(store.logins, SECRET)
    for n in range(PAIR_FREE):
        assert await backoff.wait("anna", "198.51.100.66", at(n)) is None
        await backoff.failed("anna", "198.51.100.66", at(n))
    assert await backoff.wait("anna", "198.51.100.66", at(PAIR_FREE)) == FIRST_DELAY - dt.timedelta(seconds=1)
    assert await backoff.wait("Anna", "198.51.100.66", at(PAIR_FREE)) is not None  # case does not dodge it
    assert await backoff.wait("anna", "203.0.113.5", at(PAIR_FREE)) is None  # the real agent elsewhere
    assert await backoff.wait("anna", "198.51.100.66", at(PAIR_FREE - 1) + FIRST_DELAY) is None  # waited
    # the typed names and the addresses are not stored, only keyed digests
    stored = " ".join(f"{row.key}" for row in await rows(store, login_failures))
    assert "anna" not in stored and "198.51.100" not in stored


async def test_many_addresses_slow_the_account_but_not_its_known_good_address(store):
    backoff = LoginBackoff(store.logins, SECRET)
    await backoff.succeeded("anna", "203.0.113.5", NOW)  # anna's usual address
    for n in range(ACCOUNT_FREE):  # one guess from each of many addresses
        address = f"198.51.100.{n + 1}"
        assert await backoff.wait("anna", address, at(n)) is None
        await backoff.failed("anna", address, at(n))
    last = at(ACCOUNT_FREE - 1)
    assert await backoff.wait("anna", "198.51.100.200", last) == FIRST_DELAY  # a new address waits
    assert await backoff.wait("anna", "203.0.113.5", last) is None  # the usual address does not
    for n in range(ACCOUNT_FREE, ACCOUNT_FREE + 10):  # the attack goes on, one try a minute
        await backoff.failed("anna", f"198.51.100.{n + 1}", at(n * 60))
    last = at((ACCOUNT_FREE + 9) * 60)
    assert await backoff.wait("anna", "198.51.100.250", last) == ACCOUNT_MAX  # never more than a minute
    assert await backoff.wait("anna", "203.0.113.5", last) is None
    assert await backoff.wait("anna", "198.51.100.250", last + DECAY) is None  # forgotten after the decay


async def test_spraying_from_one_address_does_not_stop_an_agent_who_logs_in_there(store):
    backoff = LoginBackoff(store.logins, SECRET)
    await backoff.succeeded("anna", "192.0.2.10", NOW)  # the office's shared address
    for n in range(ADDRESS_FREE):
        await backoff.failed(f"user{n}", "192.0.2.10", at(n))
    last = at(ADDRESS_FREE - 1)
    assert await backoff.wait("ben", "192.0.2.10", last) == FIRST_DELAY  # the sprayer's address waits
    assert await backoff.wait("anna", "192.0.2.10", last) is None  # a known-good pair does not
    # the same address guessing anna herself: the pair's own backoff, bounded by PAIR_MAX
    for n in range(PAIR_FREE + 10):
        await backoff.failed("anna", "192.0.2.10", at(100 + n))
    assert await backoff.wait("anna", "192.0.2.10", at(100 + PAIR_FREE + 9)) == PAIR_MAX


async def test_unknown_and_known_names_are_slowed_down_the_same(store):
    await store.agents.create("anna", "Anna", "pw-anna-123")
    backoff = LoginBackoff(store.logins, SECRET)
    for name in ("anna", "nobody"):
        for n in range(PAIR_FREE):
            await backoff.failed(name, "198.51.100.9", at(n))
    assert await backoff.wait("anna", "198.51.100.9", at(PAIR_FREE)) == await backoff.wait(
        "nobody", "198.51.100.9", at(PAIR_FREE))


async def test_a_right_password_forgets_the_pairs_failures_and_old_rows_are_pruned(store):
    backoff = LoginBackoff(store.logins, SECRET)
    for n in range(PAIR_FREE):
        await backoff.failed("anna", "203.0.113.5", at(n))
    await backoff.succeeded("anna", "203.0.113.5", at(PAIR_FREE))
    assert await backoff.wait("anna", "203.0.113.5", at(PAIR_FREE)) is None
    assert len(await rows(store, login_failures)) == 3  # pair, account, address
    assert await backoff.prune(at(PAIR_FREE) + DECAY + dt.timedelta(seconds=1)) == 2  # the pair is known-good
    assert await backoff.prune(at(PAIR_FREE) + dt.timedelta(days=31)) == 1
