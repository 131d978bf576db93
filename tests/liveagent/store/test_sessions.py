"""Agent sessions against the real Store, on SQLite and PostgreSQL.

The clock is passed in, so idle timeouts and lifetimes are checked exactly, without waiting. The
service-level attacks are in tests/security/test_sessions.py.
"""

from __future__ import annotations

import datetime as dt

import pytest

from liveagent.store import NotFound, Store
from liveagent.store.schema import agent_sessions
from tests.liveagent.store.common import CountingHasher

NOW = dt.datetime(2026, 12, 4, 12, 0, tzinfo=dt.timezone.utc)


IDLE = dt.timedelta(minutes=30)


TOUCH = dt.timedelta(minutes=1)


LIFETIME = dt.timedelta(hours=10)


def at(seconds: float) -> dt.datetime:
    return NOW + dt.timedelta(seconds=seconds)


@pytest.fixture
def store_options():
    return {"hasher": CountingHasher()}


async def rows(store: Store, table) -> list:
    async with store.engine.connect() as conn:
        return list((await conn.execute(table.select())).all())


async def test_a_session_lives_until_idle_or_its_lifetime_ends(store):
    anna = await store.agents.create("anna", "Anna", "pw-anna-123")
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
    anna = await store.agents.create("anna", "Anna", "pw-anna-123")
    sid = await store.sessions.start(anna.id, LIFETIME, now=NOW)
    for second in range(0, 59, 5):
        assert await store.sessions.check(sid, anna.id, IDLE, TOUCH, now=at(second))
    [row] = await rows(store, agent_sessions)
    assert row.last_seen_at == NOW
    assert await store.sessions.check(sid, anna.id, IDLE, TOUCH, now=at(61))
    [row] = await rows(store, agent_sessions)
    assert row.last_seen_at == at(61)


async def test_password_role_and_deactivation_end_every_session_of_that_agent_only(store):
    anna = await store.agents.create("anna", "Anna", "pw-anna-123")
    ben = await store.agents.create("ben", "Ben", "pw-ben-1234")
    bens = await store.sessions.start(ben.id, LIFETIME)

    async def two_sessions() -> list:
        return [await store.sessions.start(anna.id, LIFETIME) for _ in range(2)]

    async def live(sessions: list, agent_id: int = anna.id) -> list:
        return [await store.sessions.check(s, agent_id, IDLE, TOUCH) for s in sessions]

    sessions = await two_sessions()
    assert await live(sessions) == [True, True]
    assert await store.sessions.live(set(sessions) | {bens}, IDLE) == set(sessions) | {bens}
    await store.agents.set_password("anna", "new-password-456")
    assert await live(sessions) == [False, False]
    assert await store.sessions.live(set(sessions) | {bens}, IDLE) == {bens}
    assert await store.agents.verify_login("anna", "pw-anna-123") is None
    assert (await store.agents.verify_login("anna", "new-password-456")).id == anna.id

    sessions = await two_sessions()
    changed = await store.agents.set_role("anna", "supervisor")
    assert changed.role == "supervisor" and await live(sessions) == [False, False]
    with pytest.raises(ValueError):
        await store.agents.set_role("anna", "admin")

    sessions = await two_sessions()
    await store.agents.set_active("anna", False)
    assert await live(sessions) == [False, False]
    assert await store.agents.verify_login("anna", "new-password-456") is None  # the right password, deactivated
    meanwhile = await store.sessions.start(anna.id, LIFETIME)
    assert await live([meanwhile]) == [False]
    await store.agents.set_active("anna", True)
    assert (await store.agents.verify_login("anna", "new-password-456")).id == anna.id
    assert await live(sessions + [meanwhile]) == [False] * 3  # activating revives no old session

    sessions = await two_sessions()
    assert await store.sessions.end_agent(anna.id, "logout") == 2
    assert await live(sessions) == [False, False]
    assert await live([bens], ben.id) == [True]  # ben was never touched
    reasons = {row.end_reason for row in await rows(store, agent_sessions) if row.agent_id == anna.id}
    assert reasons == {"password", "role", "deactivated", "logout"}
    with pytest.raises(NotFound):
        await store.agents.set_password("nobody", "whatever-123")


async def test_pruning_keeps_live_sessions(store):
    anna = await store.agents.create("anna", "Anna", "pw-anna-123")
    old = await store.sessions.start(anna.id, LIFETIME, now=NOW - dt.timedelta(days=3))
    ended = await store.sessions.start(anna.id, LIFETIME, now=NOW)
    await store.sessions.end(ended, "logout", now=NOW)
    live = await store.sessions.start(anna.id, LIFETIME, now=NOW)
    assert await store.sessions.prune(now=NOW + dt.timedelta(hours=12)) == 1  # only the expired one
    assert await store.sessions.prune(now=NOW + dt.timedelta(days=2)) == 2  # now also the ended one and ...
    assert old and live and await rows(store, agent_sessions) == []  # ... the one whose lifetime is long over
