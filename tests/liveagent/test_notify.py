"""Who is told what: every transition through ConversationService and the notifier, with a real Store
(SQLite in a temporary file) and the visitor room, the agents' hub and Rasa recorded.

A transition that changes nothing (a transfer to the agent who already holds the chat, a repeated
claim) tells nobody.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Dict, List, Optional, Set, Tuple

import pytest

from liveagent import copy
from liveagent.conversations import ConversationService
from liveagent.hours import ServiceCalendar
from liveagent.hub import AgentHub
from liveagent.notify import ANNOUNCEMENTS, Notifier
from liveagent.settings import Settings
from liveagent.store import Agent, Conversation, ConversationState, Store, Transition, TransitionError
from liveagent.views import Views
from tests.liveagent.store.common import FAST_HASHER

S, T = ConversationState, Transition
HANDOFF = {"reason": "visitor_request", "summary": {"intents": ["request_human"], "customer": {"verified": False}}}


class Room:
    """The visitors' Socket.IO rooms: what was emitted to which conversation."""

    def __init__(self) -> None:
        self.emitted: List[Tuple[str, Any, str]] = []

    async def emit(self, event: str, data: Any, room: str) -> None:
        self.emitted.append((event, data, room))

    def of(self, event: str, room: Optional[str] = None) -> List[Any]:
        return [data for name, data, to in self.emitted if name == event and (room is None or to == room)]


class Hub(AgentHub):
    """The agents' hub, recording what each agent and everyone was sent."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: List[Tuple[Optional[int], Dict[str, Any]]] = []

    def send(self, agent_id: Optional[int], event: Dict[str, Any]) -> None:
        if agent_id is not None:
            self.sent.append((agent_id, event))

    def broadcast(self, event: Dict[str, Any], only: Optional[Set[int]] = None) -> None:
        self.sent.append((None, event))

    def to(self, agent_id: Optional[int], kind: str) -> List[Dict[str, Any]]:
        return [event for to, event in self.sent if to == agent_id and event["type"] == kind]


class Rasa:
    def __init__(self) -> None:
        self.resumed: List[str] = []

    async def resume(self, conversation_id: str) -> None:
        self.resumed.append(conversation_id)

    async def record_agent_message(self, conversation_id: str, text: str, agent_name: str) -> None:
        pass


class Desk:
    def __init__(self, store: Store, assignment: str = "manual", **settings: Any) -> None:
        self.store, self.room, self.hub, self.rasa = store, Room(), Hub(), Rasa()
        config = Settings(session_secret="s" * 40, always_open=True, assignment=assignment, **settings)
        self.service = ConversationService(store, self.rasa, self.room.emit, self.hub,  # type: ignore[arg-type]
                                           ServiceCalendar(config.service_hours, True), config)

    def forget(self) -> None:
        """Starts recording afresh."""
        self.room.emitted.clear()
        self.hub.sent.clear()
        self.rasa.resumed.clear()

    async def agent(self, username: str, display_name: str) -> Agent:
        agent = await self.store.agents.create(username, display_name, "salasana-pitka", "agent")
        return await self.store.agents.set_presence(agent.id, "online", dt.datetime.now(dt.timezone.utc))

    async def waiting(self, conversation_id: str) -> Conversation:
        conversation = await self.store.conversations.get_or_create(conversation_id)
        await self.service.escalate(conversation, "visitor_request", HANDOFF)
        found = await self.store.conversations.find(conversation_id)
        assert found is not None and found.state is S.WAITING
        return found

    async def assigned(self, conversation_id: str, agent: Agent) -> Conversation:
        return await self.service.claim(await self.waiting(conversation_id), agent)

    async def messages(self, conversation_id: str) -> List[str]:
        return [m.text for m in await self.store.messages.transcript(conversation_id) if m.sender == "system"]


@pytest.fixture
async def desk(tmp_path):
    store = await Store.open(f"sqlite+aiosqlite:///{tmp_path}/notify.sqlite", hasher=FAST_HASHER)
    desk = Desk(store)
    try:
        yield desk
    finally:
        await desk.service.floor.close()  # as the app does: no debounced floor read after the store closed
        await store.close()


def test_every_transition_has_an_announcement():
    assert set(ANNOUNCEMENTS) == set(Transition)


async def test_an_escalation_puts_the_visitor_in_the_queue_and_tells_every_agent(desk):
    await desk.agent("aino", "Aino")
    desk.forget()
    await desk.waiting("c1")
    assert desk.room.of("bot_uttered") == []  # no system message: the status line says it
    [status] = desk.room.of("status", "c1")
    assert (status["state"], status["position"]) == ("waiting", 1)
    assert status["text"] == copy.text("status.waiting_soon_first")  # Aino has room for them
    [queue] = desk.hub.to(None, "queue")
    assert [c["id"] for c in queue["conversations"]] == ["c1"]
    assert desk.rasa.resumed == []


async def test_a_claim_tells_the_visitor_who_came_and_the_agents_the_new_queue(desk):
    aino = await desk.agent("aino", "Aino")
    conversation = await desk.waiting("c1")
    await desk.waiting("c2")
    desk.forget()
    claimed = await desk.service.claim(conversation, aino)
    assert (claimed.state, claimed.agent_id) == (S.ASSIGNED, aino.id)
    joined = copy.text("status.assigned", agent_name="Aino")
    assert [m["text"] for m in desk.room.of("bot_uttered", "c1")] == [joined]
    assert desk.room.of("status", "c1")[-1]["agent_name"] == "Aino"
    assert [e["message"]["text"] for e in desk.hub.to(aino.id, "message")] == [joined]
    [queue] = desk.hub.to(None, "queue")
    assert [c["id"] for c in queue["conversations"]] == ["c2"]
    assert [s["position"] for s in desk.room.of("status", "c2")] == [1]  # moved up
    assert desk.rasa.resumed == []


async def test_a_repeated_claim_and_a_transfer_to_the_holder_tell_nobody(desk):
    aino = await desk.agent("aino", "Aino")
    conversation = await desk.assigned("c1", aino)
    desk.forget()
    assert (await desk.service.claim(conversation, aino)).agent_id == aino.id
    assert (await desk.service.transfer(conversation, aino, aino.id)).agent_id == aino.id
    assert desk.room.emitted == [] and desk.hub.sent == [] and desk.rasa.resumed == []
    assert await desk.messages("c1") == [copy.text("status.assigned", agent_name="Aino")]  # nothing new stored


async def test_a_transfer_tells_the_visitor_and_hands_the_chat_to_the_new_agent(desk):
    aino, ville = await desk.agent("aino", "Aino"), await desk.agent("ville", "Ville")
    conversation = await desk.assigned("c1", aino)
    desk.forget()
    moved = await desk.service.transfer(conversation, aino, ville.id)
    assert moved.agent_id == ville.id
    text = copy.text("status.transferred", agent_name="Ville")
    assert [m["text"] for m in desk.room.of("bot_uttered", "c1")] == [text]
    assert desk.room.of("status", "c1")[-1]["agent_name"] == "Ville"
    [state] = desk.hub.to(ville.id, "state")
    assert state["conversation"]["agent_id"] == ville.id
    assert [e["message"]["text"] for e in desk.hub.to(ville.id, "message")] == [text]
    assert desk.hub.to(aino.id, "message") == [] and desk.hub.to(None, "queue") == []  # the queue did not change


async def test_return_to_bot_and_close_resume_the_bot(desk):
    aino = await desk.agent("aino", "Aino")
    returned = await desk.assigned("c1", aino)
    closed = await desk.assigned("c2", aino)
    desk.forget()
    await desk.service.return_to_bot(returned, aino)
    assert desk.rasa.resumed == ["c1"]
    assert [m["text"] for m in desk.room.of("bot_uttered", "c1")] == [copy.text("status.returned_to_bot")]
    [status] = desk.room.of("status", "c1")
    assert (status["state"], status["text"]) == ("bot", copy.text("status.returned_to_bot"))
    await desk.service.close(closed, aino)
    assert desk.rasa.resumed == ["c1", "c2"]
    assert [m["text"] for m in desk.room.of("bot_uttered", "c2")] == [copy.text("status.closed")]
    [status] = desk.room.of("status", "c2")
    assert status["state"] == "closed" and status["ask_rating"] is True
    assert status["text"] == copy.text("status.rating_request")
    assert desk.hub.to(aino.id, "message") == [] and desk.hub.to(None, "queue") == []


async def test_a_cancelled_wait_resumes_the_bot_and_moves_the_queue_up(desk):
    await desk.agent("aino", "Aino")
    await desk.waiting("c1")
    await desk.waiting("c2")
    desk.forget()
    await desk.service.cancel_waiting("c1")
    assert desk.rasa.resumed == ["c1"]
    assert [m["text"] for m in desk.room.of("bot_uttered", "c1")] == [copy.text("status.cancelled")]
    assert desk.room.of("status", "c1")[-1]["text"] == copy.text("status.cancelled")
    [queue] = desk.hub.to(None, "queue")
    assert [c["id"] for c in queue["conversations"]] == ["c2"]
    assert [s["position"] for s in desk.room.of("status", "c2")] == [1]
    desk.forget()
    await desk.service.cancel_waiting("c1")  # again: it no longer waits, nobody is told
    assert desk.room.emitted == [] and desk.hub.sent == [] and desk.rasa.resumed == []


async def test_a_requeue_tells_the_agent_who_left_and_every_waiting_visitor_their_place(desk):
    aino = await desk.agent("aino", "Aino")
    await desk.waiting("c0")
    await desk.assigned("c1", aino)
    await desk.assigned("c2", aino)
    desk.forget()
    await desk.service.set_presence(aino, "offline")
    assert await desk.messages("c1") == [copy.text("status.assigned", agent_name="Aino"),
                                         copy.text("status.requeued", position=2)]
    assert (await desk.messages("c2"))[-1] == copy.text("status.requeued", position=3)
    assert sorted(e["conversation"]["id"] for e in desk.hub.to(aino.id, "state")) == ["c1", "c2"]
    [queue] = desk.hub.to(None, "queue")  # one broadcast for both
    assert [c["id"] for c in queue["conversations"]] == ["c0", "c1", "c2"]
    assert {room: [s["position"] for s in desk.room.of("status", room)] for room in ("c0", "c1", "c2")} == {
        "c0": [1], "c1": [2], "c2": [3]}
    assert desk.rasa.resumed == []


async def test_a_queue_broadcast_reads_the_queue_once(desk):
    await desk.agent("aino", "Aino")
    for name in ("c1", "c2", "c3"):
        await desk.waiting(name)
    calls: List[str] = []

    class Counting:
        """The store (or one of its repositories), recording every call made through it."""

        def __init__(self, target: Any, prefix: str = "") -> None:
            self.target, self.prefix = target, prefix

        def __getattr__(self, name: str) -> Any:
            attribute = getattr(self.target, name)
            if not callable(attribute):
                return Counting(attribute, f"{name}.")
            calls.append(self.prefix + name)
            return attribute

    counting: Any = Counting(desk.store)
    notifier = Notifier(counting, desk.room.emit, desk.hub, desk.rasa, Views(counting, 5))  # type: ignore[arg-type]
    desk.forget()
    await notifier.broadcast_queue()
    assert [s["position"] for _, s, _ in desk.room.emitted] == [1, 2, 3]
    # each place carries the version it was read at: a visitor whose chat was assigned meanwhile (at a
    # newer version, on any replica) keeps the "agent joined" line (the widget drops the older one)
    queue = await desk.store.conversations.queue()
    assert [(room, s["version"]) for _, s, room in desk.room.emitted] == [(c.id, c.version) for c in queue]
    # no query per waiting visitor: the briefs' handovers and unanswered messages are read for all at once
    assert calls == ["conversations.queue", "overview.handovers", "overview.unanswered", "agents.list",
                     "overview.held_counts", "overview.handling_minutes"]


async def test_an_unchanged_result_tells_nobody(desk):
    aino = await desk.agent("aino", "Aino")
    conversation = await desk.assigned("c1", aino)
    desk.forget()
    result = await desk.store.conversations.transition("c1", T.CLAIM, agent_id=aino.id, current=conversation)
    assert not result.changed
    await desk.service.notifier.transitioned(result)
    assert desk.room.emitted == [] and desk.hub.sent == [] and desk.rasa.resumed == []


async def test_a_transition_planned_on_a_stale_copy_is_decided_on_the_stored_row(desk):
    aino, ville = await desk.agent("aino", "Aino"), await desk.agent("ville", "Ville")
    seen = await desk.waiting("c1")  # what both agents' consoles showed
    await desk.service.claim(seen, aino)
    with pytest.raises(TransitionError) as refused:
        await desk.service.claim(seen, ville)
    assert refused.value.code == "already_claimed"
    result = await desk.store.conversations.transition("c1", T.CLOSE, agent_id=aino.id, current=seen)  # stale version
    assert result.changed and result.previous.state is S.ASSIGNED and result.conversation.state is S.CLOSED
    stored = await desk.store.conversations.find("c1")
    assert stored == result.conversation  # what the result says is what a read gives back
    events = await desk.store.conversations.events("c1")
    assert (events[-1].from_state, events[-1].to_state) == (S.ASSIGNED, S.CLOSED)
