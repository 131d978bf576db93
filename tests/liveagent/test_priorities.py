"""Queue priorities: the data file (liveagent/queue_priorities.yml), and one order for the queue agents
see, the chat automatic assignment takes next and the place each visitor is told."""

from __future__ import annotations

import pytest

from liveagent.priorities import DEFAULT_FILE, QueuePriorities
from liveagent.store import ConversationState, Store
from lumo_shared.settings import SettingsError
from tests.liveagent.store.common import FAST_HASHER
from tests.liveagent.test_notify import Desk

S = ConversationState
ASKED = {"reason": "visitor_request", "summary": {"customer": {"verified": False}}}
LOGGED_IN = {"reason": "visitor_request", "summary": {"customer": {"verified": True, "customer_id": "LUMO-1004"}}}
LOOKUP_FAILED = {"reason": "action_failed", "summary": {"customer": {"verified": False}}}


def test_the_shipped_file_puts_failed_lookups_and_verified_customers_first():
    priorities = QueuePriorities.load(DEFAULT_FILE)
    assert priorities.of("visitor_request", False) == 0
    assert priorities.of("visitor_request", True) == 1
    assert priorities.of("repeated_fallback", False) == 1
    assert priorities.of("action_failed", False) == priorities.of("rasa_unavailable", False) == 2
    assert priorities.of("action_failed", True) == 3
    assert priorities.of(None, False) == 0 and priorities.of("something_new", False) == 0


@pytest.mark.parametrize(("text", "complaint"), [
    ("reasons:\n  action_faild: 2\n", "unknown handoff reason 'action_faild'"),
    ("reasons:\n  action_failed: high\n", "reasons.action_failed must be a whole number"),
    ("reasons:\n  action_failed: 1.5\n", "reasons.action_failed must be a whole number"),
    ("reasons:\n  action_failed: true\n", "reasons.action_failed must be a whole number"),
    ("reasons:\n  action_failed: 101\n", "from -100 to 100"),
    ("verified_customer: yes\n", "verified_customer must be a whole number"),
    ("reasons: [action_failed]\n", "`reasons` must map handoff reasons to points"),
    ("priority: 3\n", "expected only `reasons` and `verified_customer`"),
    ("- action_failed\n", "expected only `reasons` and `verified_customer`"),
    ("reasons: {\n", "LIVEAGENT_PRIORITIES_FILE"),
])
def test_a_file_the_service_cannot_use_is_refused_naming_the_file(tmp_path, text, complaint):
    path = tmp_path / "priorities.yml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SettingsError, match=complaint) as refused:
        QueuePriorities.load(path)
    assert str(path) in str(refused.value)


def test_a_missing_file_is_refused_and_an_empty_one_gives_everyone_the_same_priority(tmp_path):
    with pytest.raises(SettingsError, match="LIVEAGENT_PRIORITIES_FILE"):
        QueuePriorities.load(tmp_path / "missing.yml")
    (tmp_path / "empty.yml").write_text("", encoding="utf-8")
    assert QueuePriorities.load(tmp_path / "empty.yml").of("action_failed", True) == 0


@pytest.fixture
async def store(tmp_path):
    store = await Store.open(f"sqlite+aiosqlite:///{tmp_path}/priorities.sqlite", hasher=FAST_HASHER)
    yield store
    await store.close()


async def escalate(desk: Desk, conversation_id: str, handoff) -> None:
    conversation = await desk.store.conversations.get_or_create(conversation_id)
    await desk.service.escalate(conversation, handoff["reason"], handoff)


async def test_agents_visitors_and_assignment_follow_one_order(store):
    desk = Desk(store, "auto")
    aino = await desk.agent("aino", "Aino")
    await store.agents.set_capacity(aino.id, 0)  # online, so chats may queue, but no room yet
    for conversation_id, handoff in [("asked", ASKED), ("logged-in", LOGGED_IN), ("lookup-failed", LOOKUP_FAILED),
                                     ("asked-later", ASKED)]:
        await escalate(desk, conversation_id, handoff)
    order = ["lookup-failed", "logged-in", "asked", "asked-later"]
    assert [c.id for c in await store.conversations.queue()] == order  # what GET /queue lists
    assert [await store.conversations.queue_position(c) for c in order] == [1, 2, 3, 4]
    # each visitor's latest status line names the same place
    assert [desk.room.of("status", c)[-1]["position"] for c in order] == [1, 2, 3, 4]
    assert [(await store.conversations.find(c)).priority for c in order] == [2, 1, 0, 0]

    await store.agents.set_capacity(aino.id, 2)
    taken = await desk.service.assign_waiting()
    assert [r.conversation.id for r in taken] == order[:2]  # the highest priorities, oldest first
    assert [c.id for c in await store.conversations.queue()] == order[2:]
    assert [desk.room.of("status", c)[-1]["position"] for c in order[2:]] == [1, 2]


async def test_another_file_gives_another_order(store, tmp_path):
    """LIVEAGENT_PRIORITIES_FILE: a failed lookup last, a verified customer like anyone."""
    path = tmp_path / "priorities.yml"
    path.write_text("reasons:\n  action_failed: -1\nverified_customer: 0\n", encoding="utf-8")
    desk = Desk(store, "manual", priorities_file=str(path))
    await desk.agent("aino", "Aino")
    for conversation_id, handoff in [("lookup-failed", LOOKUP_FAILED), ("logged-in", LOGGED_IN), ("asked", ASKED)]:
        await escalate(desk, conversation_id, handoff)
    assert [c.id for c in await store.conversations.queue()] == ["logged-in", "asked", "lookup-failed"]
