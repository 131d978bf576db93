"""Per-visitor erasure (POST /api/agent/erasure): the service's copy and the Rasa tracker (deleted with
Rasa's DELETE .../tracker, rasa_runtime/erasure.py), audited without the identifier; refused unless a
supervisor asks with the CSRF header about a finished chat."""

from __future__ import annotations

import json
from typing import Any, Dict

import pytest

from liveagent.store import Store, Transition
from stack.processes import free_port
from tests.liveagent.conftest import Visitor, escalated
from tests.liveagent.store.common import FAST_HASHER

DONE = "Asiakkaan tiedot poistettiin palvelusta ja botin keskusteluhistoriasta."
KEPT = ("Asiakkaan tiedot poistettiin palvelusta, mutta botin keskusteluhistoriaan jäi viestejä. "
        "Pyydä ylläpitäjää poistamaan ne botin tietokannasta.")
VERIFIED = {"summary": {"customer": {"verified": True, "customer_id": "LUMO-1004"}}}


@pytest.fixture
def service_env(request, monkeypatch):
    """``{"fake_rasa": {...}, "service": {...}}`` by indirect parametrization; the fake Rasa reads its
    options from the environment it inherits."""
    options = getattr(request, "param", {})
    for key, value in options.get("fake_rasa", {}).items():
        monkeypatch.setenv(key, value)
    return options.get("service", {})


async def finished_chat(visitors, aino) -> Dict[str, Any]:
    """A visitor talks to the bot and to Aino, leaves a contact request, and Aino closes the chat."""
    visitor, conversation_id = await escalated(visitors)
    assert (await aino.call("POST", f"/conversations/{conversation_id}/claim")).status == 200
    await visitor.say("hetuni on 131052-308T")
    await visitor.client.emit("contact_request", {"name": "Matti", "contact": "040 123 4567", "message": "Soita"})
    await visitor.wait_for("status", lambda d: d["text"].startswith("Kiitos! Yhteydenottopyyntösi"))
    assert (await aino.call("POST", f"/conversations/{conversation_id}/messages", {"text": "Selvä"})).status == 201
    assert (await aino.call("POST", f"/conversations/{conversation_id}/close")).status == 200
    return {"visitor": visitor, "id": conversation_id}


async def audit(agent, action: str = "erasure") -> list:
    return (await (await agent.call("GET", f"/audit?action={action}")).json())["entries"]


async def test_erasure_of_a_conversation_deletes_it_everywhere_and_audits_without_the_id(
        service, visitors, make_agent):
    aino, ville = await make_agent("aino"), await make_agent("ville")
    chat = await finished_chat(visitors, aino)
    conversation_id = chat["id"]
    response = await ville.call("POST", "/erasure", {"conversation_id": conversation_id})
    assert response.status == 200, await response.text()
    result = await response.json()
    assert (result["complete"], result["message"], result["rasa_remaining"]) == (True, DONE, [])
    deleted = result["deleted"]
    assert (deleted["conversations"], deleted["tickets"], deleted["rasa_trackers"]) == (1, 1, 1)
    assert (deleted["rasa_trackers_deleted"], deleted["rasa_trackers_still_with_text"]) == (1, 0)
    assert deleted["messages"] >= 4 and deleted["events"] == 3  # escalate, claim, close

    rasa = service.rasa_log()
    assert rasa["erased"] == [conversation_id] and conversation_id not in rasa["log"]
    assert rasa["replaced"] == []  # deleted, not emptied: nothing to read back
    assert (await aino.call("GET", f"/conversations/{conversation_id}")).status == 404
    tickets = (await (await aino.call("GET", "/tickets")).json())["tickets"]
    assert [t for t in tickets if t["conversation_id"] == conversation_id] == []
    entry = (await audit(ville))[0]
    assert entry["actor"]["username"] == "ville" and entry["target"] is None
    assert entry["detail"]["by"] == "conversation_id" and entry["detail"]["outcome"] == "complete"
    assert len(entry["detail"]["subject"]) == 32 and entry["detail"]["conversations"] == 1
    assert conversation_id not in json.dumps(entry)
    again = Visitor(service)  # the visitor's old session finds nothing of what was said
    await again.connect(chat["visitor"].token)
    assert again.received("history")[0]["messages"] == []


async def test_erasure_is_refused_unless_a_supervisor_asks_properly(service, visitors, make_agent):
    aino, ville = await make_agent("aino"), await make_agent("ville")
    _visitor, waiting_id = await escalated(visitors)
    response = await aino.call("POST", "/erasure", {"conversation_id": waiting_id})
    assert response.status == 403 and (await response.json())["message"] == "Tämä toiminto kuuluu esihenkilölle."
    assert (await aino.call("GET", "/audit")).status == 403
    assert (await ville.call("POST", "/erasure", {"conversation_id": waiting_id}, csrf=False)).status == 403
    for bad in ({}, {"conversation_id": 5}, {"conversation_id": " "}, {"customer_id": ["LUMO-1004"]},
                {"conversation_id": waiting_id, "customer_id": "LUMO-1004"}, {"conversation_id": "x" * 200}):
        response = await ville.call("POST", "/erasure", bad)
        assert response.status == 400, bad
    response = await ville.call("POST", "/erasure", {"conversation_id": waiting_id})
    assert response.status == 409
    assert (await response.json())["message"] == ("Keskustelu on vielä kesken. Päätä keskustelu ennen kuin "
                                                  "poistat asiakkaan tiedot.")
    assert [c["id"] for c in (await (await ville.call("GET", "/queue")).json())["conversations"]] == [waiting_id]
    assert service.rasa_log()["erased"] == [] and service.rasa_log()["replaced"] == [] and await audit(ville) == []


async def test_erasure_of_a_customer_covers_all_their_verified_conversations(service, make_agent):
    store = await Store.open(service.env["LIVEAGENT_DATABASE_URL"], hasher=FAST_HASHER)
    try:
        for conversation_id, customer in (("a" * 32, VERIFIED), ("b" * 32, VERIFIED), ("c" * 32, None)):
            await store.conversations.get_or_create(conversation_id)
            await store.conversations.transition(conversation_id, Transition.ESCALATE, reason="visitor_request",
                                                 handoff=customer)
            await store.messages.add(conversation_id, "visitor", "text", "hakemukseni tila?")
            await store.conversations.transition(conversation_id, Transition.CLOSE)
    finally:
        await store.close()
    ville = await make_agent("ville")
    response = await ville.call("POST", "/erasure", {"customer_id": "LUMO-1004"})
    result = await response.json()
    assert response.status == 200 and result["complete"]
    assert (result["deleted"]["conversations"], result["deleted"]["messages"]) == (2, 2)
    assert sorted(service.rasa_log()["erased"]) == ["a" * 32, "b" * 32]
    assert (await ville.call("GET", f"/conversations/{'c' * 32}")).status == 200
    assert (await ville.call("GET", f"/conversations/{'a' * 32}")).status == 404
    entry = (await audit(ville))[0]
    assert entry["detail"]["by"] == "customer_id" and "LUMO-1004" not in json.dumps(entry)
    nobody = await ville.call("POST", "/erasure", {"customer_id": "LUMO-9999"})
    assert nobody.status == 200 and (await nobody.json())["deleted"]["conversations"] == 0


@pytest.mark.parametrize("service_env", [{"fake_rasa": {"FAKE_RASA_APPEND_ONLY": "1"}}], indirect=True)
async def test_a_tracker_store_that_keeps_events_is_reported_not_hidden(service, visitors, make_agent):
    """A Rasa that cannot delete (501: e.g. a Mongo tracker store) gets its events replaced with none;
    a store that ignores that too is reported, not hidden (docs/security.md)."""
    visitor = await visitors()
    await visitor.connect()
    await visitor.say("moi")
    await visitor.wait_for("bot_uttered")
    conversation_id = visitor.token.split(".")[0]
    ville = await make_agent("ville")
    response = await ville.call("POST", "/erasure", {"conversation_id": conversation_id})
    result = await response.json()
    assert response.status == 200
    assert (result["complete"], result["message"], result["rasa_remaining"]) == (False, KEPT, [conversation_id])
    assert (service.rasa_log()["erased"], service.rasa_log()["replaced"]) == ([], [conversation_id])
    assert (result["deleted"]["rasa_trackers_deleted"], result["deleted"]["rasa_trackers_still_with_text"]) == (0, 1)
    assert (await ville.call("GET", f"/conversations/{conversation_id}")).status == 404  # the service's copy went
    entry = (await audit(ville))[0]
    assert (entry["detail"]["outcome"], entry["detail"]["rasa_trackers_still_with_text"]) == ("rasa_kept_text", 1)


@pytest.mark.parametrize("service_env", [{"service": {"LIVEAGENT_RASA_URL": f"http://127.0.0.1:{free_port()}"}}],
                         indirect=True)
async def test_with_rasa_unreachable_nothing_is_deleted(service, visitors, make_agent):
    visitor = await visitors()
    await visitor.connect()
    await visitor.say("moi")
    await visitor.wait_for("bot_uttered", lambda d: d["text"].startswith("Pahoittelut, botti ei"))
    conversation_id = visitor.token.split(".")[0]
    ville = await make_agent("ville")
    response = await ville.call("POST", "/erasure", {"conversation_id": conversation_id})
    assert response.status == 502
    assert (await response.json())["message"] == ("Botin keskusteluhistoriaa ei saatu poistettua, joten mitään ei "
                                                  "poistettu. Yritä hetken kuluttua uudelleen.")
    assert (await ville.call("GET", f"/conversations/{conversation_id}")).status == 200
    assert (await audit(ville))[0]["detail"]["outcome"] == "rasa_unreachable"


def test_a_later_run_can_tell_which_visitor_an_erasure_was_about():
    from liveagent.auditing import subject_digest

    one = subject_digest("s" * 40, "customer_id", "LUMO-1004")
    assert one == subject_digest("s" * 40, "customer_id", "LUMO-1004") != subject_digest("t" * 40, "customer_id",
                                                                                         "LUMO-1004")
    assert one != subject_digest("s" * 40, "customer_id", "LUMO-1005") and "LUMO" not in one
