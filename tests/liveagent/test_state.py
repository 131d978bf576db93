"""The conversation state machine as a pure function: every transition from every state."""

from __future__ import annotations

from typing import Optional

import pytest
from hypothesis import given
from hypothesis import strategies as st

from liveagent.store.state import (
    ALLOWED,
    Change,
    ConversationState,
    NoChange,
    Transition,
    TransitionError,
    plan,
)

S, T = ConversationState, Transition
ANNA, BEN = 1, 2

# (transition, from state) -> resulting state for every accepted move, written out independently of ALLOWED
ACCEPTED = {
    (T.ESCALATE, S.BOT): S.WAITING,
    (T.CANCEL, S.WAITING): S.BOT,
    (T.CLAIM, S.WAITING): S.ASSIGNED,
    (T.TRANSFER, S.ASSIGNED): S.ASSIGNED,
    (T.REQUEUE, S.ASSIGNED): S.WAITING,
    (T.RETURN_TO_BOT, S.ASSIGNED): S.BOT,
    (T.CLOSE, S.ASSIGNED): S.CLOSED,
    (T.CLOSE, S.WAITING): S.CLOSED,
    (T.REOPEN, S.CLOSED): S.BOT,
}
# repeats whose effect is already in place
IDEMPOTENT = {
    (T.ESCALATE, S.WAITING),
    (T.CANCEL, S.BOT),
    (T.REQUEUE, S.WAITING),
    (T.RETURN_TO_BOT, S.BOT),
    (T.CLOSE, S.CLOSED),
    (T.REOPEN, S.BOT),
}


def holder(state: ConversationState) -> Optional[int]:
    return ANNA if state is S.ASSIGNED else None


def test_the_table_matches_the_written_out_rules():
    derived = {(t, s): to for t, (froms, to) in ALLOWED.items() for s in froms}
    assert derived == ACCEPTED
    assert set(ALLOWED) == set(Transition)


@pytest.mark.parametrize(("transition", "state"), sorted(ACCEPTED, key=str))
def test_accepted_transitions(transition, state):
    agent = BEN if transition in (T.CLAIM, T.TRANSFER) else None
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
        if (t, s) not in ACCEPTED and (t, s) not in IDEMPOTENT and not (t is T.CLAIM and s is S.ASSIGNED)
    ),
    key=str,
)


@pytest.mark.parametrize(("transition", "state"), REFUSED)
def test_refused_transitions(transition, state):
    with pytest.raises(TransitionError) as raised:
        plan(state, holder(state), transition, BEN)
    assert raised.value.code == "not_allowed"


def test_refused_list_is_what_remains():
    assert len(REFUSED) == len(Transition) * len(ConversationState) - len(ACCEPTED) - len(IDEMPOTENT) - 1
    assert (T.CLAIM, S.BOT) in REFUSED and (T.TRANSFER, S.WAITING) in REFUSED and (T.ESCALATE, S.CLOSED) in REFUSED


def test_claim_by_the_holder_is_a_repeat():
    assert plan(S.ASSIGNED, ANNA, T.CLAIM, ANNA) is NoChange


def test_claim_of_a_conversation_another_agent_holds():
    with pytest.raises(TransitionError) as raised:
        plan(S.ASSIGNED, ANNA, T.CLAIM, BEN)
    assert raised.value.code == "already_claimed"


def test_transfer_to_the_holder_is_a_repeat():
    assert plan(S.ASSIGNED, ANNA, T.TRANSFER, ANNA) is NoChange


@pytest.mark.parametrize("transition", [T.CLAIM, T.TRANSFER])
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
