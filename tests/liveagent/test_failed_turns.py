"""A turn Rasa ends without a word (a custom action failed) and a visitor who does not wait for the
answer, against the fake Rasa: an apology with the queue button, and every answer in order."""

from __future__ import annotations

import asyncio

from liveagent import copy
from liveagent.conversations import JOIN_QUEUE_PAYLOAD, ConversationLocks
from tests.liveagent.conftest import system_answer


async def test_an_empty_answer_becomes_an_apology_with_the_queue(service, visitors, make_agent):
    await make_agent("aino")
    visitor, message = await system_answer(visitors, "tyhjä vastaus")
    assert message["text"] == copy.text("status.action_failed")
    assert message["quick_replies"] == [{"content_type": "text", "title": copy.text("buttons.join_queue"),
                                         "payload": JOIN_QUEUE_PAYLOAD}]
    await visitor.say(JOIN_QUEUE_PAYLOAD)
    status = await visitor.wait_for("status", lambda d: d["state"] == "waiting")
    assert status["position"] == 1


async def test_messages_sent_without_waiting_are_answered_in_order(service, visitors):
    visitor = await visitors()
    await visitor.connect()
    for text in ("mietippä hetki", "eka", "toka"):  # the first answer takes a second
        await visitor.say(text)
    await visitor.wait_for("bot_uttered", lambda d: d["text"] == "Botti: toka", timeout=8)
    assert [m["text"] for m in visitor.received("bot_uttered")] == [
        "Botti: mietippä hetki", "Botti: eka", "Botti: toka"]
    conversation_id = visitor.token.split(".")[0]
    sent = [entry["text"] for entry in service.rasa_log()["log"][conversation_id] if entry["kind"] == "user"]
    assert sent == ["mietippä hetki", "eka", "toka"]


async def test_conversation_locks_are_first_come_first_served_and_dropped_when_free():
    locks = ConversationLocks()
    order = []

    async def turn(name: str, hold: float) -> None:
        async with locks.hold("c1"):
            order.append(f"{name} in")
            await asyncio.sleep(hold)
            order.append(f"{name} out")

    await asyncio.gather(turn("a", 0.05), turn("b", 0), turn("c", 0))
    assert order == ["a in", "a out", "b in", "b out", "c in", "c out"]
    assert len(locks) == 0


async def test_a_task_holding_a_conversation_lock_can_take_it_again():
    locks = ConversationLocks()
    async with locks.hold("c1"):
        # The visitor handler holds it, then visitor_message takes it again: no deadlock.
        async with locks.hold("c1"):
            pass
        other = asyncio.ensure_future(_take(locks, "c1"))
        await asyncio.sleep(0.05)
        assert not other.done()  # another task waits
    await asyncio.wait_for(other, 1)
    assert len(locks) == 0


async def _take(locks: ConversationLocks, conversation_id: str) -> None:
    async with locks.hold(conversation_id):
        pass
