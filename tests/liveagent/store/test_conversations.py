"""Conversations on both backends: the state machine persisted, claim races, the queue, requeueing, ratings."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import List

import pytest

from liveagent.store import ConversationState, NotFound, Store, Transition, TransitionError, TransitionResult
from liveagent.store.conversations import Conversations
from liveagent.store.engine import Writer, make_engine
from liveagent.store.schema import conversations
from tests.liveagent.store.common import FAST_HASHER, HANDOFF, NOW, agent, assigned, at, waiting

S, T = ConversationState, Transition

# the state machine persisted


async def test_full_lifecycle_records_exact_events(store):
    anna, ben = await agent(store, "anna"), await agent(store, "ben")
    created = await store.conversations.get_or_create("visitor-1", now=NOW)
    assert (created.state, created.agent_id, created.version) == (S.BOT, None, 0)
    assert await store.conversations.get_or_create("visitor-1") == created

    transition = store.conversations.transition
    escalated = await transition("visitor-1", T.ESCALATE, reason="visitor_request", handoff=HANDOFF, now=at(1))
    c = escalated.conversation
    assert escalated.changed and c.state is S.WAITING and c.waiting_since == at(1)
    assert (c.escalation_reason, c.handoff, c.customer_id) == ("visitor_request", HANDOFF, "LUMO-1004")

    repeat = await transition("visitor-1", T.ESCALATE, reason="again", now=at(2))
    assert not repeat.changed and repeat.conversation == c

    claimed = (await transition("visitor-1", T.CLAIM, agent_id=anna, now=at(3))).conversation
    assert (claimed.state, claimed.agent_id, claimed.waiting_since) == (S.ASSIGNED, anna, None)
    assert not (await transition("visitor-1", T.CLAIM, agent_id=anna, now=at(3.5))).changed

    assert (await transition("visitor-1", T.TRANSFER, agent_id=ben, now=at(4))).conversation.agent_id == ben
    requeued = (await transition("visitor-1", T.REQUEUE, now=at(5))).conversation
    assert (requeued.state, requeued.agent_id, requeued.waiting_since) == (S.WAITING, None, at(5))
    await transition("visitor-1", T.CLAIM, agent_id=ben, now=at(6))
    back = (await transition("visitor-1", T.RETURN_TO_BOT, agent_id=ben, now=at(7))).conversation
    assert (back.state, back.agent_id) == (S.BOT, None)

    unverified = {"customer": {"verified": False}, "turns": 4}  # a bare summary is accepted too
    again = await transition("visitor-1", T.ESCALATE, reason="repeated_fallback", handoff=unverified, now=at(8))
    assert (again.conversation.escalation_reason, again.conversation.customer_id) == ("repeated_fallback", None)
    assert again.conversation.handoff == unverified
    assert (await transition("visitor-1", T.CLOSE, agent_id=anna, now=at(9))).conversation.state is S.CLOSED
    assert not (await transition("visitor-1", T.CLOSE, now=at(9.5))).changed
    final = (await transition("visitor-1", T.REOPEN, now=at(10))).conversation

    with pytest.raises(TransitionError) as refused:
        await transition("visitor-1", T.CLAIM, agent_id=anna, now=at(11))
    assert refused.value.code == "not_allowed"
    with pytest.raises(NotFound):
        await transition("nobody", T.ESCALATE)

    trail = await store.conversations.events("visitor-1")
    events = [(e.transition, e.from_state, e.to_state, e.agent_id, e.created_at) for e in trail]
    assert events == [
        (T.ESCALATE, S.BOT, S.WAITING, None, at(1)),
        (T.CLAIM, S.WAITING, S.ASSIGNED, anna, at(3)),
        (T.TRANSFER, S.ASSIGNED, S.ASSIGNED, ben, at(4)),
        (T.REQUEUE, S.ASSIGNED, S.WAITING, ben, at(5)),  # no actor given: the agent who held it
        (T.CLAIM, S.WAITING, S.ASSIGNED, ben, at(6)),
        (T.RETURN_TO_BOT, S.ASSIGNED, S.BOT, ben, at(7)),
        (T.ESCALATE, S.BOT, S.WAITING, None, at(8)),
        (T.CLOSE, S.WAITING, S.CLOSED, anna, at(9)),
        (T.REOPEN, S.CLOSED, S.BOT, None, at(10)),
    ]
    assert final.version == len(events)
    assert await store.conversations.find("visitor-1") == final


async def test_two_agents_claiming_at_once_on_separate_stores(store, database_url):
    other = await Store.open(database_url, hasher=FAST_HASHER)
    try:
        anna, ben = await agent(store, "anna"), await agent(store, "ben")
        ids = [f"race-{n}" for n in range(8)]
        for racer in (anna, ben):  # room for every chat: this is the race for one chat, not capacity
            await store.agents.set_capacity(racer, len(ids))
        for conversation_id in ids:
            await waiting(store, conversation_id)
        for conversation_id in ids:
            results = await asyncio.gather(
                store.conversations.transition(conversation_id, T.CLAIM, agent_id=anna),
                other.conversations.transition(conversation_id, T.CLAIM, agent_id=ben),
                return_exceptions=True,
            )
            winners = [r for r in results if isinstance(r, TransitionResult)]
            losers = [r for r in results if isinstance(r, TransitionError)]
            assert len(winners) == 1 and winners[0].changed, results
            assert len(losers) == 1 and losers[0].code == "already_claimed", results
            final = await other.conversations.find(conversation_id)
            assert final.agent_id == winners[0].conversation.agent_id
            claims = [e for e in await store.conversations.events(conversation_id) if e.transition is T.CLAIM]
            assert [e.agent_id for e in claims] == [final.agent_id]
    finally:
        await other.close()


async def test_a_lost_optimistic_race_is_planned_again(database_url):
    """A rival claim lands between our read and our UPDATE: the version check catches it."""

    class RivalInterferes(Conversations):
        loads = 0

        async def _load(self, conn, conversation_id):
            row = await super()._load(conn, conversation_id)
            self.loads += 1
            if self.loads == 1:
                await conn.execute(
                    conversations.update()
                    .where(conversations.c.id == conversation_id)
                    .values(state="assigned", agent_id=self.rival, version=conversations.c.version + 1)
                )
            return row

    setup = await Store.open(database_url, hasher=FAST_HASHER)
    anna, ben = await agent(setup, "anna"), await agent(setup, "ben")
    await waiting(setup, "c1")
    await setup.close()

    engine = make_engine(database_url)
    racer = RivalInterferes(engine, Writer(engine))
    racer.rival = ben
    try:
        with pytest.raises(TransitionError) as lost:
            await racer.transition("c1", T.CLAIM, agent_id=anna)
        assert lost.value.code == "already_claimed"
        assert racer.loads == 2
        assert (await racer.find("c1")).agent_id == ben
        assert [e.transition for e in await racer.events("c1")] == [T.ESCALATE]
    finally:
        await engine.dispose()


# the queue


async def test_queue_positions_follow_waiting_time(store):
    anna = await agent(store, "anna")
    for minutes, conversation_id in enumerate(["c", "a", "b"]):
        await waiting(store, conversation_id, minutes)
    await store.conversations.get_or_create("with-bot")

    assert [c.id for c in await store.conversations.queue()] == ["c", "a", "b"]
    assert [await store.conversations.queue_position(i) for i in ("c", "a", "b")] == [1, 2, 3]
    assert await store.conversations.queue_position("with-bot") is None
    assert await store.conversations.queue_position("unknown") is None

    await store.conversations.transition("c", T.CLAIM, agent_id=anna, now=at(5))
    assert [await store.conversations.queue_position(i) for i in ("c", "a", "b")] == [None, 1, 2]
    assert [c.id for c in await store.conversations.assigned_to(anna)] == ["c"]

    await store.conversations.transition("c", T.REQUEUE, now=at(6))  # back of the queue
    assert [await store.conversations.queue_position(i) for i in ("a", "b", "c")] == [1, 2, 3]
    assert await store.conversations.assigned_to(anna) == []


async def test_conversations_needing_requeue(store):
    anna, ben = await agent(store, "anna", "online"), await agent(store, "ben")
    limit = dt.timedelta(minutes=5)
    await assigned(store, "quiet-agent", anna, minutes=0)
    await store.messages.add("quiet-agent", "visitor", "text", "hei?", now=at(1))
    await assigned(store, "offline-agent", ben, minutes=0)
    await waiting(store, "wrote-while-queued", minutes=0)
    await store.messages.add("wrote-while-queued", "visitor", "text", "onko ketään?", now=at(0.5))
    await store.conversations.transition("wrote-while-queued", T.CLAIM, agent_id=anna, now=at(10))

    async def due(minutes: float) -> List[str]:
        return sorted(c.id for c in await store.conversations.needing_requeue(at(minutes), limit, [ben]))

    assert await due(5.5) == ["offline-agent"]
    assert await due(6) == ["offline-agent", "quiet-agent"]
    await store.messages.add("quiet-agent", "agent", "text", "Hei, autan mielelläni", agent_id=anna, now=at(7))
    assert await due(12) == ["offline-agent"]  # answered; the other was only claimed at 10
    assert await due(15) == ["offline-agent", "wrote-while-queued"]
    await store.messages.add("quiet-agent", "visitor", "text", "entä sitten?", now=at(16))
    assert await due(21) == ["offline-agent", "quiet-agent", "wrote-while-queued"]
    assert [c.id for c in await store.conversations.needing_requeue(at(21), limit, [])] == [
        "wrote-while-queued",
        "quiet-agent",
    ]


async def test_recover_on_start_requeues_work_of_agents_who_are_not_online(store):
    anna = await agent(store, "anna", "online")
    ben = await agent(store, "ben", "away")
    cara = await agent(store, "cara")
    await assigned(store, "with-anna", anna)
    await assigned(store, "with-ben", ben)
    await assigned(store, "with-cara", cara)
    await waiting(store, "queued")

    assert await store.conversations.recover_on_start(at(30)) == 2
    assert (await store.conversations.find("with-anna")).state is S.ASSIGNED
    for conversation_id, holder in (("with-ben", ben), ("with-cara", cara)):
        conversation = await store.conversations.find(conversation_id)
        assert (conversation.state, conversation.agent_id, conversation.waiting_since) == (S.WAITING, None, at(30))
        last = (await store.conversations.events(conversation_id))[-1]
        assert (last.transition, last.from_state, last.agent_id) == (T.REQUEUE, S.ASSIGNED, holder)
    assert [c.id for c in await store.conversations.queue()] == ["queued", "with-ben", "with-cara"]
    assert await store.conversations.recover_on_start(at(31)) == 0


# ratings


async def test_ratings(store):
    await store.conversations.get_or_create("c1")
    assert (await store.conversations.set_rating("c1", 5)).rating == 5
    assert (await store.conversations.set_rating("c1", 1)).rating == 1
    for bad in (0, 6, 3.5, True, "4"):
        with pytest.raises(ValueError):
            await store.conversations.set_rating("c1", bad)
    with pytest.raises(NotFound):
        await store.conversations.set_rating("nobody", 3)
