"""The response-time limit: a chat whose agent has not written to the visitor within
LIVEAGENT_RESPONSE_LIMIT_SECONDS of getting it moves on, the agent is told why, and an agent who
misses the limit twice in a row is set away. The visitor's place and wait stay truthful.

ConversationService over a real Store (SQLite) whose clock the test moves (no sleeping); the visitor
room, the agents' hub and Rasa are recorded (tests/liveagent/test_notify.py's desk). The sweep that
calls ``response_limit_sweep`` is the app's (liveagent/app.py ``sweep``); the last test runs it.
"""

from __future__ import annotations

import datetime as dt
from typing import List

import pytest

from liveagent import copy
from liveagent.store import Agent, ConversationState, Store, Transition
from tests.liveagent.store.common import FAST_HASHER, NOW
from tests.liveagent.test_notify import HANDOFF, Desk

S, T = ConversationState, Transition
LIMIT = 90  # the default


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> dt.datetime:
        return self.now

    def passes(self, seconds: float) -> dt.datetime:
        self.now += dt.timedelta(seconds=seconds)
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


async def open_desk(tmp_path, clock: Clock, assignment: str) -> Desk:
    url = f"sqlite+aiosqlite:///{tmp_path}/limit-{assignment}.sqlite"
    store = await Store.open(url, hasher=FAST_HASHER, clock=clock)
    return Desk(store, assignment)


@pytest.fixture
async def desk(tmp_path, clock):
    desk = await open_desk(tmp_path, clock, "auto")
    try:
        yield desk
    finally:
        await desk.store.close()


@pytest.fixture
async def manual_desk(tmp_path, clock):
    desk = await open_desk(tmp_path, clock, "manual")
    try:
        yield desk
    finally:
        await desk.store.close()


async def capacity(desk: Desk, agent: Agent, value: int) -> Agent:
    return await desk.store.agents.set_capacity(agent.id, value)


async def escalate(desk: Desk, conversation_id: str) -> None:
    conversation = await desk.store.conversations.get_or_create(conversation_id)
    await desk.service.escalate(conversation, "visitor_request", HANDOFF)


async def holder(desk: Desk, conversation_id: str):
    conversation = await desk.store.conversations.find(conversation_id)
    return conversation.state, conversation.agent_id


def notices(desk: Desk, agent: Agent) -> List[str]:
    return [event["text"] for event in desk.hub.to(agent.id, "notice")]


async def notes(desk: Desk, conversation_id: str) -> List[str]:
    return [m.text for m in await desk.store.messages.transcript(conversation_id) if m.kind == "note"]


async def test_an_unanswered_chat_goes_to_the_next_agent_and_the_first_is_told_why(desk, clock):
    aino = await desk.agent("aino", "Aino")
    ville = await capacity(desk, await desk.agent("ville", "Ville"), 0)
    await escalate(desk, "c1")
    assert await holder(desk, "c1") == (S.ASSIGNED, aino.id)
    await capacity(desk, ville, 3)
    clock.passes(LIMIT - 1)
    assert await desk.service.response_limit_sweep(clock.now) == 0  # within the limit
    desk.forget()

    assert await desk.service.response_limit_sweep(clock.passes(2)) == 1
    assert await holder(desk, "c1") == (S.ASSIGNED, ville.id)
    why = copy.text("notices.response_limit_transferred", agent_name="Ville", seconds=LIMIT)
    assert notices(desk, aino) == [why]
    assert [e["conversation"]["agent_id"] for e in desk.hub.to(aino.id, "state")] == [ville.id]  # not hers now
    assert why in [e["message"]["text"] for e in desk.hub.to(ville.id, "message")]  # the new holder sees why
    assert await notes(desk, "c1") == [why]
    # the visitor hears who has the chat now, and never the note
    assert [m["text"] for m in desk.room.of("bot_uttered", "c1")] == [
        copy.text("status.transferred", agent_name="Ville")]
    assert desk.room.of("status", "c1")[-1]["agent_name"] == "Ville"
    last = (await desk.store.conversations.events("c1"))[-1]
    assert (last.transition, last.agent_id) == (T.TRANSFER, ville.id)
    assert (await desk.store.agents.get(aino.id)).missed_in_row == 1
    # ville's own time starts now: he is not over the limit at once
    assert await desk.service.response_limit_sweep(clock.passes(LIMIT - 1)) == 0


async def test_a_note_is_no_answer_and_a_reply_within_the_limit_keeps_the_chat(desk, clock):
    aino, ville = await desk.agent("aino", "Aino"), await desk.agent("ville", "Ville")
    await escalate(desk, "c1")
    assert await holder(desk, "c1") == (S.ASSIGNED, aino.id)
    clock.passes(30)
    await desk.service.note(await desk.store.conversations.find("c1"), aino, "Tarkistan asiakkaan tiedot.")
    assert await desk.service.response_limit_sweep(clock.passes(LIMIT)) == 1
    assert await holder(desk, "c1") == (S.ASSIGNED, ville.id)
    clock.passes(LIMIT - 1)
    await desk.service.agent_message(await desk.store.conversations.find("c1"), ville, "Hei, autan mielelläni.")
    assert await desk.service.response_limit_sweep(clock.passes(LIMIT * 3)) == 0
    assert await holder(desk, "c1") == (S.ASSIGNED, ville.id)


async def test_with_nobody_free_the_chat_returns_to_the_front_of_the_queue(desk, clock):
    aino = await capacity(desk, await desk.agent("aino", "Aino"), 1)
    await escalate(desk, "c1")
    clock.passes(20)
    await escalate(desk, "c2")  # joined later: waits behind aino's only slot
    assert (await holder(desk, "c1"), await holder(desk, "c2")) == ((S.ASSIGNED, aino.id), (S.WAITING, None))
    desk.forget()

    clock.passes(LIMIT)
    assert await desk.service.response_limit_sweep(clock.now) == 1
    # c1 went back ahead of c2; aino's slot went to c2, and c1 is never handed back to her automatically
    assert (await holder(desk, "c1"), await holder(desk, "c2")) == ((S.WAITING, None), (S.ASSIGNED, aino.id))
    assert [c.id for c in await desk.store.conversations.queue()] == ["c1"]
    assert (await desk.store.conversations.find("c1")).waiting_since == NOW  # its place when it first joined
    why = copy.text("notices.response_limit_requeued", seconds=LIMIT)
    assert notices(desk, aino) == [why] and await notes(desk, "c1") == [why]
    # the visitor is told the truth: back in the queue, first
    assert [m["text"] for m in desk.room.of("bot_uttered", "c1")] == [copy.text("status.requeued", position=1)]
    assert desk.room.of("status", "c1")[-1]["position"] == 1
    # another agent coming online gets it at once
    ville = await desk.agent("ville", "Ville")
    await desk.service.set_presence(ville, "online")
    assert await holder(desk, "c1") == (S.ASSIGNED, ville.id)


async def test_two_misses_in_a_row_set_the_agent_away(desk, clock):
    aino = await desk.agent("aino", "Aino")
    await escalate(desk, "c1")
    await desk.service.response_limit_sweep(clock.passes(LIMIT + 1))  # c1 back to the queue: the first miss
    await escalate(desk, "c2")  # c1 is never handed back to aino automatically; c2 is hers
    assert (await holder(desk, "c1"), await holder(desk, "c2")) == ((S.WAITING, None), (S.ASSIGNED, aino.id))
    desk.forget()

    await desk.service.response_limit_sweep(clock.passes(LIMIT + 1))  # c2 too: the second miss in a row
    assert (await desk.store.agents.get(aino.id)).presence == "away"
    assert notices(desk, aino) == [copy.text("notices.response_limit_requeued", seconds=LIMIT),
                                   copy.text("notices.set_away", misses=2)]
    [presence] = [e for e in desk.hub.to(None, "presence") if e["agent"]["id"] == aino.id]
    assert presence["agent"]["presence"] == "away"
    # both visitors wait, in the order they first joined, and are told so
    assert [c.id for c in await desk.store.conversations.queue()] == ["c1", "c2"]
    assert (desk.room.of("status", "c1")[-1]["position"], desk.room.of("status", "c2")[-1]["position"]) == (1, 2)
    # coming back online clears the count; the chats she let go stay for someone else
    await desk.service.set_presence(aino, "online")
    assert (await desk.store.agents.get(aino.id)).missed_in_row == 0
    assert [c.id for c in await desk.store.conversations.queue()] == ["c1", "c2"]


async def test_answering_between_two_misses_starts_the_count_again(desk, clock):
    aino = await desk.agent("aino", "Aino")
    ville = await capacity(desk, await desk.agent("ville", "Ville"), 0)
    await escalate(desk, "c1")
    await escalate(desk, "c2")
    await capacity(desk, ville, 3)
    await desk.service.agent_message(await desk.store.conversations.find("c2"), aino, "Hei!")  # c2 answered
    await desk.service.response_limit_sweep(clock.passes(LIMIT + 1))  # c1 missed: 1
    assert (await desk.store.agents.get(aino.id)).missed_in_row == 1
    aino = await desk.store.agents.get(aino.id)  # as each request reads its agent
    await desk.service.agent_message(await desk.store.conversations.find("c2"), aino, "Vielä yksi asia.")
    aino = await desk.store.agents.get(aino.id)
    assert aino.missed_in_row == 0 and aino.presence == "online"


async def test_in_manual_mode_a_missed_chat_goes_back_to_the_queue_for_a_claim(manual_desk, clock):
    desk = manual_desk
    aino, ville = await desk.agent("aino", "Aino"), await desk.agent("ville", "Ville")
    await escalate(desk, "c1")
    await desk.service.claim(await desk.store.conversations.find("c1"), aino)
    await desk.service.response_limit_sweep(clock.passes(LIMIT + 1))
    assert await holder(desk, "c1") == (S.WAITING, None)  # ville was free, but manual mode hands out nothing
    await desk.service.claim(await desk.store.conversations.find("c1"), ville)
    assert await holder(desk, "c1") == (S.ASSIGNED, ville.id)


# ---- through the app's sweep -----------------------------------------------------------------------

@pytest.fixture
def service_env():
    return {"LIVEAGENT_ASSIGNMENT": "auto", "LIVEAGENT_SWEEP_SECONDS": "0.2", "LIVEAGENT_RESPONSE_LIMIT_SECONDS": "2"}


async def test_the_sweep_takes_back_a_chat_nobody_answers(service, visitors, make_agent):
    aino = await make_agent("aino")
    visitor = await visitors()
    await visitor.connect()
    await visitor.say("haluan puhua ihmisen kanssa")
    conversation_id = visitor.token.split(".")[0]
    await visitor.wait_for("status", lambda d: d.get("state") == "assigned" and d["agent_name"] == "Aino")
    back = copy.text("status.requeued", position=1)
    await visitor.wait_for("bot_uttered", lambda d: d["text"] == back, timeout=10)
    assert [c["id"] for c in (await (await aino.call("GET", "/queue")).json())["conversations"]] == [conversation_id]
    assert (await (await aino.call("GET", "/conversations")).json())["conversations"] == []
    ville = await make_agent("ville")  # coming online: gets it at once
    mine = (await (await ville.call("GET", "/conversations")).json())["conversations"]
    assert [c["id"] for c in mine] == [conversation_id]
