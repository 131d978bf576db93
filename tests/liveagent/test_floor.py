"""The supervisors' floor (liveagent/floor.py) and moving a chat to another agent
(POST /api/agent/conversations/{id}/reassign), over HTTP and the agent websocket of the real service
(fake Rasa): who sees what, what the visitor and both agents are told, capacity and presence respected,
and the ``floor`` event that keeps supervisors' consoles current without polling."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
from dataclasses import replace
from typing import Any, Dict, List

import pytest

from liveagent import copy
from liveagent.floor import floor_json, response_times
from liveagent.store import Agent as AgentRecord
from liveagent.store import Conversation, ConversationState
from tests.liveagent.conftest import Agent, escalated, eventually
from tests.security.test_roles import create_agent

NOW = dt.datetime(2026, 12, 5, 10, 0, tzinfo=dt.timezone.utc)
CONVERSATION = Conversation(
    id="c1", state=ConversationState.ASSIGNED, agent_id=1, version=3, escalation_reason="visitor_request",
    handoff=None, customer_id=None, created_at=NOW, updated_at=NOW, waiting_since=None,
    last_visitor_message_at=None, last_agent_message_at=None, rating=None, assigned_at=NOW)


# ---- the shapes ------------------------------------------------------------------------------------------


def test_response_times_count_from_when_the_holder_got_the_chat():
    later = NOW + dt.timedelta(seconds=100)
    assert response_times(CONVERSATION, later, 90) == {"assigned_seconds": 100, "answered": False,
                                                        "over_limit_seconds": 10}
    assert response_times(CONVERSATION, later, 120)["over_limit_seconds"] is None  # within the limit
    assert response_times(CONVERSATION, later, 0)["over_limit_seconds"] is None  # no limit at all
    answered = replace(CONVERSATION, last_agent_message_at=NOW + dt.timedelta(seconds=5))
    assert response_times(answered, later, 90) == {"assigned_seconds": 100, "answered": True,
                                                    "over_limit_seconds": None}
    # an answer to the visitor before this agent got the chat (the previous holder's) is no answer of theirs
    before = replace(CONVERSATION, last_agent_message_at=NOW - dt.timedelta(seconds=5))
    assert response_times(before, later, 90)["answered"] is False


def test_the_floor_lists_the_queue_with_places_in_its_order():
    aino = AgentRecord(id=1, username="aino", display_name="Aino", role="agent", presence="online",
                       last_seen_at=None, active=True, capacity=2)
    floor = floor_json([aino], {1: 2}, [], [{"id": "a", "priority": 3}, {"id": "b", "priority": 0}],
                       assignment="auto", limit_seconds=90)
    assert floor["agents"] == [{"id": 1, "username": "aino", "display_name": "Aino", "role": "agent",
                                "presence": "online", "capacity": 2, "load": 2}]
    assert [(q["id"], q["position"]) for q in floor["queue"]] == [("a", 1), ("b", 2)]
    assert (floor["assignment"], floor["response_limit_seconds"]) == ("auto", 90)


# ---- over the service --------------------------------------------------------------------------------------


class Socket:
    """An agent's console socket, recording every event."""

    def __init__(self, agent: Agent) -> None:
        self.agent = agent
        self.events: List[Dict[str, Any]] = []
        self.task: Any = None

    async def __aenter__(self) -> "Socket":
        url = self.agent.service.url.replace("http", "ws") + "/api/agent/ws"
        self.ws = await self.agent.session.ws_connect(url, headers={"Origin": self.agent.service.url})

        async def read() -> None:
            async for message in self.ws:
                self.events.append(json.loads(message.data))

        self.task = asyncio.create_task(read())
        await eventually(lambda: any(e["type"] == "queue" for e in self.events))  # registered with the hub
        return self

    async def __aexit__(self, *_exc: Any) -> None:
        await self.ws.close()
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task

    def of(self, kind: str) -> List[Dict[str, Any]]:
        return [e for e in self.events if e["type"] == kind]


async def capacity(supervisor: Agent, agent: Agent, value: int) -> None:
    response = await supervisor.call("PUT", f"/agents/{agent.me['id']}/capacity", {"capacity": value})
    assert response.status == 200, await response.text()


async def floor_of(supervisor: Agent) -> Dict[str, Any]:
    response = await supervisor.call("GET", "/floor")
    assert response.status == 200, await response.text()
    return await response.json()


@pytest.mark.parametrize("service_env", [{"LIVEAGENT_ASSIGNMENT": "auto", "LIVEAGENT_SWEEP_SECONDS": "3600"}])
async def test_the_floor_shows_who_is_online_their_load_their_chats_and_the_queue(service, make_agent, visitors):
    ville, aino = await make_agent("ville", online=False), await make_agent("aino")
    await capacity(ville, aino, 1)
    _first, held = await escalated_or_assigned(visitors)
    _second, waiting = await escalated(visitors, "ihmisen syy:action_failed")  # aino is full: it waits

    floor = await floor_of(ville)
    agents = {a["username"]: a for a in floor["agents"]}
    assert set(agents) == {"aino", "ville"}  # who handles chats; not the editor
    assert (agents["aino"]["presence"], agents["aino"]["load"], agents["aino"]["capacity"]) == ("online", 1, 1)
    assert (agents["ville"]["presence"], agents["ville"]["load"]) == ("offline", 0)
    assert [(c["id"], c["agent_id"], c["agent_name"], c["answered"]) for c in floor["chats"]] == [
        (held, aino.me["id"], "Aino", False)]
    assert floor["chats"][0]["assigned_seconds"] >= 0 and floor["chats"][0]["over_limit_seconds"] is None
    assert [(q["id"], q["position"], q["priority"], q["reason"]) for q in floor["queue"]] == [
        (waiting, 1, 2, "action_failed")]  # a failed lookup's points (liveagent/queue_priorities.yml)
    assert floor["queue"][0]["reason_text"] == copy.text("reasons.action_failed")
    assert (floor["assignment"], floor["response_limit_seconds"]) == ("auto", 90)

    refused = await aino.call("GET", "/floor")
    assert (refused.status, (await refused.json())["error"]) == (403, "supervisor_required")


async def escalated_or_assigned(visitors, text: str = "haluan puhua ihmisen kanssa"):
    """A visitor whose chat an agent with room got at once (automatic assignment)."""
    visitor = await visitors()
    await visitor.connect()
    await visitor.say(text)
    await visitor.wait_for("status", lambda d: d["state"] == "assigned")
    return visitor, visitor.token.split(".")[0]


@pytest.mark.parametrize("service_env", [{"LIVEAGENT_RESPONSE_LIMIT_SECONDS": "1", "LIVEAGENT_SWEEP_SECONDS": "3600"}])
async def test_a_chat_over_the_response_limit_shows_by_how_much_until_its_agent_answers(service, make_agent,
                                                                                        visitors):
    ville, aino = await make_agent("ville", online=False), await make_agent("aino")
    _visitor, conversation_id = await escalated(visitors)
    assert (await aino.call("POST", f"/conversations/{conversation_id}/claim")).status == 200
    async with Socket(ville) as desk:
        await asyncio.sleep(2.2)  # the sweep that would move it on is an hour away
        chat = (await floor_of(ville))["chats"][0]
        assert chat["answered"] is False and chat["over_limit_seconds"] >= 1
        assert chat["over_limit_seconds"] == chat["assigned_seconds"] - 1
        response = await aino.call("POST", f"/conversations/{conversation_id}/messages", {"text": "Hei!"})
        assert response.status == 201
        # the answer reaches the supervisor's console as a floor event, without asking
        answered = await eventually(lambda: [e for e in desk.of("floor")
                                             if e["floor"]["chats"] and e["floor"]["chats"][0]["answered"]])
        assert answered[-1]["floor"]["chats"][0]["over_limit_seconds"] is None


@pytest.mark.parametrize("service_env", [{"LIVEAGENT_SWEEP_SECONDS": "3600"}])  # manual: claims place the chats
async def test_a_supervisor_moves_a_chat_and_everyone_concerned_is_told(service, make_agent, visitors):
    await create_agent(service, "aada", "Aada", "agent")
    ville, aino, aada = await make_agent("ville", online=False), await make_agent("aino"), await make_agent("aada")
    visitor, conversation_id = await escalated(visitors)
    assert (await aino.call("POST", f"/conversations/{conversation_id}/claim")).status == 200
    async with Socket(aino) as aino_desk, Socket(aada) as aada_desk, Socket(ville) as ville_desk:
        seen = len(visitor.events)
        response = await ville.call("POST", f"/conversations/{conversation_id}/reassign",
                                    {"agent_id": aada.me["id"]})
        assert response.status == 200, await response.text()
        brief = await response.json()
        assert (brief["state"], brief["agent_id"], brief["agent_name"]) == ("assigned", aada.me["id"], "Aada")
        # the visitor hears who has the chat now
        joined = copy.text("status.transferred", agent_name="Aada")
        await visitor.wait_for("bot_uttered", lambda d: d["text"] == joined, since=seen)
        # aada gets it (her console alerts her), aino loses it and is told who moved it where
        await eventually(lambda: any(e["conversation"]["agent_id"] == aada.me["id"] for e in aada_desk.of("state")))
        why = copy.text("notices.moved_by_supervisor", supervisor_name="Ville", agent_name="Aada")
        await eventually(lambda: [e["text"] for e in aino_desk.of("notice")] == [why])
        assert any(e["conversation"]["state"] == "assigned" and e["conversation"]["agent_id"] == aada.me["id"]
                   for e in aino_desk.of("state"))
        detail = await (await aada.call("GET", f"/conversations/{conversation_id}")).json()
        assert [m["text"] for m in detail["messages"] if m["kind"] == "note"] == [why]  # kept in the chat
        assert why not in [m.get("text") for m in visitor.messages()]  # never shown to the visitor
        # the floor followed on its own: the supervisor's console got it
        await eventually(lambda: any(c["agent_id"] == aada.me["id"] for e in ville_desk.of("floor")
                                     for c in e["floor"]["chats"]))
        assert aino_desk.of("floor") == [] and aada_desk.of("floor") == []  # agents get no floor

    audit = await (await ville.call("GET", "/audit?action=conversation.reassign")).json()
    assert [(e["actor"]["username"], e["target"], e["detail"]) for e in audit["entries"]] == [
        ("ville", f"conversation:{conversation_id}", {"to_agent_id": aada.me["id"]})]


@pytest.mark.parametrize("service_env", [{"LIVEAGENT_SWEEP_SECONDS": "3600"}])
async def test_a_waiting_chat_goes_to_the_agent_the_supervisor_picks_within_their_capacity(service, make_agent,
                                                                                         visitors):
    ville, aino = await make_agent("ville", online=False), await make_agent("aino")
    await capacity(ville, aino, 1)
    first, first_id = await escalated(visitors)
    _second, second_id = await escalated(visitors)
    response = await ville.call("POST", f"/conversations/{first_id}/reassign", {"agent_id": aino.me["id"]})
    assert response.status == 200, await response.text()
    await first.wait_for("bot_uttered", lambda d: d["text"] == copy.text("status.assigned", agent_name="Aino"))
    mine = await (await aino.call("GET", "/conversations")).json()
    assert [c["id"] for c in mine["conversations"]] == [first_id]
    note = copy.text("notices.assigned_by_supervisor", supervisor_name="Ville", agent_name="Aino")
    detail = await (await aino.call("GET", f"/conversations/{first_id}")).json()
    assert note in [m["text"] for m in detail["messages"] if m["kind"] == "note"]

    # aino is full: the second stays where it is, and the supervisor reads why in Finnish
    full = await ville.call("POST", f"/conversations/{second_id}/reassign", {"agent_id": aino.me["id"]})
    body = await full.json()
    assert (full.status, body["error"], body["message"]) == (409, "agent_full", copy.text("errors.agent_full"))
    assert [q["id"] for q in (await floor_of(ville))["queue"]] == [second_id]
    # nobody offline gets a chat
    offline = await ville.call("POST", f"/conversations/{second_id}/reassign", {"agent_id": ville.me["id"]})
    assert (offline.status, (await offline.json())["error"]) == (409, "agent_not_online")
    # a chat with the bot is nobody's to move
    chatting = await visitors()
    await chatting.connect()
    await chatting.say("moi")
    await chatting.wait_for("bot_uttered")
    bot_id = chatting.token.split(".")[0]
    refused = await ville.call("POST", f"/conversations/{bot_id}/reassign", {"agent_id": aino.me["id"]})
    assert (refused.status, (await refused.json())["error"]) == (409, "not_movable")
    for bad in ({}, {"agent_id": "1"}, {"agent_id": 0}, {"agent_id": True}):
        response = await ville.call("POST", f"/conversations/{second_id}/reassign", bad)
        assert (response.status, (await response.json())["error"]) == (400, "bad_request"), bad
    # agents may not move chats, not even their own
    response = await aino.call("POST", f"/conversations/{first_id}/reassign", {"agent_id": aino.me["id"]})
    assert (response.status, (await response.json())["error"]) == (403, "supervisor_required")


async def test_a_change_while_a_snapshot_is_read_is_sent_in_another(monkeypatch):
    from liveagent import floor as floor_module

    monkeypatch.setattr(floor_module, "FLOOR_DEBOUNCE_SECONDS", 0.01)
    board = floor_module.Floor(None, None, None, None)  # type: ignore[arg-type] - send() is replaced below
    sent: List[int] = []
    reading = asyncio.Event()

    async def send() -> None:
        sent.append(len(sent))
        if len(sent) == 1:  # a change arrives while the first snapshot is being read
            reading.set()
            await asyncio.sleep(0.05)

    board.send = send  # type: ignore[method-assign]
    board.changed()
    board.changed()  # many changes before the first send: one snapshot
    await reading.wait()
    board.changed()
    await asyncio.wait_for(board._pending, 2)  # noqa: SLF001 - the pending send
    assert sent == [0, 1]
