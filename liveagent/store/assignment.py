"""Who gets a chat: the queue's order, the choice of agent and the lock every assignment holds.

Pure rules plus one lock, used by the repositories (``Conversations.assign_waiting``, ``transition``
for claims and transfers, ``Agents.set_presence`` and ``set_capacity``):

- **The queue's order** is ``QUEUE_ORDER``: higher ``priority`` first (decided at escalation from
  liveagent/priorities.py), then the longest wait, then the id. The console's queue, the chat an
  automatic assignment takes next and the place each visitor is told all read it (``Conversations.queue``
  and ``queue_position``), so they cannot disagree. Priorities live in the rows, so every replica
  orders the same chats the same way.
- **The agent** for a chat (``choose_agent``): online, below capacity, the fewest active chats; ties go
  to the one whose last chat came longest ago (never had one: first).
- **One assignment at a time** (``hold_assignment_lock``): every change that gives an agent a chat or
  changes whether they may get one (claim, transfer, automatic assignment, presence, capacity) runs
  in a transaction that first takes this lock. On PostgreSQL it is a transaction-level advisory lock,
  shared by every replica; on SQLite the write transaction itself (BEGIN IMMEDIATE) already excludes
  every other writer. Counting an agent's chats and giving them one more is therefore never
  interleaved with another assignment, so nobody ends up over capacity, and an assignment pass that
  starts after a change has committed sees it (no chat is left waiting beside a free agent because
  two replicas each looked before the other wrote).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import Any, Collection, Iterable, Optional, Tuple

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from liveagent.store.schema import conversations

ASSIGNMENT_LOCK = 0x6C756D6F_61737367  # "lumoassg": the PostgreSQL advisory lock key of every assignment

_c = conversations.c
QUEUE_ORDER: Tuple[Any, ...] = (_c.priority.desc(), _c.waiting_since, _c.id)
"""The order of the queue: the one definition every reader of the queue uses (see the module doc)."""

_EARLIEST = dt.datetime.min.replace(tzinfo=dt.timezone.utc)


async def hold_assignment_lock(conn: AsyncConnection) -> None:
    """Takes the assignment lock for the rest of ``conn``'s transaction (a write transaction)."""
    if conn.dialect.name == "postgresql":
        await conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": ASSIGNMENT_LOCK})
    # SQLite: the write transaction (BEGIN IMMEDIATE, one writer per process) is the lock


@dataclass(frozen=True)
class AgentLoad:
    """An online agent as an assignment sees them."""

    agent_id: int
    capacity: int
    active: int  # conversations assigned to them now
    last_assigned_at: Optional[dt.datetime]  # when a chat last came to them (None: never)

    @property
    def has_room(self) -> bool:
        return self.active < self.capacity

    def with_one_more(self, now: dt.datetime) -> "AgentLoad":
        return dataclasses.replace(self, active=self.active + 1, last_assigned_at=now)


def choose_agent(loads: Iterable[AgentLoad], exclude: Collection[int] = ()) -> Optional[AgentLoad]:
    """The agent who gets the next chat: room below capacity, the fewest active chats; ties go to the
    one whose last chat came longest ago (never had one: first), then the lower id. ``exclude``: agents
    who may not get this chat (the one who just let it go unanswered). None: nobody has room."""
    candidates = [load for load in loads if load.has_room and load.agent_id not in exclude]
    if not candidates:
        return None
    return min(candidates, key=lambda load: (load.active, load.last_assigned_at or _EARLIEST, load.agent_id))
