"""Automatic assignment over the real store, on SQLite and PostgreSQL.

The rules themselves (``choose_agent``) as pure functions first; then a hypothesis state machine
drives two ConversationServices (two "replicas", each with its own Store and engine on the same
database) through escalations, agents going online, away and offline, claims, transfers, closes,
capacity changes, answers and the response-time limit, some of them at the same time on both
replicas. After every step the database must show: no chat held by two agents (each hand-over is
one consistent event trail), no agent over capacity (a lowered capacity takes nothing away, but
gives nothing more), no chat held by an offline agent or an account that does not handle chats, and
no chat waiting while an online agent other than the one who let it go unanswered has room.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any, Dict, List, Optional, Tuple

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from liveagent.conversations import CHAT_ROLES, ConversationService
from liveagent.hours import ServiceCalendar
from liveagent.hub import AgentHub
from liveagent.settings import Settings
from liveagent.store import ConversationState, Store, Transition, TransitionError
from liveagent.store.assignment import AgentLoad, choose_agent
from liveagent.store.schema import agents, conversation_events, conversations, messages, read_marks
from tests.liveagent.databases import postgres_database
from tests.liveagent.store.common import FAST_HASHER, NOW

S, T = ConversationState, Transition
LIMIT_SECONDS = 90


def load(agent_id: int, active: int, capacity: int = 3, minutes_ago: Optional[float] = None) -> AgentLoad:
    last = None if minutes_ago is None else NOW - dt.timedelta(minutes=minutes_ago)
    return AgentLoad(agent_id, capacity, active, last)


def test_the_agent_with_the_fewest_chats_gets_the_next():
    assert choose_agent([load(1, 2), load(2, 1), load(3, 2)]).agent_id == 2


def test_ties_go_to_the_agent_whose_last_chat_came_longest_ago():
    loads = [load(1, 1, minutes_ago=5), load(2, 1, minutes_ago=20), load(3, 1, minutes_ago=1)]
    assert choose_agent(loads).agent_id == 2
    assert choose_agent([load(1, 1, minutes_ago=60), load(2, 1)]).agent_id == 2  # never had one: first
    assert choose_agent([load(4, 0), load(3, 0)]).agent_id == 3  # the same: the lower id


def test_nobody_at_capacity_and_nobody_excluded_gets_a_chat():
    assert choose_agent([load(1, 3), load(2, 1, capacity=1), load(3, 0, capacity=0)]) is None
    assert choose_agent([load(1, 0), load(2, 2)], exclude={1}).agent_id == 2
    assert choose_agent([load(1, 0)], exclude={1}) is None
    assert choose_agent([]) is None


# ---- the state machine -----------------------------------------------------------------------

CONVERSATIONS = tuple(f"c{n}" for n in range(6))
AGENTS = ("anna", "ben", "cleo")
PRESENCES = ("online", "away", "offline")
REFUSALS = {"not_allowed", "already_claimed", "at_capacity", "agent_full", "agent_not_online", "not_assigned",
            "not_yours", "not_waiting"}
HANDOFF = {"reason": "visitor_request", "summary": {"customer": {"verified": False}}}
VERIFIED = {"reason": "action_failed", "summary": {"customer": {"verified": True, "customer_id": "LUMO-1004"}}}


class Clock:
    """The stores' time, moved by the machine (the response-time limit without sleeping)."""

    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> dt.datetime:
        return self.now


class Rasa:
    async def resume(self, conversation_id: str) -> None:
        pass

    async def record_agent_message(self, conversation_id: str, text: str, agent_name: str) -> None:
        pass


async def nothing(event: str, data: Any, room: str) -> None:
    pass


def service(store: Store) -> ConversationService:
    settings = Settings(session_secret="s" * 40, always_open=True, assignment="auto",
                        response_limit_seconds=LIMIT_SECONDS, misses_before_away=2)
    return ConversationService(store, Rasa(), nothing, AgentHub(), ServiceCalendar(settings.service_hours, True),  # type: ignore[arg-type]
                               settings)


class AssignmentMachine(RuleBasedStateMachine):
    def __init__(self, loop: asyncio.AbstractEventLoop, replicas: List[ConversationService], clock: Clock,
                 agent_ids: Dict[str, int], editor_id: int) -> None:
        super().__init__()
        self.loop, self.replicas, self.clock = loop, replicas, clock
        self.agent_ids, self.editor_id = agent_ids, editor_id
        self.store = replicas[0].store
        # a lowered capacity takes no chat away: the agent may keep what they had, and no more
        self.allowed: Dict[int, int] = {agent_id: 3 for agent_id in agent_ids.values()}
        self.run(self._reset())

    def run(self, awaitable: Any) -> Any:
        return self.loop.run_until_complete(awaitable)

    async def _reset(self) -> None:
        self.clock.now = NOW
        async with self.store.engine.begin() as conn:
            for table in (conversation_events, messages, read_marks, conversations):
                await conn.execute(table.delete())
            await conn.execute(agents.update().values(presence="offline", capacity=3, missed_in_row=0,
                                                      last_assigned_at=None))
            await conn.execute(agents.update().where(agents.c.id == self.editor_id).values(presence="online"))
        for conversation_id in CONVERSATIONS:
            await self.store.conversations.get_or_create(conversation_id)

    def replica(self, n: int) -> ConversationService:
        return self.replicas[n % len(self.replicas)]

    async def _agent(self, name: str) -> Any:
        return await self.store.agents.get(self.agent_ids[name])

    async def _escalate(self, service: ConversationService, conversation_id: str, verified: bool) -> None:
        conversation = await service.store.conversations.find(conversation_id)
        if conversation.state is S.CLOSED:  # the visitor writes again
            conversation = (await service.store.conversations.transition(conversation_id, T.REOPEN)).conversation
        if conversation.state is S.BOT:
            await service.escalate(conversation, VERIFIED["reason"] if verified else HANDOFF["reason"],
                                   VERIFIED if verified else HANDOFF)

    async def _presence(self, service: ConversationService, name: str, presence: str) -> None:
        await service.set_presence(await self._agent(name), presence)

    async def _holder_acts(self, service: ConversationService, conversation_id: str, action: str,
                           to: Optional[str] = None) -> None:
        conversation = await service.store.conversations.find(conversation_id)
        if conversation.agent_id is None:
            return
        holder = await service.store.agents.get(conversation.agent_id)
        try:
            if action == "close":
                await service.close(conversation, holder)
            elif action == "return":
                await service.return_to_bot(conversation, holder)
            elif action == "answer":
                await service.agent_message(conversation, holder, "Hei, autan mielelläni.")
            else:
                assert to is not None
                await service.transfer(conversation, holder, self.agent_ids[to])
        except TransitionError as refused:  # moved on by another step at the same time
            assert refused.code in REFUSALS, refused.code

    # -- steps --------------------------------------------------------------------------------------

    @rule(conversation_id=st.sampled_from(CONVERSATIONS), verified=st.booleans(), replica=st.integers(0, 1))
    def escalate(self, conversation_id: str, verified: bool, replica: int) -> None:
        self.run(self._escalate(self.replica(replica), conversation_id, verified))

    @rule(name=st.sampled_from(AGENTS), presence=st.sampled_from(PRESENCES), replica=st.integers(0, 1))
    def presence(self, name: str, presence: str, replica: int) -> None:
        self.run(self._presence(self.replica(replica), name, presence))

    @rule(name=st.sampled_from(AGENTS), capacity=st.integers(0, 3), replica=st.integers(0, 1))
    def capacity(self, name: str, capacity: int, replica: int) -> None:
        agent_id = self.agent_ids[name]
        active = len(self.run(self.store.conversations.assigned_to(agent_id)))
        self.run(self.replica(replica).set_capacity(self.run(self._agent(name)), capacity))
        self.allowed[agent_id] = max(capacity, active)

    @rule(conversation_id=st.sampled_from(CONVERSATIONS), name=st.sampled_from(AGENTS), replica=st.integers(0, 1))
    def claim(self, conversation_id: str, name: str, replica: int) -> None:
        service = self.replica(replica)
        conversation = self.run(service.store.conversations.find(conversation_id))
        agent = self.run(self._agent(name))
        if agent.presence != "online":  # the console claims for agents who are online
            return
        try:
            self.run(service.claim(conversation, agent))
        except TransitionError as refused:
            assert refused.code in REFUSALS, refused.code

    @rule(conversation_id=st.sampled_from(CONVERSATIONS),
          action=st.sampled_from(["close", "return", "answer", "transfer"]), to=st.sampled_from(AGENTS),
          replica=st.integers(0, 1))
    def holder_acts(self, conversation_id: str, action: str, to: str, replica: int) -> None:
        self.run(self._holder_acts(self.replica(replica), conversation_id, action, to))

    @rule(conversation_id=st.sampled_from(CONVERSATIONS))
    def visitor_cancels(self, conversation_id: str) -> None:
        try:
            self.run(self.replicas[0].cancel_waiting(conversation_id))
        except TransitionError as refused:
            assert refused.code in REFUSALS, refused.code

    @rule(seconds=st.sampled_from([30, LIMIT_SECONDS + 1]), replica=st.integers(0, 1))
    def time_passes_and_the_sweep_runs(self, seconds: int, replica: int) -> None:
        self.clock.now += dt.timedelta(seconds=seconds)
        service = self.replica(replica)
        self.run(service.response_limit_sweep(self.clock.now))
        self.run(service.requeue_sweep(self.clock.now))

    @rule(escalations=st.lists(st.tuples(st.sampled_from(CONVERSATIONS), st.booleans()), max_size=4,
                               unique_by=lambda e: e[0]),
          changes=st.lists(st.tuples(st.sampled_from(AGENTS), st.sampled_from(PRESENCES)), max_size=3,
                           unique_by=lambda c: c[0]),
          acts=st.lists(st.tuples(st.sampled_from(CONVERSATIONS), st.sampled_from(["close", "transfer"]),
                                  st.sampled_from(AGENTS)), max_size=2))
    def at_the_same_time_on_both_replicas(self, escalations: List[Tuple[str, bool]],
                                          changes: List[Tuple[str, str]], acts: List[Tuple[str, str, str]]) -> None:
        work = [self._escalate(self.replica(n), c, verified) for n, (c, verified) in enumerate(escalations)]
        work += [self._presence(self.replica(n + 1), name, presence) for n, (name, presence) in enumerate(changes)]
        work += [self._holder_acts(self.replica(n), c, action, to) for n, (c, action, to) in enumerate(acts)]

        async def together() -> List[Any]:
            return await asyncio.gather(*work, return_exceptions=True)

        failures = [outcome for outcome in self.run(together()) if isinstance(outcome, BaseException)]
        assert failures == []

    # -- what must always hold ----------------------------------------------------------------------

    async def _state(self) -> Tuple[List[Any], Dict[int, Any]]:
        async with self.store.engine.connect() as conn:
            rows = list(await conn.execute(sa.select(conversations)))
            people = {row.id: row for row in await conn.execute(sa.select(agents))}
        return rows, people

    @invariant()
    def one_holder_per_chat_as_the_event_trail_says(self) -> None:
        for conversation_id in CONVERSATIONS:
            conversation = self.run(self.store.conversations.find(conversation_id))
            events = self.run(self.store.conversations.events(conversation_id))
            assert (conversation.state is S.ASSIGNED) == (conversation.agent_id is not None)
            assert conversation.version == len(events)
            states = [S.BOT] + [e.to_state for e in events]
            assert [e.from_state for e in events] == states[:-1] and states[-1] is conversation.state
            if conversation.agent_id is not None:  # the last event handed it to the agent who holds it
                assert events[-1].transition in (T.CLAIM, T.ASSIGN, T.TRANSFER)
                assert events[-1].agent_id == conversation.agent_id

    @invariant()
    def nobody_over_capacity_and_only_online_people_who_handle_chats_hold_chats(self) -> None:
        rows, people = self.run(self._state())
        held: Dict[int, int] = {}
        for row in rows:
            if row.state == S.ASSIGNED.value:
                held[row.agent_id] = held.get(row.agent_id, 0) + 1
                assert people[row.agent_id].role in CHAT_ROLES
                assert people[row.agent_id].presence != "offline"
        for agent_id, count in held.items():
            assert count <= self.allowed[agent_id], (agent_id, count, self.allowed[agent_id])
        for agent_id in self.allowed:  # what a lowered capacity let them keep only shrinks
            self.allowed[agent_id] = max(people[agent_id].capacity, held.get(agent_id, 0))

    @invariant()
    def no_chat_waits_while_an_online_agent_has_room(self) -> None:
        rows, people = self.run(self._state())
        held: Dict[int, int] = {}
        for row in rows:
            if row.state == S.ASSIGNED.value:
                held[row.agent_id] = held.get(row.agent_id, 0) + 1
        room = {agent_id for agent_id, person in people.items()
                if person.presence == "online" and person.role in CHAT_ROLES
                and held.get(agent_id, 0) < person.capacity}
        for row in rows:
            if row.state == S.WAITING.value:
                assert room - {row.missed_by} == set(), (row.id, row.missed_by, room)


def run_assignment_machine(database_url: str, examples: int) -> None:
    loop = asyncio.new_event_loop()
    clock = Clock()
    try:
        stores = [loop.run_until_complete(Store.open(database_url, hasher=FAST_HASHER, clock=clock))
                  for _replica in range(2)]
        try:
            agent_ids = {name: loop.run_until_complete(stores[0].agents.create(name, name.title(), f"pw-{name}")).id
                         for name in AGENTS}
            editor_id = loop.run_until_complete(stores[0].agents.create("eeva", "Eeva", "pw-eeva", "editor")).id
            replicas = [service(store) for store in stores]
            run_state_machine_as_test(
                lambda: AssignmentMachine(loop, replicas, clock, agent_ids, editor_id),
                settings=settings(max_examples=examples, stateful_step_count=30, deadline=None,
                                  suppress_health_check=[HealthCheck.too_slow]))
        finally:
            for store in stores:
                loop.run_until_complete(store.close())
    finally:
        loop.close()


def test_automatic_assignment_keeps_its_promises_on_sqlite(tmp_path):
    run_assignment_machine(f"sqlite+aiosqlite:///{tmp_path}/assignment.sqlite", examples=40)


@pytest.mark.postgres
def test_automatic_assignment_keeps_its_promises_on_postgresql():
    with postgres_database("assignment_machine") as url:
        run_assignment_machine(url, examples=30)
