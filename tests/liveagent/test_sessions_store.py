"""Agent sessions and the login backoff against the real Store, on SQLite and PostgreSQL.

The clock is passed in, so idle timeouts, lifetimes and backoff delays are checked exactly,
without waiting. The service-level attacks are in tests/security/test_sessions.py.
"""

from __future__ import annotations

import datetime as dt

import pytest
from argon2 import PasswordHasher

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
from liveagent.store import NotFound, Store
from liveagent.store.schema import agent_sessions, login_failures
from tests.liveagent.databases import postgres_database

NOW = dt.datetime(2026, 12, 4, 12, 0, tzinfo=dt.timezone.utc)
IDLE = dt.timedelta(minutes=30)
TOUCH = dt.timedelta(minutes=1)
LIFETIME = dt.timedelta(hours=10)
SECRET = "store-test-secret-0123456789-0123456789"


class CountingHasher(PasswordHasher):
    """Cheap argon2 that counts verifications: every login attempt must cost one."""

    def __init__(self) -> None:
        super().__init__(time_cost=1, memory_cost=1024, parallelism=1)
        self.verified = 0

    def verify(self, hash, password):  # type: ignore[no-untyped-def, override]
        self.verified += 1
        return super().verify(hash, password)


def at(seconds: float) -> dt.datetime:
    return NOW + dt.timedelta(seconds=seconds)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def store(request, tmp_path):
    if request.param == "sqlite":
        opened = await Store.open(f"sqlite+aiosqlite:///{tmp_path}/sessions.sqlite", hasher=CountingHasher())
        yield opened
        await opened.close()
        return
    with postgres_database("sessions_store") as url:
        opened = await Store.open(url, hasher=CountingHasher())
        yield opened
        await opened.close()


async def rows(store: Store, table) -> list:
    async with store.engine.connect() as conn:
        return list((await conn.execute(table.select())).all())


# sessions


async def test_a_session_lives_until_idle_or_its_lifetime_ends(store):
    anna = await store.create_agent("anna", "Anna", "pw-anna-123")
    sid = await store.sessions.start(anna.id, LIFETIME, now=NOW)
    assert sid not in {row.id for row in await rows(store, agent_sessions)}  # only its digest is stored
    check = store.sessions.check
    assert await check(sid, anna.id, IDLE, TOUCH, now=at(29 * 60))  # used: idle counts from here
    assert await check(sid, anna.id, IDLE, TOUCH, now=at(58 * 60))
    assert not await check(sid, anna.id + 1, IDLE, TOUCH, now=at(58 * 60))  # another agent's id
    assert not await check("made-up", anna.id, IDLE, TOUCH, now=at(58 * 60))
    assert not await check(sid, anna.id, IDLE, TOUCH, now=at(58 * 60 + 30 * 60 + 1))  # idle
    assert not await check(sid, anna.id, dt.timedelta(days=1), TOUCH, now=at(58 * 60 + 30 * 60 + 2))  # stays ended
    [row] = await rows(store, agent_sessions)
    assert row.end_reason == "idle"

    busy = await store.sessions.start(anna.id, LIFETIME, now=NOW)
    for minute in range(0, 10 * 60, 20):  # used every 20 minutes, never idle
        assert await check(busy, anna.id, IDLE, TOUCH, now=at(minute * 60))
    assert not await check(busy, anna.id, IDLE, TOUCH, now=at(10 * 3600))  # the absolute lifetime
    assert {row.end_reason for row in await rows(store, agent_sessions)} == {"idle", "expired"}


async def test_touching_is_written_at_most_once_per_interval(store):
    anna = await store.create_agent("anna", "Anna", "pw-anna-123")
    sid = await store.sessions.start(anna.id, LIFETIME, now=NOW)
    for second in range(0, 59, 5):
        assert await store.sessions.check(sid, anna.id, IDLE, TOUCH, now=at(second))
    [row] = await rows(store, agent_sessions)
    assert row.last_seen_at == NOW
    assert await store.sessions.check(sid, anna.id, IDLE, TOUCH, now=at(61))
    [row] = await rows(store, agent_sessions)
    assert row.last_seen_at == at(61)


async def test_password_role_and_deactivation_end_every_session_of_that_agent_only(store):
    anna = await store.create_agent("anna", "Anna", "pw-anna-123")
    ben = await store.create_agent("ben", "Ben", "pw-ben-1234")
    bens = await store.sessions.start(ben.id, LIFETIME)

    async def two_sessions() -> list:
        return [await store.sessions.start(anna.id, LIFETIME) for _ in range(2)]

    async def live(sessions: list, agent_id: int = anna.id) -> list:
        return [await store.sessions.check(s, agent_id, IDLE, TOUCH) for s in sessions]

    sessions = await two_sessions()
    assert await live(sessions) == [True, True]
    assert await store.sessions.live(set(sessions) | {bens}, IDLE) == set(sessions) | {bens}
    await store.set_password("anna", "new-password-456")
    assert await live(sessions) == [False, False]
    assert await store.sessions.live(set(sessions) | {bens}, IDLE) == {bens}
    assert await store.verify_login("anna", "pw-anna-123") is None
    assert (await store.verify_login("anna", "new-password-456")).id == anna.id

    sessions = await two_sessions()
    changed = await store.set_role("anna", "supervisor")
    assert changed.role == "supervisor" and await live(sessions) == [False, False]
    with pytest.raises(ValueError):
        await store.set_role("anna", "admin")

    sessions = await two_sessions()
    await store.set_active("anna", False)
    assert await live(sessions) == [False, False]
    assert await store.verify_login("anna", "new-password-456") is None  # the right password, deactivated
    meanwhile = await store.sessions.start(anna.id, LIFETIME)
    assert await live([meanwhile]) == [False]
    await store.set_active("anna", True)
    assert (await store.verify_login("anna", "new-password-456")).id == anna.id
    assert await live(sessions + [meanwhile]) == [False] * 3  # activating revives no old session

    sessions = await two_sessions()
    assert await store.sessions.end_agent(anna.id, "logout") == 2
    assert await live(sessions) == [False, False]
    assert await live([bens], ben.id) == [True]  # ben was never touched
    reasons = {row.end_reason for row in await rows(store, agent_sessions) if row.agent_id == anna.id}
    assert reasons == {"password", "role", "deactivated", "logout"}
    with pytest.raises(NotFound):
        await store.set_password("nobody", "whatever-123")


async def test_unknown_names_and_deactivated_agents_cost_one_hash_like_everyone(store):
    hasher = store._hasher
    await store.create_agent("anna", "Anna", "pw-anna-123")
    await store.create_agent("ben", "Ben", "pw-ben-1234")
    await store.set_active("ben", False)
    for username, password in (("anna", "wrong"), ("anna", "pw-anna-123"), ("nobody", "pw-anna-123"),
                               ("ben", "pw-ben-1234"), ("ben", "wrong")):
        before = hasher.verified
        await store.verify_login(username, password)
        assert hasher.verified == before + 1, username


async def test_pruning_keeps_live_sessions(store):
    anna = await store.create_agent("anna", "Anna", "pw-anna-123")
    old = await store.sessions.start(anna.id, LIFETIME, now=NOW - dt.timedelta(days=3))
    ended = await store.sessions.start(anna.id, LIFETIME, now=NOW)
    await store.sessions.end(ended, "logout", now=NOW)
    live = await store.sessions.start(anna.id, LIFETIME, now=NOW)
    assert await store.sessions.prune(now=NOW + dt.timedelta(hours=12)) == 1  # only the expired one
    assert await store.sessions.prune(now=NOW + dt.timedelta(days=2)) == 2  # now also the ended one and ...
    assert old and live and await rows(store, agent_sessions) == []  # ... the one whose lifetime is long over


# login backoff


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
    await store.create_agent("anna", "Anna", "pw-anna-123")
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


# settings


def test_session_settings_and_console_origins():
    from liveagent.settings import Settings, SettingsError

    base = {"LIVEAGENT_SECRET": "s" * 40, "LUMO_JWT_KEY": "k" * 40, "LUMO_ENV": "demo"}
    default = Settings.from_env(base)
    assert (default.session_idle_minutes, default.session_max_hours, default.session_check_seconds) == (30, 10, 5)
    assert default.console_origins == ("http://localhost:8000",)  # the public URL
    assert Settings.from_env({**base, "LIVEAGENT_PUBLIC_URL": "https://chat.lumo.example/"}).console_origins == (
        "https://chat.lumo.example",)
    listed = Settings.from_env({**base, "LIVEAGENT_CONSOLE_ORIGINS": "https://a.example/, https://b.example"})
    assert listed.console_origins == ("https://a.example", "https://b.example")
    for value in ("0", "-1", "soon"):
        with pytest.raises(SettingsError, match="LIVEAGENT_SESSION_IDLE_MINUTES"):
            Settings.from_env({**base, "LIVEAGENT_SESSION_IDLE_MINUTES": value})
