"""Agents on both backends: logins, the password hash, presence and roles.

The hasher counts its verifications: every login attempt must cost one. Ending sessions on a
password or role change is in test_sessions.py.
"""

from __future__ import annotations

import pytest

from liveagent.store import ConversationState, NotFound, Transition
from tests.liveagent.store.common import NOW, CountingHasher, agent, at

S, T = ConversationState, Transition


@pytest.fixture
def store_options():
    return {"hasher": CountingHasher()}


async def test_login_checks_the_password_and_never_hands_out_the_hash(store):
    anna = await agent(store, "anna")
    for _ in range(10):  # no lockout in the store: the backoff is liveagent/login_backoff.py's
        assert await store.agents.verify_login("anna", "wrong", NOW) is None
    verified = await store.agents.verify_login("anna", "pw-anna", NOW)
    assert verified is not None and verified.id == anna and verified.active
    assert not hasattr(verified, "password_hash")
    assert await store.agents.verify_login("nobody", "pw-anna", NOW) is None


async def test_unknown_names_and_deactivated_agents_cost_one_hash_like_everyone(store):
    hasher = store.agents._hasher
    await store.agents.create("anna", "Anna", "pw-anna-123")
    await store.agents.create("ben", "Ben", "pw-ben-1234")
    await store.agents.set_active("ben", False)
    for username, password in (("anna", "wrong"), ("anna", "pw-anna-123"), ("nobody", "pw-anna-123"),
                               ("ben", "pw-ben-1234"), ("ben", "wrong")):
        before = hasher.verified
        await store.agents.verify_login(username, password)
        assert hasher.verified == before + 1, username


async def test_agents_presence_and_roles(store):
    anna = await agent(store, "anna", "online", role="supervisor")
    ben = await agent(store, "ben", "away")
    await agent(store, "cara", role="editor")
    with pytest.raises(ValueError):
        await store.agents.create("anna", "Anna", "x", "agent")
    with pytest.raises(ValueError):
        await store.agents.create("dave", "Dave", "x", "admin")
    with pytest.raises(ValueError):
        await store.agents.set_presence(anna, "busy", NOW)
    with pytest.raises(NotFound):
        await store.agents.set_presence(999, "online", NOW)

    assert [a.id for a in await store.agents.list(online_only=True)] == [anna]
    assert [a.username for a in await store.agents.list()] == ["anna", "ben", "cara"]
    updated = await store.agents.set_presence(ben, "offline", at(3))
    assert (updated.presence, updated.last_seen_at) == ("offline", at(3))
    await store.agents.touch(anna, at(4))
    assert (await store.agents.get(anna)).last_seen_at == at(4)
    assert (await store.agents.get(anna)).role == "supervisor"
    assert await store.agents.get(999) is None
