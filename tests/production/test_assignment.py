"""Automatic assignment across two service replicas on PostgreSQL and Redis, capacity 1.

Visitors on both replicas ask for a human at the same moment; then both agents free their slot at the
same moment on different replicas while more visitors escalate. Each time the database shows every
agent holding exactly one chat (never two: capacity 1), every chat given to one agent once, the
oldest waiting chats served first, and every waiting visitor told their true place.
"""

from __future__ import annotations

import asyncio
from typing import Dict, List, Tuple

import psycopg2
import pytest

from tests.liveagent.conftest import Visitor, eventually
from tests.production.conftest import SERVICE_DB, Console, Endpoint, Production

pytestmark = [pytest.mark.postgres, pytest.mark.redis]
SERVICE_ENV = {"LIVEAGENT_ASSIGNMENT": "auto"}  # this module's rehearsal (tests/production/conftest.py)
ASK_FOR_HUMAN = "haluan puhua ihmisen kanssa"


def database() -> Tuple[Dict[int, int], Dict[str, int], List[str]]:
    """From the service's database: chats per agent, hand-overs to an agent per chat, the queue in order."""
    connection = psycopg2.connect(host="127.0.0.1", port=5432, user="postgres", dbname=SERVICE_DB, connect_timeout=5)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT agent_id, count(*) FROM conversations WHERE state = 'assigned' GROUP BY agent_id")
            held = dict(cursor.fetchall())
            cursor.execute("SELECT conversation_id, count(*) FROM conversation_events WHERE to_state = 'assigned' "
                           "GROUP BY conversation_id")
            given = dict(cursor.fetchall())
            cursor.execute("SELECT id FROM conversations WHERE state = 'waiting' "
                           "ORDER BY priority DESC, waiting_since, id")
            waiting = [row[0] for row in cursor.fetchall()]
    finally:
        connection.close()
    return held, given, waiting


async def visitor_on(endpoint: Endpoint) -> Visitor:
    visitor = Visitor(endpoint)
    await visitor.connect()
    return visitor


def latest_status(visitor: Visitor) -> dict:
    """The line the visitor's widget shows: the latest of the newest conversation version (an older
    version's line arriving late is dropped, liveagent/static/widget/chat.js ``applyStatus``)."""
    shown: dict = {}
    for status in visitor.received("status"):
        if status.get("state") and status.get("version", 0) >= shown.get("version", 0):
            shown = status
    return shown


async def mine(console: Console) -> List[str]:
    return [c["id"] for c in (await (await console.agent.call("GET", "/conversations")).json())["conversations"]]


async def settled(consoles: List[Console], visitors: List[Visitor], expect_waiting: int) -> List[str]:
    """Until every agent holds one chat, ``expect_waiting`` wait, and each visitor's status says where
    they are (the queue: from the database); returns the queue."""
    ids = {visitor.token.split(".")[0]: visitor for visitor in visitors}

    async def ready() -> bool:
        held, _given, waiting = database()
        if sorted(held.values()) != [1] * len(consoles) or len(waiting) != expect_waiting:
            return False
        for conversation_id, visitor in ids.items():
            status = latest_status(visitor)
            if conversation_id in waiting:
                if (status.get("state"), status.get("position")) != ("waiting", waiting.index(conversation_id) + 1):
                    return False
            elif status.get("state") not in ("assigned", "closed"):
                return False
        return True

    try:
        await eventually(ready, timeout=90)
    except AssertionError:
        statuses = {conversation_id: latest_status(visitor) for conversation_id, visitor in ids.items()}
        raise AssertionError(f"not settled: database {database()}, visitors {statuses}") from None
    return database()[2]


async def test_concurrent_escalations_and_freed_slots_on_both_replicas(production: Production) -> None:
    aino = await Console.open(production.replica(0), "aino")
    ville = await Console.open(production.replica(1), "ville")
    consoles = [aino, ville]
    visitors: List[Visitor] = []
    try:
        for console in consoles:  # the supervisor sets capacity 1 for both
            response = await ville.agent.call("PUT", f"/agents/{console.agent.me['id']}/capacity", {"capacity": 1})
            assert response.status == 200, await response.text()
        visitors = [await visitor_on(production.replica(n % 2)) for n in range(6)]
        await asyncio.gather(*(visitor.say(ASK_FOR_HUMAN) for visitor in visitors))
        queue = await settled(consoles, visitors, expect_waiting=4)
        held, given, _ = database()
        assert held == {aino.agent.me["id"]: 1, ville.agent.me["id"]: 1}
        assert set(given.values()) == {1}  # each chat went to one agent, once
        chats = {console.agent.me["username"]: await mine(console) for console in consoles}
        assert [len(c) for c in chats.values()] == [1, 1] and chats["aino"] != chats["ville"]
        # the agents see the queue in the order the database keeps (what visitors were told)
        listed = [c["id"] for c in (await (await aino.agent.call("GET", "/queue")).json())["conversations"]]
        assert listed == queue

        # both free their slot at once, on different replicas, while two more visitors escalate
        later = [await visitor_on(production.replica(n % 2)) for n in range(2)]
        visitors += later
        closes = [console.agent.call("POST", f"/conversations/{chats[console.agent.me['username']][0]}/close")
                  for console in consoles]
        answers = await asyncio.gather(*closes, *(visitor.say(ASK_FOR_HUMAN) for visitor in later))
        assert [response.status for response in answers[:2]] == [200, 200]
        remaining = await settled(consoles, visitors, expect_waiting=4)
        newly = {chat for console in consoles for chat in await mine(console)}
        assert newly == set(queue[:2])  # the two that had waited longest, at once
        assert remaining[:2] == queue[2:]  # ahead of those who came later
        assert set(remaining[2:]) == {visitor.token.split(".")[0] for visitor in later}
        held, given, _ = database()
        assert sorted(held.values()) == [1, 1] and set(given.values()) == {1}
    finally:
        for visitor in visitors:
            await visitor.close()
        for console in consoles:
            await console.close()
