"""Replicas and faults of the production profile, over real processes, PostgreSQL and Redis.

A visitor on one service replica and an agent on the other chat; every message is counted
(tests/production/ledger.py): sent, received, lost, duplicated, with lost and duplicated at 0.
"Received" is what the widget or the console shows: once per message id, as both de-duplicate.
The tests share one running rehearsal and run in file order: the faults come last, the Rasa
replica kill at the very end.
"""

from __future__ import annotations

import asyncio
from typing import Tuple

import pytest

from liveagent.rasa_client import RasaClient
from tests.liveagent.conftest import Visitor
from tests.production.conftest import (
    RASA_JWT_SECRET,
    Console,
    Endpoint,
    Production,
    restart_postgres,
    restart_redis,
    shown_to_visitor,
)
from tests.production.ledger import Ledger

pytestmark = [pytest.mark.postgres, pytest.mark.redis]
ASK_FOR_HUMAN = "haluan puhua ihmisen kanssa"


async def visitor_on(endpoint: Endpoint) -> Visitor:
    visitor = Visitor(endpoint)
    await visitor.connect()
    return visitor


async def waiting_visitor(endpoint: Endpoint) -> Tuple[Visitor, str]:
    """A visitor on ``endpoint`` who asked the bot for a human and now waits in the queue."""
    visitor = await visitor_on(endpoint)
    await visitor.say(ASK_FOR_HUMAN)
    await visitor.wait_for("status", lambda d: d.get("state") == "waiting", timeout=60)
    return visitor, visitor.token.split(".")[0]


async def claimed_chat(production: Production, console: Console) -> Tuple[Visitor, str]:
    """A visitor on replica 1 in a chat claimed by ``console``'s agent (on whichever replica)."""
    # The module's earlier tests leave their chats with the agent; a claim beyond the agent's capacity
    # (3) is refused, so the agent first closes what it still holds.
    held = (await (await console.agent.call("GET", "/conversations")).json())["conversations"]
    for chat in held:
        response = await console.agent.call("POST", f"/conversations/{chat['id']}/close")
        assert response.status == 200, await response.text()
    visitor, conversation = await waiting_visitor(production.replica(0))
    await console.wait_for(lambda e: e.get("type") == "queue"
                           and any(c["id"] == conversation for c in e["conversations"]))
    response = await console.agent.call("POST", f"/conversations/{conversation}/claim")
    assert response.status == 200, await response.text()
    await visitor.wait_for("status", lambda d: d.get("state") == "assigned", timeout=15)
    return visitor, conversation


async def exchange(ledger: Ledger, visitor: Visitor, console: Console, conversation: str, rounds: int,
                   pause: float = 1.0) -> None:
    """``rounds`` messages each way between the visitor and the agent, recorded in ``ledger``.

    One message a second each way: the visitor's rate limit (a burst of 8, then 1 a second) would
    rightly refuse a faster typist.
    """
    for index in range(rounds):
        await visitor.say(ledger.new("visitor", "agent", f"kysymys {index}"))
        response = await console.agent.call("POST", f"/conversations/{conversation}/messages",
                                            {"text": ledger.new("agent", "visitor", f"vastaus {index}")})
        assert response.status == 201, await response.text()
        if pause:
            await asyncio.sleep(pause)


async def settle(ledger: Ledger, visitor: Visitor, console: Console, conversation: str,
                 timeout: float = 30.0) -> None:
    """Waits until nothing is missing (or time runs out), then counts what each party was shown."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        ledger.seen.clear()
        for message in shown_to_visitor(visitor):
            if message.get("sender") == "agent":
                ledger.saw("visitor", message.get("text"))
        for message in console.messages(conversation):
            if message.get("sender") == "visitor":
                ledger.saw("agent", message.get("text"))
        if not ledger.lost() or loop.time() > deadline:
            return
        await asyncio.sleep(0.2)


async def test_visitor_and_agent_on_different_replicas_chat_exactly_once(production: Production) -> None:
    console = await Console.open(production.replica(1), "aino")
    try:
        visitor, conversation = await claimed_chat(production, console)
        ledger = Ledger("replicas")
        await exchange(ledger, visitor, console, conversation, rounds=10)
        await settle(ledger, visitor, console, conversation)
        ledger.assert_exact()
        # Rasa's transcript (shared tracker store) is the third party: each message once, in order.
        rasa = RasaClient(production.layout.rasa_urls, RASA_JWT_SECRET, 10)
        await rasa.open()
        try:
            events = await rasa.tracker_events(conversation)
        finally:
            await rasa.close()
        for kind, sender in (("user", "visitor"), ("bot", "agent")):  # each side's own order is kept
            recorded = [e["text"] for e in events if e.get("event") == kind and "[replicas-" in (e.get("text") or "")]
            expected = [f"{text} {marker}" for marker, text in ledger.texts() if f"-{sender}-" in marker]
            assert recorded == expected, (kind, recorded)
        await visitor.close()
    finally:
        await console.close()


async def test_a_claim_race_across_replicas_has_exactly_one_winner(production: Production) -> None:
    aino = await Console.open(production.replica(0), "aino")
    ville = await Console.open(production.replica(1), "ville")
    try:
        for _ in range(5):
            visitor, conversation = await waiting_visitor(production.replica(0))
            statuses = await asyncio.gather(*(
                console.agent.call("POST", f"/conversations/{conversation}/claim") for console in (aino, ville)))
            codes = sorted(response.status for response in statuses)
            assert codes == [200, 409], codes
            winner = (aino, ville)[[r.status for r in statuses].index(200)]
            detail = await (await winner.agent.call("GET", f"/conversations/{conversation}")).json()
            assert detail["conversation"]["agent_id"] == winner.agent.me["id"]
            await winner.agent.call("POST", f"/conversations/{conversation}/close")
            await visitor.close()
    finally:
        await aino.close()
        await ville.close()


async def test_through_nginx_visitor_and_agent_on_their_own_replicas_chat_exactly_once(production: Production) -> None:
    """The path browsers take: nginx in front (deploy/nginx/rehearsal.conf.template), websockets through it."""
    console = await Console.open(production.edge, "ville")
    visitor = None
    try:
        visitor, conversation = await waiting_visitor(production.edge)
        await console.wait_for(lambda e: e.get("type") == "queue"
                               and any(c["id"] == conversation for c in e["conversations"]))
        assert (await console.agent.call("POST", f"/conversations/{conversation}/claim")).status == 200
        await visitor.wait_for("status", lambda d: d.get("state") == "assigned", timeout=15)
        ledger = Ledger("nginx")
        await exchange(ledger, visitor, console, conversation, rounds=4)
        await settle(ledger, visitor, console, conversation)
        ledger.assert_exact()
        upstreams = set(production.upstreams())
        assert upstreams <= {f"127.0.0.1:{port}" for port in production.layout.services}, upstreams
    finally:
        if visitor is not None:
            await visitor.close()
        await console.close()


@pytest.mark.parametrize("restart", [restart_redis, restart_postgres], ids=["redis", "postgres"])
async def test_a_redis_or_postgres_restart_mid_chat_loses_and_duplicates_nothing(production: Production,
                                                                                   restart) -> None:
    console = await Console.open(production.replica(1), "aino")
    try:
        visitor, conversation = await claimed_chat(production, console)
        ledger = Ledger(f"{restart.__name__}")
        await exchange(ledger, visitor, console, conversation, rounds=4)
        chatting = asyncio.create_task(exchange(ledger, visitor, console, conversation, rounds=8))
        took = await asyncio.to_thread(restart)
        await chatting
        await exchange(ledger, visitor, console, conversation, rounds=4)
        await settle(ledger, visitor, console, conversation)
        print(f"{restart.__name__} took {took:.1f} s")
        ledger.assert_exact()
        await visitor.close()
    finally:
        await console.close()


async def test_service_restart_during_an_agent_chat_loses_nothing(production: Production) -> None:
    """The visitor's replica is killed (-9) and started again; the widget reconnects and catches up."""
    console = await Console.open(production.replica(1), "aino")
    try:
        visitor, conversation = await claimed_chat(production, console)
        ledger = Ledger("service-restart")
        await exchange(ledger, visitor, console, conversation, rounds=4)
        production.specs["liveagent-1"].kill()
        for index in range(5):  # the agent keeps writing while the visitor's replica is down
            response = await console.agent.call("POST", f"/conversations/{conversation}/messages",
                                                {"text": ledger.new("agent", "visitor", f"odotatko {index}")})
            assert response.status == 201, await response.text()
        await asyncio.to_thread(production.start_again, "liveagent-1")
        await visitor.connect(visitor.token)  # as the widget does: same session, last seen message id
        await exchange(ledger, visitor, console, conversation, rounds=4)
        await settle(ledger, visitor, console, conversation)
        ledger.assert_exact()
        await visitor.close()
    finally:
        await console.close()


async def test_killing_one_rasa_replica_leaves_the_other_answering(production: Production) -> None:
    visitors = [await visitor_on(production.replica(i % 2)) for i in range(4)]
    ledger = Ledger("rasa-kill")
    questions = ["mitä kuuluu", "miten liitteet lähetetään", "kiitos", "moi"]

    async def ask(visitor: Visitor, text: str) -> None:
        answered = len(visitor.received("bot_uttered"))
        await visitor.say(text)
        await visitor.wait_for("bot_uttered", lambda d: d.get("sender") in ("bot", "system"), timeout=30)
        # the bot's first reply to this question is what the visitor was waiting for
        deadline = asyncio.get_running_loop().time() + 30
        while len(visitor.received("bot_uttered")) <= answered:
            assert asyncio.get_running_loop().time() < deadline, "no answer"
            await asyncio.sleep(0.05)

    for visitor in visitors:
        await ask(visitor, questions[0])
    production.specs["rasa-1"].kill()
    for round_ in range(3):
        for visitor, question in zip(visitors, questions, strict=True):
            text = ledger.new("visitor", "bot", question)
            await ask(visitor, text)
            ledger.saw("bot", text)  # Rasa got it: an answer came back
            answers = visitor.received("bot_uttered")
            unavailable = [a for a in answers if a.get("sender") == "system"]
            assert not unavailable, f"round {round_}: the visitor was told the bot is away: {unavailable}"
    ledger.assert_exact()
    for visitor in visitors:
        await visitor.close()

