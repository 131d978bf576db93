"""What the store tests share: a fixed clock, cheap password hashing and a few conversations set up."""

from __future__ import annotations

import datetime as dt

from argon2 import PasswordHasher

from liveagent.store import Store, Transition

T = Transition
NOW = dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.timezone.utc)
# cheap argon2 parameters: the tests check the login logic, not the hash strength
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


class CountingHasher(PasswordHasher):
    """Cheap argon2 that counts verifications: every login attempt must cost one."""

    def __init__(self) -> None:
        super().__init__(time_cost=1, memory_cost=1024, parallelism=1)
        self.verified = 0

    def verify(self, hash, password):  # type: ignore[no-untyped-def, override]
        self.verified += 1
        return super().verify(hash, password)


HANDOFF = {  # the bot's handoff signal, docs/handoff.md
    "version": 1,
    "reason": "visitor_request",
    "conversation_id": "visitor-1",
    "summary": {
        "intents": ["request_human"],
        "last_messages": ["haluan puhua ihmisen kanssa"],
        "customer": {"verified": True, "customer_id": "LUMO-1004"},
        "turns": 1,
    },
}


def at(minutes: float) -> dt.datetime:
    return NOW + dt.timedelta(minutes=minutes)


async def agent(store: Store, username: str, presence: str = "offline", role: str = "agent") -> int:
    created = await store.agents.create(username, username.capitalize(), f"pw-{username}", role)
    if presence != "offline":
        await store.agents.set_presence(created.id, presence, NOW)
    return created.id


async def waiting(store: Store, conversation_id: str, minutes: float = 0) -> None:
    await store.conversations.get_or_create(conversation_id, now=at(minutes))
    await store.conversations.transition(conversation_id, T.ESCALATE, reason="visitor_request", now=at(minutes))


async def assigned(store: Store, conversation_id: str, agent_id: int, minutes: float = 0) -> None:
    await waiting(store, conversation_id, minutes)
    await store.conversations.transition(conversation_id, T.CLAIM, agent_id=agent_id, now=at(minutes))
