"""Auto-away and requeue: chats never stay with an agent who is gone or silent."""

from __future__ import annotations

import pytest

from tests.liveagent.conftest import escalated, eventually


@pytest.fixture
def service_env():
    return {"LIVEAGENT_SWEEP_SECONDS": "0.2", "LIVEAGENT_AUTO_AWAY_SECONDS": "2",
            "LIVEAGENT_UNANSWERED_REQUEUE_SECONDS": "2"}


async def presence_of(agent, username):
    agents = (await (await agent.call("GET", "/agents")).json())["agents"]
    return {a["username"]: a["presence"] for a in agents}[username]


async def test_idle_agent_goes_away(service, make_agent):
    aino = await make_agent("aino")
    assert await presence_of(aino, "aino") == "online"

    async def away() -> bool:  # reading the list is no heartbeat: only the console's websocket is
        return await presence_of(aino, "aino") == "away"

    await eventually(away)


async def test_unanswered_visitor_goes_back_to_the_queue(service, visitors, make_agent):
    aino = await make_agent("aino")
    visitor, conversation_id = await escalated(visitors)
    assert (await aino.call("POST", f"/conversations/{conversation_id}/claim")).status == 200
    await visitor.wait_for("status", lambda d: d["state"] == "assigned")
    await visitor.say("haloo?")
    message = await visitor.wait_for("bot_uttered", lambda d: d["text"].startswith("Asiakaspalvelija joutui"),
                                     timeout=10)
    assert message["text"] == "Asiakaspalvelija joutui poistumaan. Olet taas jonossa sijalla 1."
    queue = (await (await aino.call("GET", "/queue")).json())["conversations"]
    assert [c["id"] for c in queue] == [conversation_id]


async def test_agent_going_offline_returns_chats_to_the_queue(service, visitors, make_agent):
    aino, ville = await make_agent("aino"), await make_agent("ville")
    visitor, conversation_id = await escalated(visitors)
    assert (await aino.call("POST", f"/conversations/{conversation_id}/claim")).status == 200
    assert (await aino.call("PUT", "/presence", {"presence": "offline"})).status == 200
    queue = (await (await ville.call("GET", "/queue")).json())["conversations"]
    assert [c["id"] for c in queue] == [conversation_id]
    await visitor.wait_for("status", lambda d: d["state"] == "waiting" and d["position"] == 1)
