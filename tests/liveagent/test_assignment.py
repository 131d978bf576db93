"""Automatic assignment as agents and visitors meet it: the service in-process (LIVEAGENT_ASSIGNMENT=auto,
the default), visitors on Socket.IO, agents over HTTP and their websocket.

A waiting chat goes to the online agent with room and the fewest chats (ties: whose last chat came
longest ago) without a claim, and the agent's console is told as for a transfer; a freed slot and an
agent coming online take the oldest highest-priority waiting chat at once; a supervisor sets each
agent's capacity; the queue agents see and the places visitors are told follow the same order.
"""

from __future__ import annotations

import functools
import json
from typing import Any, Dict, List

import pytest

from liveagent import copy
from liveagent.conversations import JOIN_QUEUE_PAYLOAD
from liveagent.settings import Settings
from lumo_shared.settings import SettingsError
from tests.conftest import run_ensure_env
from tests.liveagent.conftest import DEMO_PASSWORD, SECRET, eventually

AUTO = {"LIVEAGENT_ASSIGNMENT": "auto", "LIVEAGENT_SWEEP_SECONDS": "3600"}  # no sweep: every assignment is immediate


@pytest.fixture
def service_env():
    return dict(AUTO)


def test_make_run_assigns_automatically_with_a_90_second_response_limit(tmp_path, monkeypatch):
    values = run_ensure_env(tmp_path, monkeypatch)  # the .env `make run` writes and starts every process with
    settings = Settings.from_env(values)
    assert (settings.assignment, settings.response_limit_seconds, settings.misses_before_away) == ("auto", 90, 2)


def test_automatic_is_the_default_and_manual_an_option():
    assert Settings.from_env({"LIVEAGENT_SECRET": SECRET, "LUMO_ENV": "demo"}).assignment == "auto"
    assert Settings().assignment == "auto"
    manual = Settings.from_env({"LIVEAGENT_SECRET": SECRET, "LUMO_ENV": "demo", "LIVEAGENT_ASSIGNMENT": "Manual"})
    assert manual.assignment == "manual"
    with pytest.raises(SettingsError, match="LIVEAGENT_ASSIGNMENT must be one of auto, manual"):
        Settings.from_env({"LIVEAGENT_SECRET": SECRET, "LUMO_ENV": "demo", "LIVEAGENT_ASSIGNMENT": "random"})


async def chat_of(visitors, text: str = "haluan puhua ihmisen kanssa"):
    """A visitor who asks for a human; returns the visitor and the conversation id (not waiting for a state)."""
    visitor = await visitors()
    await visitor.connect()
    await visitor.say(text)
    return visitor, visitor.token.split(".")[0]


async def mine(agent) -> List[str]:
    return [c["id"] for c in (await (await agent.call("GET", "/conversations")).json())["conversations"]]


async def queue(agent) -> List[str]:
    return [c["id"] for c in (await (await agent.call("GET", "/queue")).json())["conversations"]]


async def set_capacity(supervisor, agent, capacity: Any):
    return await supervisor.call("PUT", f"/agents/{agent.me['id']}/capacity", {"capacity": capacity})


async def create_agent(service, username: str, name: str, role: str = "agent") -> None:
    result = await service.command("create-agent", "--username", username, "--name", name, "--role", role,
                                   "--password-env", "NEW_AGENT_PASSWORD", NEW_AGENT_PASSWORD=DEMO_PASSWORD)
    assert result.returncode == 0, result.stderr


async def test_a_chat_goes_to_the_online_agent_without_a_claim_and_both_are_told(service, visitors, make_agent):
    aino = await make_agent("aino")
    ws_url = service.url.replace("http", "ws") + "/api/agent/ws"
    async with aino.session.ws_connect(ws_url, headers={"Origin": service.url}) as socket:
        assert json.loads((await socket.receive(timeout=5)).data)["type"] == "queue"
        visitor, conversation_id = await chat_of(visitors)
        # the contract other checks rely on: in the agent's own list, without a claim, within 5 s
        assert await eventually(lambda: _has(aino, conversation_id), timeout=5)
        status = await visitor.wait_for("status", lambda d: d.get("state") == "assigned")
        assert status["agent_name"] == "Aino"
        joined = copy.text("status.assigned", agent_name="Aino")
        await visitor.wait_for("bot_uttered", lambda d: d["text"] == joined)
        # never told a queue place first: the chat was taken in the same step as the escalation
        assert [d for d in visitor.received("status") if d.get("state") == "waiting"] == []
        while True:  # the console's "state" event for a chat that became mine (it beeps and notifies)
            event = json.loads((await socket.receive(timeout=5)).data)
            if event["type"] == "state":
                break
        assert (event["conversation"]["id"], event["conversation"]["agent_id"]) == (conversation_id, aino.me["id"])
        assert event["conversation"]["state"] == "assigned"
    detail = await (await aino.call("GET", f"/conversations/{conversation_id}")).json()
    assert detail["conversation"]["state"] == "assigned" and joined in [m["text"] for m in detail["messages"]]
    assert await queue(aino) == []


async def _has(agent, conversation_id: str) -> bool:
    return conversation_id in await mine(agent)


async def test_fewest_chats_first_and_ties_to_the_longest_idle(service, visitors, make_agent):
    await create_agent(service, "aada", "Aada")
    aino, aada = await make_agent("aino"), await make_agent("aada")
    holders: Dict[str, str] = {}
    for _ in range(4):
        _visitor, conversation_id = await chat_of(visitors)
        await eventually(functools.partial(_held, conversation_id, [aino, aada], holders))
    # 1: nobody has had a chat (the lower id); 2: the one with none; 3: a tie, to the one whose chat came
    # earlier; 4: the one with fewer
    assert list(holders.values()) == ["aino", "aada", "aino", "aada"]


async def _held(conversation_id: str, agents, holders: Dict[str, str]) -> bool:
    for agent in agents:
        if conversation_id in await mine(agent):
            holders[conversation_id] = agent.me["username"]
            return True
    return False


async def test_capacity_one_a_freed_slot_takes_the_next_chat_at_once(service, visitors, make_agent):
    aino, ville = await make_agent("aino"), await make_agent("ville")
    assert (await set_capacity(ville, ville, 0)).status == 200  # the supervisor takes no chats himself
    response = await set_capacity(ville, aino, 1)
    assert response.status == 200 and (await response.json())["capacity"] == 1
    first, first_id = await chat_of(visitors)
    await first.wait_for("status", lambda d: d.get("state") == "assigned")
    second, second_id = await chat_of(visitors)
    status = await second.wait_for("status", lambda d: d.get("state") == "waiting")
    assert status["position"] == 1
    assert await mine(aino) == [first_id] and await queue(aino) == [second_id]

    assert (await aino.call("POST", f"/conversations/{first_id}/close")).status == 200
    await second.wait_for("status", lambda d: d.get("state") == "assigned" and d["agent_name"] == "Aino")
    assert await mine(aino) == [second_id] and await queue(aino) == []

    # more room is filled at once; less takes nothing away
    third, third_id = await chat_of(visitors)
    await third.wait_for("status", lambda d: d.get("state") == "waiting")
    assert (await set_capacity(ville, aino, 2)).status == 200
    await third.wait_for("status", lambda d: d.get("state") == "assigned")
    assert (await set_capacity(ville, aino, 1)).status == 200
    assert sorted(await mine(aino)) == sorted([second_id, third_id])


async def test_an_agent_coming_online_gets_the_highest_priority_chat_first(service, visitors, make_agent):
    aino, ville = await make_agent("aino", online=False), await make_agent("ville")
    await set_capacity(ville, ville, 0)  # online (a human is available), but takes no chats
    await set_capacity(ville, aino, 1)
    asked, asked_id = await chat_of(visitors)  # visitor_request: priority 0
    await asked.wait_for("status", lambda d: d.get("state") == "waiting")
    stranded, stranded_id = await chat_of(visitors, JOIN_QUEUE_PAYLOAD)  # rasa_unavailable: priority 2
    await stranded.wait_for("status", lambda d: d.get("state") == "waiting" and d["position"] == 1)
    # the queue agents see and the place each visitor is told: the same order
    assert await queue(ville) == [stranded_id, asked_id]
    await asked.wait_for("status", lambda d: d.get("state") == "waiting" and d["position"] == 2)

    assert (await aino.call("PUT", "/presence", {"presence": "online"})).status == 200
    assert await mine(aino) == [stranded_id]  # at once, in the presence request
    await asked.wait_for("status", lambda d: d.get("state") == "waiting" and d["position"] == 1)
    assert await queue(ville) == [asked_id]


async def test_an_agent_at_capacity_cannot_be_given_more_by_transfer(service, visitors, make_agent):
    aino, ville = await make_agent("aino"), await make_agent("ville")
    await set_capacity(ville, ville, 0)
    _visitor, conversation_id = await chat_of(visitors)
    await eventually(lambda: _has(aino, conversation_id))
    refused = await aino.call("POST", f"/conversations/{conversation_id}/transfer", {"agent_id": ville.me["id"]})
    assert refused.status == 409
    assert await refused.json() == {"error": "agent_full", "message": copy.text("errors.agent_full")}
    assert await mine(aino) == [conversation_id]


async def test_only_a_supervisor_sets_a_capacity_of_a_known_agent_within_bounds(service, make_agent):
    await create_agent(service, "aada", "Aada")
    aino, ville, eeva = await make_agent("aino"), await make_agent("ville"), await make_agent("eeva", online=False)
    assert (await set_capacity(aino, aino, 5)).status == 403
    for wrong in (-1, 21, "3", True, None, 2.5):
        response = await set_capacity(ville, aino, wrong)
        assert response.status == 400, wrong
        assert (await response.json())["error"] == "capacity_invalid"
    missing = await ville.call("PUT", "/agents/999999/capacity", {"capacity": 2})
    assert missing.status == 404 and (await missing.json())["error"] == "agent_not_found"
    assert (await set_capacity(ville, eeva, 2)).status == 404  # an editor takes no chats
    assert (await set_capacity(ville, aino, 5)).status == 200
    agents = {a["username"]: a for a in (await (await aino.call("GET", "/agents")).json())["agents"]}
    assert (agents["aino"]["capacity"], agents["aada"]["capacity"]) == (5, 3)  # 3: the default
    audit = await (await ville.call("GET", "/audit?action=agent.capacity")).json()
    [entry] = audit["entries"]
    assert (entry["actor"]["username"], entry["target"], entry["detail"]) == (
        "ville", f"agent:{aino.me['id']}", {"from": 3, "to": 5})


@pytest.mark.parametrize("service_env", [{"LIVEAGENT_ASSIGNMENT": "manual"}])
async def test_in_manual_mode_chats_wait_for_a_claim_within_capacity(service, visitors, make_agent):
    aino, ville = await make_agent("aino"), await make_agent("ville")
    await set_capacity(ville, aino, 1)
    first, first_id = await chat_of(visitors)
    # the first must be in the queue before the second asks: both turns otherwise race to the queue
    await first.wait_for("status", lambda d: d.get("state") == "waiting" and d["position"] == 1)
    second, second_id = await chat_of(visitors)
    await second.wait_for("status", lambda d: d.get("state") == "waiting" and d["position"] == 2)
    assert await mine(aino) == [] and await queue(aino) == [first_id, second_id]
    assert (await aino.call("POST", f"/conversations/{first_id}/claim")).status == 200
    full = await aino.call("POST", f"/conversations/{second_id}/claim")
    assert full.status == 409
    assert await full.json() == {"error": "at_capacity", "message": copy.text("errors.at_capacity")}
