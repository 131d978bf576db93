"""The conversation state machine as a pure function (every transition from every state), and the
same machine persisted: a hypothesis state machine drives the real Store on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from typing import Any, List, Optional

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from liveagent.store import Store, TransitionResult
from liveagent.store.schema import conversation_events, conversations, messages, missed_messages, read_marks, tickets
from liveagent.store.state import (
    ALLOWED,
    Change,
    ConversationState,
    NoChange,
    Transition,
    TransitionError,
    plan,
)
from tests.liveagent.databases import postgres_database
from tests.liveagent.store.common import FAST_HASHER

S, T = ConversationState, Transition
ANNA, BEN = 1, 2

# (transition, from state) -> resulting state for every accepted move, written out independently of ALLOWED
ACCEPTED = {
    (T.ESCALATE, S.BOT): S.WAITING,
    (T.CANCEL, S.WAITING): S.BOT,
    (T.CLAIM, S.WAITING): S.ASSIGNED,
    (T.ASSIGN, S.WAITING): S.ASSIGNED,
    (T.TRANSFER, S.ASSIGNED): S.ASSIGNED,
    (T.REQUEUE, S.ASSIGNED): S.WAITING,
    (T.RETURN_TO_BOT, S.ASSIGNED): S.BOT,
    (T.CLOSE, S.ASSIGNED): S.CLOSED,
    (T.CLOSE, S.WAITING): S.CLOSED,
    (T.REOPEN, S.CLOSED): S.BOT,
    (T.END, S.BOT): S.CLOSED,
}
# repeats whose effect is already in place
IDEMPOTENT = {
    (T.ESCALATE, S.WAITING),
    (T.CANCEL, S.BOT),
    (T.REQUEUE, S.WAITING),
    (T.RETURN_TO_BOT, S.BOT),
    (T.CLOSE, S.CLOSED),
    (T.REOPEN, S.BOT),
    (T.END, S.CLOSED),
}


def holder(state: ConversationState) -> Optional[int]:
    return ANNA if state is S.ASSIGNED else None


def test_the_table_matches_the_written_out_rules():
    derived = {(t, s): to for t, (froms, to) in ALLOWED.items() for s in froms}
    assert derived == ACCEPTED
    assert set(ALLOWED) == set(Transition)


@pytest.mark.parametrize(("transition", "state"), sorted(ACCEPTED, key=str))
def test_accepted_transitions(transition, state):
    agent = BEN if transition in (T.CLAIM, T.ASSIGN, T.TRANSFER) else None
    outcome = plan(state, holder(state), transition, agent)
    expected_state = ACCEPTED[(transition, state)]
    assert outcome == Change(expected_state, BEN if expected_state is S.ASSIGNED else None)


@pytest.mark.parametrize(("transition", "state"), sorted(IDEMPOTENT, key=str))
def test_repeats_change_nothing(transition, state):
    assert plan(state, holder(state), transition) is NoChange


REFUSED = sorted(
    (
        (t, s)
        for t in Transition
        for s in ConversationState
        if (t, s) not in ACCEPTED and (t, s) not in IDEMPOTENT and not (t in (T.CLAIM, T.ASSIGN) and s is S.ASSIGNED)
    ),
    key=str,
)


@pytest.mark.parametrize(("transition", "state"), REFUSED)
def test_refused_transitions(transition, state):
    with pytest.raises(TransitionError) as raised:
        plan(state, holder(state), transition, BEN)
    assert raised.value.code == "not_allowed"


def test_refused_list_is_what_remains():
    assert len(REFUSED) == len(Transition) * len(ConversationState) - len(ACCEPTED) - len(IDEMPOTENT) - 2
    assert (T.CLAIM, S.BOT) in REFUSED and (T.TRANSFER, S.WAITING) in REFUSED and (T.ESCALATE, S.CLOSED) in REFUSED


@pytest.mark.parametrize("transition", [T.CLAIM, T.ASSIGN])
def test_claim_by_the_holder_is_a_repeat(transition):
    assert plan(S.ASSIGNED, ANNA, transition, ANNA) is NoChange


@pytest.mark.parametrize("transition", [T.CLAIM, T.ASSIGN])
def test_claim_of_a_conversation_another_agent_holds(transition):
    with pytest.raises(TransitionError) as raised:
        plan(S.ASSIGNED, ANNA, transition, BEN)
    assert raised.value.code == "already_claimed"


def test_transfer_to_the_holder_is_a_repeat():
    assert plan(S.ASSIGNED, ANNA, T.TRANSFER, ANNA) is NoChange


@pytest.mark.parametrize("transition", [T.CLAIM, T.ASSIGN, T.TRANSFER])
@pytest.mark.parametrize("state", list(ConversationState))
def test_claim_and_transfer_need_an_agent(transition, state):
    with pytest.raises(TransitionError) as raised:
        plan(state, holder(state), transition, None)
    assert raised.value.code == "agent_required"


def test_leaving_assigned_drops_the_agent():
    for transition in (T.REQUEUE, T.RETURN_TO_BOT, T.CLOSE):
        outcome = plan(S.ASSIGNED, ANNA, transition, ANNA)
        assert isinstance(outcome, Change) and outcome.agent_id is None


def test_plain_strings_are_accepted():
    assert plan("waiting", None, "claim", ANNA) == Change(S.ASSIGNED, ANNA)


steps = st.lists(st.tuples(st.sampled_from(list(Transition)), st.sampled_from([None, ANNA, BEN])), max_size=60)


@given(steps)
def test_no_sequence_reaches_an_inconsistent_state(sequence):
    state: ConversationState = S.BOT
    agent: Optional[int] = None
    for transition, agent_id in sequence:
        try:
            outcome = plan(state, agent, transition, agent_id)
        except TransitionError as error:
            assert error.code in {"not_allowed", "already_claimed", "agent_required"}
            continue
        if outcome is NoChange:
            continue
        assert state in ALLOWED[transition][0]
        state, agent = outcome.state, outcome.agent_id
        assert state in set(ConversationState)
        assert (state is S.ASSIGNED) == (agent is not None)


# ---- the same state machine persisted: random transitions by random agents against the real Store ----

CONVERSATION_IDS = ("c1", "c2", "c3")
AGENT_NAMES = ("anna", "ben", "cleo")
CODES = {"not_allowed", "already_claimed", "agent_required"}


class StoreMachine(RuleBasedStateMachine):
    """Store.transition against the pure planner, with the invariants that must hold in the database:
    at most one holder (assigned exactly when an agent holds it, the agent the last claim or transfer
    named), the version grows by one per change and never otherwise, and every change has its event."""

    def __init__(self, loop: asyncio.AbstractEventLoop, store: Store, agent_ids: List[int]) -> None:
        super().__init__()
        self.loop, self.store, self.agent_ids = loop, store, agent_ids
        self.versions = {conversation_id: 0 for conversation_id in CONVERSATION_IDS}
        self.run(self._reset())

    def run(self, awaitable: Any) -> Any:
        return self.loop.run_until_complete(awaitable)

    async def _reset(self) -> None:
        async with self.store.engine.begin() as conn:
            for table in (conversation_events, messages, read_marks, tickets, missed_messages, conversations):
                await conn.execute(table.delete())
        for conversation_id in CONVERSATION_IDS:
            await self.store.conversations.get_or_create(conversation_id)

    @rule(conversation_id=st.sampled_from(CONVERSATION_IDS), transition=st.sampled_from(list(Transition)),
          who=st.sampled_from([None, 0, 1, 2]))
    def act(self, conversation_id: str, transition: Transition, who: Optional[int]) -> None:
        agent_id = None if who is None else self.agent_ids[who]
        before = self.run(self.store.conversations.find(conversation_id))
        events_before = self.run(self.store.conversations.events(conversation_id))
        try:
            expected = plan(before.state, before.agent_id, transition, agent_id)
        except TransitionError as refused:
            expected = refused
        try:
            result = self.run(self.store.conversations.transition(conversation_id, transition, agent_id=agent_id))
        except TransitionError as refused:
            assert isinstance(expected, TransitionError) and refused.code == expected.code in CODES
            assert self.run(self.store.conversations.find(conversation_id)) == before
            assert self.run(self.store.conversations.events(conversation_id)) == events_before
            return
        after, events = result.conversation, self.run(self.store.conversations.events(conversation_id))
        if expected is NoChange:
            assert not result.changed and after == before and events == events_before
            return
        assert result.changed and (after.state, after.agent_id) == (expected.state, expected.agent_id)
        assert after.version == before.version + 1 and len(events) == len(events_before) + 1
        newest = events[-1]
        assert (newest.transition, newest.from_state, newest.to_state) == (transition, before.state, after.state)
        assert newest.agent_id == (agent_id if agent_id is not None else before.agent_id)

    @rule(conversation_id=st.sampled_from(CONVERSATION_IDS), first=st.sampled_from([0, 1, 2]),
          second=st.sampled_from([0, 1, 2]))
    def two_agents_claim_at_once(self, conversation_id: str, first: int, second: int) -> None:
        if first == second:
            return
        waiting = self.run(self.store.conversations.find(conversation_id)).state is S.WAITING

        async def both() -> list:
            return await asyncio.gather(
                *(self.store.conversations.transition(conversation_id, T.CLAIM, agent_id=self.agent_ids[n])
                  for n in (first, second)),
                return_exceptions=True)

        outcomes = self.run(both())
        won = [o for o in outcomes if not isinstance(o, BaseException) and o.changed]
        lost = [o for o in outcomes if isinstance(o, TransitionError)]
        assert all(isinstance(o, (TransitionError, TransitionResult)) for o in outcomes), outcomes
        if waiting:
            assert len(won) == 1 and [o.code for o in lost] == ["already_claimed"]
        else:
            assert not won

    @invariant()
    def at_most_one_holder_and_every_change_has_its_event(self) -> None:
        for conversation_id in CONVERSATION_IDS:
            conversation = self.run(self.store.conversations.find(conversation_id))
            events = self.run(self.store.conversations.events(conversation_id))
            assert (conversation.state is S.ASSIGNED) == (conversation.agent_id is not None)
            assert conversation.version == len(events) >= self.versions[conversation_id]
            self.versions[conversation_id] = conversation.version
            states = [S.BOT] + [e.to_state for e in events]
            assert [e.from_state for e in events] == states[:-1] and states[-1] is conversation.state
            if conversation.agent_id is not None:
                assert events[-1].transition in (T.CLAIM, T.ASSIGN, T.TRANSFER)
                assert events[-1].agent_id == conversation.agent_id in self.agent_ids


def run_store_machine(database_url: str, examples: int) -> None:
    loop = asyncio.new_event_loop()
    try:
        store = loop.run_until_complete(Store.open(database_url, hasher=FAST_HASHER))
        try:
            agent_ids = [loop.run_until_complete(store.agents.create(name, name.title(), f"pw-{name}-123")).id
                         for name in AGENT_NAMES]
            run_state_machine_as_test(
                lambda: StoreMachine(loop, store, agent_ids),
                settings=settings(max_examples=examples, stateful_step_count=25, deadline=None,
                                  suppress_health_check=[HealthCheck.too_slow]))
        finally:
            loop.run_until_complete(store.close())
    finally:
        loop.close()


def test_random_transitions_by_random_agents_on_sqlite(tmp_path):
    run_store_machine(f"sqlite+aiosqlite:///{tmp_path}/machine.sqlite", examples=40)


@pytest.mark.postgres
def test_random_transitions_by_random_agents_on_postgresql():
    with postgres_database("state_machine") as url:
        run_store_machine(url, examples=25)
