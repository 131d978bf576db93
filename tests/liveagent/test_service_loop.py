"""The live-agent service end to end over its real protocols (fake Rasa at the HTTP boundary)."""

from __future__ import annotations

import asyncio

import pytest
import socketio

from lumo_shared.identity import verify_customer_id
from lumo_shared.settings import IdentitySettings
from tests.conftest import CUSTOMER_ID_KEY, OTHER_KEY, make_token
from tests.liveagent.conftest import escalated, eventually, system_answer


async def test_whole_loop_bot_queue_agent_and_back(service, visitors, make_agent):
    aino = await make_agent("aino")
    visitor = await visitors()
    await visitor.connect()
    conversation_id = visitor.token.split(".")[0]

    await visitor.say("miten kirjaudun")
    reply = await visitor.wait_for("bot_uttered", lambda d: d["text"] == "Botti: miten kirjaudun")
    assert reply["sender"] == "bot" and isinstance(reply["id"], int)
    assert reply["quick_replies"] == [{"content_type": "text", "title": "Lisää", "payload": "/faq"}]

    await visitor.say("haluan puhua ihmisen kanssa")
    status = await visitor.wait_for("status", lambda d: d["state"] == "waiting")
    assert status["position"] == 1
    # Aino is online with room: no made-up wait, she will come shortly.
    assert status["text"] == "Olet jonossa ensimmäisenä. Vapaa asiakaspalvelija tulee pian keskusteluun."
    assert status["wait_minutes"] is None

    queue = await (await aino.call("GET", "/queue")).json()
    [brief] = queue["conversations"]
    assert brief["id"] == conversation_id
    assert brief["reason"] == "visitor_request"
    assert brief["reason_text"] == "Asiakas pyysi asiakaspalvelijaa"
    assert brief["intents"] == ["faq/login", "request_human"]
    assert brief["customer"] == {"verified": False}

    response = await aino.call("POST", f"/conversations/{conversation_id}/claim")
    assert response.status == 200, await response.text()
    assigned = await visitor.wait_for("status", lambda d: d["state"] == "assigned")
    assert assigned["agent_name"] == "Aino"
    assert assigned["text"] == "Sinua palvelee asiakaspalvelija Aino."  # the chat itself says who joined

    transcript = await (await aino.call("GET", f"/conversations/{conversation_id}")).json()
    texts = [m["text"] for m in transcript["messages"]]
    assert texts[:3] == ["miten kirjaudun", "Botti: miten kirjaudun", "haluan puhua ihmisen kanssa"]

    response = await aino.call("POST", f"/conversations/{conversation_id}/messages", {"text": "Hei, Aino täällä."})
    assert response.status == 201
    agent_reply = await visitor.wait_for("bot_uttered", lambda d: d["sender"] == "agent")
    assert agent_reply["text"] == "Hei, Aino täällä." and agent_reply["agent_name"] == "Aino"

    await visitor.say("kiitos, onko hakemukseni käsitelty?")

    async def recorded_in_rasa():
        log = service.rasa_log()
        return log if any(e["kind"] == "event" and e["event"].get("text") == "kiitos, onko hakemukseni käsitelty?"
                          for e in log["log"][conversation_id]) else None

    log = await eventually(recorded_in_rasa)
    agent_events = [e["event"] for e in log["log"][conversation_id] if e["kind"] == "event"]
    # Still recorded in Rasa's transcript, as an event: no NLU runs on it while the bot is paused.
    recorded = [e for e in agent_events if e.get("event") == "user"]
    assert [(e["text"], e["parse_data"]["intent"], e["metadata"]) for e in recorded] == [
        ("kiitos, onko hakemukseni käsitelty?", {}, {})]  # parse_data: Rasa cannot build the event without
    assert [e["text"] for e in log["log"][conversation_id] if e["kind"] == "user"][-1] == "haluan puhua ihmisen kanssa"
    assert not [m for m in visitor.received("bot_uttered") if m["text"].startswith("Botti: kiitos")]  # bot silent
    assert {"event": "bot", "text": "Hei, Aino täällä.", "metadata": {"human_agent": "Aino"}} in agent_events

    response = await aino.call("POST", f"/conversations/{conversation_id}/return")
    assert response.status == 200
    await visitor.wait_for("status", lambda d: d["text"] == "Keskustelu palasi botille. Voit jatkaa kysymistä.")
    assert conversation_id not in service.rasa_log()["paused"]
    await visitor.say("milloin maksupäivä on")
    await visitor.wait_for("bot_uttered", lambda d: d["text"] == "Botti: milloin maksupäivä on")

    ids = [m["id"] for m in visitor.messages()]
    assert len(ids) == len(set(ids)), "a message reached the visitor twice"


async def test_forged_or_replayed_session_ids_get_nothing(service, visitors):
    first = await visitors()
    await first.connect()
    await first.say("salainen asia")
    await first.wait_for("bot_uttered")
    victim_id = first.token.split(".")[0]

    for forged in (victim_id, f"{victim_id}.forgedsignature", f"{'0' * 32}.AAAA"):
        intruder = await visitors()
        await intruder.connect(token=forged)
        assert intruder.token.split(".")[0] != victim_id
        history = intruder.received("history")[0]
        assert history["messages"] == []
        await intruder.close()


async def test_cross_origin_socket_is_refused(service, visitors):
    visitor = await visitors()
    with pytest.raises(socketio.exceptions.ConnectionError):
        await visitor.connect(origin="https://evil.example")


async def test_double_claim_has_exactly_one_winner(service, visitors, make_agent):
    aino, ville = await make_agent("aino"), await make_agent("ville")
    visitor, conversation_id = await escalated(visitors)
    responses = await asyncio.gather(aino.call("POST", f"/conversations/{conversation_id}/claim"),
                                     ville.call("POST", f"/conversations/{conversation_id}/claim"))
    statuses = sorted(r.status for r in responses)
    assert statuses == [200, 409]
    loser = next(r for r in responses if r.status == 409)
    body = await loser.json()
    assert body["error"] == "already_claimed"
    assert body["message"] == "Toinen asiakaspalvelija ehti ottaa keskustelun käsittelyyn."


async def test_the_typing_indicator_shows_only_for_a_slow_answer(service, visitors):
    visitor = await visitors()
    await visitor.connect()
    await visitor.say("moi")
    await visitor.wait_for("bot_uttered", lambda d: d["text"] == "Botti: moi")
    assert visitor.received("typing") == []  # a fast answer: no flicker

    await visitor.say("mietippä hetki")
    await visitor.wait_for("bot_uttered", lambda d: d["text"] == "Botti: mietippä hetki")
    assert visitor.received("typing") == [{"who": "bot", "on": True}, {"who": "bot", "on": False}]
    # Stored while Rasa was thinking, and in order: a reconnecting tab gets the whole exchange.
    await visitor.close()
    visitor.last_seen_id, visitor.events = 0, []
    await visitor.connect(visitor.token)
    history = await visitor.wait_for("history")
    assert [(m["sender"], m["text"]) for m in history["messages"]] == [
        ("visitor", "moi"), ("bot", "Botti: moi"), ("visitor", "mietippä hetki"), ("bot", "Botti: mietippä hetki")]


async def test_silent_rasa_gets_a_finnish_message_and_the_queue(service, visitors, make_agent):
    await make_agent("aino")
    visitor, message = await system_answer(visitors, "hiljaa", timeout=6)
    assert message["text"] == "Pahoittelut, botti ei juuri nyt vastaa. Voit jäädä jonoon odottamaan asiakaspalvelijaa."
    [button] = message["quick_replies"]
    await visitor.say(button["payload"])
    status = await visitor.wait_for("status", lambda d: d["state"] == "waiting")
    assert status["position"] == 1


async def test_reconnecting_visitor_gets_exactly_what_it_missed(service, visitors, make_agent):
    aino = await make_agent("aino")
    visitor, conversation_id = await escalated(visitors)
    assert (await aino.call("POST", f"/conversations/{conversation_id}/claim")).status == 200
    await visitor.wait_for("status", lambda d: d["state"] == "assigned")  # after the "joined" message
    token, seen = visitor.token, visitor.last_seen_id
    await visitor.close()

    for text in ("Ensimmäinen viesti", "Toinen viesti"):
        assert (await aino.call("POST", f"/conversations/{conversation_id}/messages", {"text": text})).status == 201

    again = await visitors()
    again.last_seen_id = seen
    await again.connect(token=token)
    history = again.received("history")[0]
    assert [m["text"] for m in history["messages"]] == ["Ensimmäinen viesti", "Toinen viesti"]
    assert history["status"]["state"] == "assigned"


async def test_a_message_shows_in_the_visitors_other_tab_and_not_back_in_its_own(service, visitors):
    first = await visitors()
    await first.connect()
    other = await visitors()
    await other.connect(token=first.token)  # a second tab of the same session
    stranger = await visitors()
    await stranger.connect()
    before = len(first.events)
    await first.say("Kysymys ensimmäisestä välilehdestä")
    echoed = await other.wait_for("history", lambda d: d["messages"] and "status" not in d)
    assert [(m["sender"], m["text"]) for m in echoed["messages"]] == [
        ("visitor", "Kysymys ensimmäisestä välilehdestä")]
    await first.wait_for("bot_uttered", since=before)  # the answer came to the tab that asked...
    await other.wait_for("bot_uttered")  # ...and to the other one
    assert [d for name, d in first.events[before:] if name == "history"] == []  # its own message is not echoed
    assert [d for name, d in stranger.events if name == "history" and d["messages"]] == []


async def test_restart_during_agent_chat_loses_and_duplicates_nothing(service, visitors, make_agent):
    aino = await make_agent("aino")
    visitor, conversation_id = await escalated(visitors)
    assert (await aino.call("POST", f"/conversations/{conversation_id}/claim")).status == 200
    assert (await aino.call("POST", f"/conversations/{conversation_id}/messages", {"text": "Ennen"})).status == 201
    await visitor.wait_for("bot_uttered", lambda d: d["text"] == "Ennen")
    token, seen = visitor.token, visitor.last_seen_id
    await visitor.close()

    await service.stop()
    await service.start()

    aino_again = await make_agent("aino")  # the agent logs in again and comes back online
    response = await aino_again.call("GET", f"/conversations/{conversation_id}")
    before = [m["text"] for m in (await response.json())["messages"]]
    assert before.count("Ennen") == 1
    state = (await response.json())["conversation"]["state"]
    if state == "waiting":  # the agent was offline during the restart: back to the queue, reclaim
        assert (await aino_again.call("POST", f"/conversations/{conversation_id}/claim")).status == 200
    response = await aino_again.call("POST", f"/conversations/{conversation_id}/messages", {"text": "Jälkeen"})
    assert response.status == 201

    again = await visitors()
    again.last_seen_id = seen
    await again.connect(token=token)
    texts = [m["text"] for m in again.received("history")[0]["messages"]]
    assert "Ennen" not in texts
    assert texts[-1] == "Jälkeen"
    assert len(texts) == len(set(texts))


async def test_only_verified_identity_reaches_rasa(service, visitors):
    visitor = await visitors()
    await visitor.connect()
    conversation_id = visitor.token.split(".")[0]
    await visitor.say("eka", auth_token=make_token("LUMO-1001"))
    await visitor.wait_for("bot_uttered", lambda d: d["text"] == "Botti: eka")
    await visitor.say("toka", auth_token=make_token("LUMO-1001", key=OTHER_KEY))
    await visitor.wait_for("bot_uttered", lambda d: d["text"] == "Botti: toka")
    sent = [e for e in service.rasa_log()["log"][conversation_id] if e["kind"] == "user"]
    # the verified customer id, signed by the service for this conversation; never the website's JWT
    assert set(sent[0]["metadata"]) == {"customer"}
    identity = verify_customer_id(sent[0]["metadata"]["customer"], conversation_id,
                                  IdentitySettings(customer_id_key=CUSTOMER_ID_KEY))
    assert identity is not None and identity.customer_id == "LUMO-1001"
    assert sent[1]["metadata"] == {}


async def test_agent_api_errors(service, make_agent):
    agent = await make_agent()
    assert (await agent.login("aino", "wrong-password")).status == 401
    assert (await agent.call("GET", "/queue")).status == 401
    for _ in range(4):
        await agent.login("ville", "wrong-password")
    response = await agent.login("ville", "wrong-password")
    assert response.status == 401  # the fifth failure; no lockout
    delayed = await agent.login("ville")  # the backoff holds: the right password is not checked
    assert delayed.status == 429 and (await delayed.json())["error"] == "login_delayed"
    assert (await agent.login("aino")).status == 200
    response = await agent.call("PUT", "/presence", {"presence": "online"}, csrf=False)
    assert response.status == 403 and (await response.json())["error"] == "csrf"
    assert (await agent.call("PUT", "/presence", {"presence": "dancing"})).status == 400
    assert (await agent.call("GET", "/conversations/nope")).status == 404
    assert (await agent.call("POST", "/conversations/nope/claim")).status == 404
    assert (await agent.call("POST", "/canned", {"title": "x", "text": "y"})).status == 403


async def test_agent_websocket_pushes_queue_and_messages(service, visitors, make_agent):
    import json

    aino = await make_agent("aino")
    ws_url = service.url.replace("http", "ws") + "/api/agent/ws"
    async with aino.session.ws_connect(ws_url, headers={"Origin": service.url}) as socket:
        first = json.loads((await socket.receive(timeout=5)).data)
        assert first == {"type": "queue", "conversations": []}
        visitor = await visitors()
        await visitor.connect()
        await visitor.say("haluan puhua ihmisen kanssa")
        conversation_id = visitor.token.split(".")[0]
        while True:
            event = json.loads((await socket.receive(timeout=8)).data)
            if event["type"] == "queue" and event["conversations"]:
                break
        assert event["conversations"][0]["id"] == conversation_id
        assert (await aino.call("POST", f"/conversations/{conversation_id}/claim")).status == 200
        await visitor.say("oletko siellä")
        while True:
            event = json.loads((await socket.receive(timeout=8)).data)
            if event["type"] == "message" and event["message"]["text"] == "oletko siellä":
                break
        assert event["conversation_id"] == conversation_id
        await socket.send_str(json.dumps({"type": "ping"}))


async def test_a_resume_after_a_resync_replays_what_was_written_since_also_below_the_newest_id(
        service, visitors, make_agent):
    """After a Redis outage the console has its own replica's newer messages but missed older ones from
    the other replica: a resume with the resync's ``since`` replays by time, marked as resumed."""
    import datetime as dt
    import json

    aino = await make_agent("aino")
    visitor, conversation_id = await escalated(visitors)
    assert (await aino.call("POST", f"/conversations/{conversation_id}/claim")).status == 200
    since = dt.datetime.now(dt.timezone.utc)
    for text in ("eka", "toka"):
        await visitor.say(text)
    shown = await eventually(lambda: _texts(service, conversation_id, ("eka", "toka")), timeout=8)
    newest = max(shown.values())  # the console has "toka" but missed "eka"

    async def replayed(resume: dict) -> list:
        ws_url = service.url.replace("http", "ws") + "/api/agent/ws"
        async with aino.session.ws_connect(ws_url, headers={"Origin": service.url}) as socket:
            await socket.send_str(json.dumps(resume))
            got = []
            while True:
                try:
                    event = json.loads((await socket.receive(timeout=1.5)).data)
                except asyncio.TimeoutError:
                    return got
                if event["type"] == "message":
                    got.append(event)

    by_id = await replayed({"type": "resume", "after_id": newest})
    assert by_id == []  # the newest id alone misses "eka"
    by_time = await replayed({"type": "resume", "after_id": newest, "since": since.isoformat()})
    assert [e["message"]["text"] for e in by_time] == ["eka", "toka"]
    assert all(e["resumed"] is True and e["conversation_id"] == conversation_id for e in by_time)
    naive = await replayed({"type": "resume", "after_id": newest, "since": since.replace(tzinfo=None).isoformat()})
    assert naive == []  # a time without its zone is not guessed at: the id alone counts


async def _texts(service, conversation_id: str, texts: tuple) -> dict:
    """The ids of the visitor's messages ``texts`` once all are stored (None until then)."""
    found = {m.text: m.id for m in await service.store.messages.after(conversation_id, 0, visible_to="agent")
             if m.text in texts}
    return found if len(found) == len(texts) else None


async def test_agent_websocket_refuses_other_origins_and_anonymous(service, make_agent):
    import aiohttp

    aino = await make_agent("aino")
    ws_url = service.url.replace("http", "ws") + "/api/agent/ws"
    async with aino.session.ws_connect(ws_url, headers={"Origin": "https://evil.example"}) as socket:
        message = await socket.receive(timeout=5)
        assert message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
        assert socket.close_code == 4403
    async with aiohttp.ClientSession() as anonymous:
        async with anonymous.ws_connect(ws_url, headers={"Origin": service.url}) as socket:
            await socket.receive(timeout=5)
            assert socket.close_code == 4401
