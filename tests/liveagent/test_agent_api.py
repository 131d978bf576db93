"""Agent API success and error paths not covered by the loop tests (docs/agent-api.md)."""

from __future__ import annotations

from tests.liveagent.conftest import escalated, stored


async def test_notes_stay_internal_and_unread_counts_move(service, visitors, make_agent):
    aino = await make_agent("aino")
    visitor, conversation_id = await escalated(visitors)
    assert (await aino.call("POST", f"/conversations/{conversation_id}/claim")).status == 200
    response = await aino.call("POST", f"/conversations/{conversation_id}/notes", {"text": "Tarkista liitteet"})
    assert response.status == 201
    note = await response.json()
    assert note["kind"] == "note"
    await visitor.say("onko teillä jo tietoa")
    await stored(aino, conversation_id, "onko teillä jo tietoa")
    assert all(m["text"] != "Tarkista liitteet" for m in visitor.messages())
    mine = await (await aino.call("GET", "/conversations")).json()
    assert mine["conversations"][0]["unread"] >= 1
    detail = await (await aino.call("GET", f"/conversations/{conversation_id}")).json()
    newest = detail["messages"][-1]["id"]
    assert (await aino.call("POST", f"/conversations/{conversation_id}/read", {"message_id": newest})).status == 204
    mine = await (await aino.call("GET", "/conversations")).json()
    assert mine["conversations"][0]["unread"] == 0
    assert (await aino.call("POST", f"/conversations/{conversation_id}/read", {"message_id": "x"})).status == 400
    assert (await aino.call("POST", f"/conversations/{conversation_id}/notes", {"text": "  "})).status == 400


async def test_transfer_only_to_online_agents_and_only_by_the_holder(service, visitors, make_agent):
    aino, ville = await make_agent("aino"), await make_agent("ville")
    eeva = await make_agent("eeva", online=False)
    _visitor, conversation_id = await escalated(visitors)
    assert (await aino.call("POST", f"/conversations/{conversation_id}/claim")).status == 200
    response = await ville.call("POST", f"/conversations/{conversation_id}/messages", {"text": "Hei"})
    assert response.status == 403 and (await response.json())["error"] == "not_yours"
    response = await aino.call("POST", f"/conversations/{conversation_id}/transfer", {"agent_id": eeva.me["id"]})
    assert response.status == 409 and (await response.json())["error"] == "agent_not_online"
    response = await aino.call("POST", f"/conversations/{conversation_id}/transfer", {"agent_id": ville.me["id"]})
    assert response.status == 200
    assert (await response.json())["agent_id"] == ville.me["id"]
    assert (await ville.call("POST", f"/conversations/{conversation_id}/messages", {"text": "Hei"})).status == 201
    assert (await aino.call("POST", f"/conversations/{conversation_id}/transfer", {"agent_id": "x"})).status == 400


async def test_close_asks_for_a_rating(service, visitors, make_agent):
    aino = await make_agent("aino")
    visitor, conversation_id = await escalated(visitors)
    assert (await aino.call("POST", f"/conversations/{conversation_id}/claim")).status == 200
    response = await aino.call("POST", f"/conversations/{conversation_id}/close")
    assert response.status == 200 and (await response.json())["state"] == "closed"
    status = await visitor.wait_for("status", lambda d: d.get("ask_rating"))
    assert status["text"] == "Miten onnistuimme? Arvioi asiakaspalvelu asteikolla 1–5."
    await visitor.client.emit("rating", {"score": 9})
    await visitor.wait_for("status", lambda d: d["text"] == "Arvion pitää olla 1–5.")
    await visitor.client.emit("rating", {"score": 5})
    await visitor.wait_for("status", lambda d: d["text"] == "Kiitos arviostasi!")
    assert (await aino.call("POST", f"/conversations/{conversation_id}/close")).status == 409


async def test_visitor_can_cancel_waiting(service, visitors, make_agent):
    await make_agent("aino")
    visitor, conversation_id = await escalated(visitors)
    await visitor.client.emit("cancel_waiting", {})
    await visitor.wait_for("status", lambda d: d["state"] == "bot" and d["text"].startswith("Jonotus peruttu"))
    assert conversation_id not in service.rasa_log()["paused"]


async def test_nobody_online_offers_a_contact_request_that_becomes_a_ticket(service, visitors, make_agent):
    visitor = await visitors()
    await visitor.connect()
    await visitor.say("haluan puhua ihmisen kanssa")
    status = await visitor.wait_for("status", lambda d: d.get("offer_contact_request"))
    assert status["state"] == "bot"
    assert status["text"].startswith("Yhtään asiakaspalvelijaa ei ole juuri nyt paikalla.")
    await visitor.client.emit("contact_request", {"name": "Testi", "contact": "", "message": "Soittakaa"})
    await visitor.wait_for("status", lambda d: d["text"].startswith("Kirjoita nimesi"))
    await visitor.client.emit("contact_request", {"name": "Testi Asiakas", "contact": "040 000 0000",
                                                  "message": "Soittakaa minulle"})
    await visitor.wait_for("status", lambda d: d["text"].startswith("Kiitos! Yhteydenottopyyntösi"))
    aino = await make_agent("aino")
    tickets = (await (await aino.call("GET", "/tickets")).json())["tickets"]
    assert [(t["name"], t["message"], t["handled"]) for t in tickets] == [("Testi Asiakas", "Soittakaa minulle", False)]
    assert (await aino.call("POST", f"/tickets/{tickets[0]['id']}/handled")).status == 200
    assert (await aino.call("POST", "/tickets/999/handled")).status == 404


async def test_canned_replies_are_edited_by_supervisors(service, make_agent):
    ville, aino = await make_agent("ville"), await make_agent("aino")
    response = await ville.call("POST", "/canned", {"title": "Tervehdys", "text": "Hei! Miten voin auttaa?"})
    assert response.status == 201
    canned_id = (await response.json())["id"]
    assert (await ville.call("PUT", f"/canned/{canned_id}", {"title": "Tervehdys", "text": "Hei!"})).status == 200
    assert (await aino.call("PUT", f"/canned/{canned_id}", {"title": "x", "text": "y"})).status == 403
    listed = (await (await aino.call("GET", "/canned")).json())["canned"]
    assert listed == [{"id": canned_id, "title": "Tervehdys", "text": "Hei!"}]
    assert (await ville.call("POST", "/canned", {"title": "", "text": "y"})).status == 400
    assert (await ville.call("DELETE", f"/canned/{canned_id}")).status == 204
    assert (await ville.call("DELETE", f"/canned/{canned_id}")).status == 404


async def test_logout_and_presence(service, make_agent):
    aino = await make_agent("aino")
    agents = (await (await aino.call("GET", "/agents")).json())["agents"]
    assert {a["username"]: a["presence"] for a in agents}["aino"] == "online"
    me = await (await aino.call("GET", "/me")).json()
    assert me["agent"]["display_name"] == "Aino"
    assert (await aino.call("POST", "/logout")).status == 204
    assert (await aino.call("GET", "/me")).status == 401


async def test_oversized_and_malformed_requests_are_refused(service, make_agent):
    aino = await make_agent("aino")
    response = await aino.session.post(f"{service.url}/api/agent/login", data="{not json",
                                       headers={"Content-Type": "application/json"})
    assert response.status == 400
    response = await aino.session.post(f"{service.url}/api/agent/login", data="x" * 200_000)
    assert response.status == 413
