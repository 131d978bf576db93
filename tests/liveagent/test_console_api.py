"""What the agent console reads and changes beyond the basic loop (issue 15, the console's daily annoyances):
canned replies pushed live, topic titles, handovers, contact requests, wait estimates, answered questions."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any, Callable, Dict, List

import pytest

from liveagent.topics import TopicTitles
from tests.conftest import content_copy, make_token
from tests.liveagent.conftest import Agent, Visitor, escalated, eventually, stored

WAIT = 8.0


@pytest.fixture
def content_root(tmp_path):
    return content_copy(tmp_path / "project", model=b"model-in-use")


@pytest.fixture
def service_env(content_root):
    return {"LIVEAGENT_CONTENT_ROOT": str(content_root)}


async def editor_call(agent: Agent, method: str, path: str, json: Any = None) -> Any:
    response = await agent.session.request(method, f"{agent.service.url}/api/editor{path}", json=json,
                                           headers={"X-CSRF-Token": agent.csrf})
    assert response.status in (200, 201), await response.text()
    return await response.json()


async def agent_socket(agent: Agent):
    """The console's websocket of ``agent``, past its first (queue) event."""
    socket = await agent.session.ws_connect(agent.service.url.replace("http", "ws") + "/api/agent/ws",
                                            headers={"Origin": agent.service.url})
    first = json.loads((await socket.receive(timeout=5)).data)
    assert first["type"] == "queue"
    return socket


async def next_event(socket: Any, predicate: Callable[[Dict[str, Any]], bool]) -> Dict[str, Any]:
    async def wanted() -> Dict[str, Any]:
        while True:
            event = json.loads((await socket.receive()).data)
            if predicate(event):
                return event

    return await asyncio.wait_for(wanted(), WAIT)


def canned_event(event: Dict[str, Any]) -> bool:
    return event["type"] == "canned"


async def test_canned_reply_changes_reach_every_open_console_at_once(service, make_agent):
    ville, aino = await make_agent("ville"), await make_agent("aino")
    aino_socket, ville_socket = await agent_socket(aino), await agent_socket(ville)
    try:
        created = await ville.call("POST", "/canned", {"title": "Tervehdys", "text": "Hei! Miten voin auttaa?"})
        assert created.status == 201
        reply = await created.json()
        for socket in (aino_socket, ville_socket):  # the supervisor's own other tabs too
            event = await next_event(socket, canned_event)
            assert event["canned"] == [reply]

        assert (await ville.call("PUT", f"/canned/{reply['id']}", {"title": "Tervehdys", "text": "Hei!"})).status == 200
        event = await next_event(aino_socket, canned_event)
        assert event["canned"] == [{"id": reply["id"], "title": "Tervehdys", "text": "Hei!"}]

        second = await (await ville.call("POST", "/canned", {"title": "Aukioloajat", "text": "Ma–pe 8–16."})).json()
        event = await next_event(aino_socket, canned_event)
        assert [c["title"] for c in event["canned"]] == ["Aukioloajat", "Tervehdys"]

        assert (await ville.call("DELETE", f"/canned/{reply['id']}")).status == 204
        event = await next_event(aino_socket, canned_event)
        assert event["canned"] == [second]
        # an agent's refused change tells nobody anything
        assert (await aino.call("POST", "/canned", {"title": "x", "text": "y"})).status == 403
        assert (await aino.call("DELETE", f"/canned/{second['id']}")).status == 403
        assert (await (await aino.call("GET", "/canned")).json())["canned"] == [second]
    finally:
        await aino_socket.close()
        await ville_socket.close()


async def test_a_canned_reply_too_long_is_refused_whole_never_cut(service, make_agent):
    ville = await make_agent("ville")
    limit = int(service.env.get("LIVEAGENT_MAX_MESSAGE_CHARS", 2000))
    response = await ville.call("POST", "/canned", {"title": "Pitkä", "text": "a" * (limit + 1)})
    assert response.status == 400
    refused = await response.json()
    assert refused["error"] == "too_long" and refused["message"]
    assert (await ville.call("POST", "/canned", {"title": "t" * 201, "text": "Hei"})).status == 400
    assert (await (await ville.call("GET", "/canned")).json())["canned"] == []
    exact = await ville.call("POST", "/canned", {"title": "t" * 200, "text": "a" * limit})
    assert exact.status == 201
    assert len((await exact.json())["text"]) == limit


async def test_topic_titles_come_from_the_topic_files_and_follow_their_changes(tmp_path):
    root = content_copy(tmp_path / "project", model=b"model-in-use")
    titles = TopicTitles(root, max_age_seconds=0)
    described = await titles.describe(["faq/attachments", "check_account_status", "faq/no_such_topic", "new_intent"])
    assert described == [
        {"label": "faq/attachments", "title": "Liitteiden lähettäminen"},  # data/faq/attachments.yml metadata.title
        {"label": "check_account_status", "title": "oman asian tilanne"},  # content/copy_fi.yml labels
        {"label": "faq/no_such_topic", "title": "faq/no_such_topic"},
        {"label": "new_intent", "title": "new_intent"}]
    path = Path(root) / "data" / "faq" / "attachments.yml"
    path.write_text(path.read_text(encoding="utf-8").replace('title: "Liitteiden lähettäminen"', 'title: "Liitteet"'),
                    encoding="utf-8")
    assert (await titles.describe(["faq/attachments"]))[0]["title"] == "Liitteet"
    cached = TopicTitles(root, max_age_seconds=3600)
    await cached.titles()
    path.unlink()
    assert (await cached.titles())["faq/attachments"] == "Liitteet"  # not looked at again within max_age


async def test_briefs_name_the_topics_by_their_titles_and_follow_the_editor(service, visitors, make_agent):
    aino = await make_agent("aino")
    _visitor, conversation_id = await escalated(visitors)
    [brief] = (await (await aino.call("GET", "/queue")).json())["conversations"]
    assert brief["intents"] == ["faq/login", "request_human"]  # the ids stay, for tools
    assert brief["topics"] == [{"label": "faq/login", "title": "Kirjautuminen"},
                               {"label": "request_human", "title": "asiakaspalvelijan pyyntö"}]

    eeva = await make_agent("eeva", online=False)
    topic = (await editor_call(eeva, "GET", "/topics/login"))["topic"]
    await editor_call(eeva, "PUT", "/topics/login/answer", {"text": topic["answer"], "version": topic["version"],
                                                            "title": "Kirjautuminen asiointiin"})

    async def retitled() -> bool:
        detail = await (await aino.call("GET", f"/conversations/{conversation_id}")).json()
        return detail["conversation"]["topics"][0]["title"] == "Kirjautuminen asiointiin"

    await eventually(retitled)


async def test_a_transferred_chat_says_who_transferred_it_and_what_waits_for_an_answer(service, visitors, make_agent):
    aino, ville = await make_agent("aino"), await make_agent("ville")
    visitor, conversation_id = await escalated(visitors)
    [queued] = (await (await aino.call("GET", "/queue")).json())["conversations"]
    assert queued["handover"] is None
    assert queued["unanswered"]["text"] == "haluan puhua ihmisen kanssa"
    assert (await aino.call("POST", f"/conversations/{conversation_id}/claim")).status == 200
    hello = {"text": "Hei, Aino täällä."}
    assert (await aino.call("POST", f"/conversations/{conversation_id}/messages", hello)).status == 201
    [held] = (await (await aino.call("GET", "/conversations")).json())["conversations"]
    assert held["handover"] is None and held["unanswered"] is None  # answered
    await visitor.say("Milloin rahani tulevat?")
    await visitor.say("/affirm")  # a quick reply's payload is no question
    await stored(aino, conversation_id, "/affirm")

    ville_socket = await agent_socket(ville)
    try:
        response = await aino.call("POST", f"/conversations/{conversation_id}/transfer", {"agent_id": ville.me["id"]})
        assert response.status == 200
        event = await next_event(ville_socket, lambda e: e["type"] == "state")
    finally:
        await ville_socket.close()
    held_by_ville = (await (await ville.call("GET", "/conversations")).json())["conversations"][0]
    for brief in (event["conversation"], held_by_ville):
        handover = brief["handover"]
        names = (handover["kind"], handover["from_agent_name"], handover["to_agent_name"])
        assert names == ("transfer", "Aino", "Ville")
        assert (handover["from_agent_id"], handover["to_agent_id"]) == (aino.me["id"], ville.me["id"])
        assert brief["unanswered"]["text"] == "Milloin rahani tulevat?" and brief["unanswered"]["sender"] == "visitor"
    # a note is no answer; the new holder's reply is
    assert (await ville.call("POST", f"/conversations/{conversation_id}/notes", {"text": "Katson tämän"})).status == 201
    detail = await (await ville.call("GET", f"/conversations/{conversation_id}")).json()
    assert detail["conversation"]["unanswered"]["text"] == "Milloin rahani tulevat?"
    answer = {"text": "Maksu lähtee 15. päivä."}
    assert (await ville.call("POST", f"/conversations/{conversation_id}/messages", answer)).status == 201
    detail = await (await ville.call("GET", f"/conversations/{conversation_id}")).json()
    assert detail["conversation"]["unanswered"] is None
    assert detail["conversation"]["handover"]["from_agent_name"] == "Aino"  # still the last handover

    # Ville goes offline: the chat goes back to the queue, marked as his.
    await visitor.say("Kiitos, entä ensi kuussa?")
    await stored(ville, conversation_id, "Kiitos, entä ensi kuussa?")
    assert (await ville.call("PUT", "/presence", {"presence": "offline"})).status == 200
    [requeued] = (await (await aino.call("GET", "/queue")).json())["conversations"]
    assert requeued["id"] == conversation_id
    assert (requeued["handover"]["kind"], requeued["handover"]["from_agent_name"]) == ("requeue", "Ville")
    assert requeued["handover"]["to_agent_name"] is None
    assert requeued["unanswered"]["text"] == "Kiitos, entä ensi kuussa?"
    assert (await aino.call("POST", f"/conversations/{conversation_id}/claim")).status == 200
    [claimed] = (await (await aino.call("GET", "/conversations")).json())["conversations"]
    assert claimed["handover"] is None  # claimed from the queue: nobody handed it to her


async def contact_request(service, text: str, auth_token: Any = None) -> str:
    """A visitor (logged in with ``auth_token``) asks for a person while nobody is online and leaves a
    contact request; the conversation's id."""
    visitor = Visitor(service)
    await visitor.connect(auth_token=auth_token)
    await visitor.say(text, auth_token=auth_token)
    await visitor.wait_for("status", lambda d: d.get("offer_contact_request"))
    await visitor.client.emit("contact_request", {"name": "Maija Meikäläinen", "contact": "040 123 4567",
                                                  "message": "Soittakaa minulle päätöksestä"})
    await visitor.wait_for("status", lambda d: d["text"].startswith("Kiitos! Yhteydenottopyyntösi"))
    await visitor.close()
    return visitor.token.split(".")[0]


async def test_a_contact_request_has_its_time_the_verified_customer_and_its_conversation(service, make_agent):
    verified = await contact_request(service, "haluan puhua ihmisen kanssa", make_token("LUMO-1004"))
    anonymous = await contact_request(service, "haluan puhua ihmisen kanssa")
    aino = await make_agent("aino", online=False)
    tickets = (await (await aino.call("GET", "/tickets")).json())["tickets"]
    assert [(t["conversation_id"], t["customer_id"]) for t in tickets] == [(anonymous, None), (verified, "LUMO-1004")]
    assert all(t["created_at"].endswith("+00:00") for t in tickets)  # a full date and time, with its zone

    # Every agent may read a contact request's conversation (the console links to it), none may act in it.
    detail = await aino.call("GET", f"/conversations/{verified}")
    assert detail.status == 200
    assert [m["text"] for m in (await detail.json())["messages"]][0] == "haluan puhua ihmisen kanssa"
    refused = await aino.call("POST", f"/conversations/{verified}/messages", {"text": "Hei"})
    assert refused.status == 403 and (await refused.json())["error"] == "not_your_conversation"
    assert (await aino.call("POST", f"/conversations/{verified}/claim")).status == 403  # not waiting
    other = Visitor(service)  # a conversation without a contact request stays closed to her
    await other.connect()
    await other.say("mikä on maksupäivä")
    await other.wait_for("bot_uttered")
    await other.close()
    assert (await aino.call("GET", f"/conversations/{other.token.split('.')[0]}")).status == 403



async def test_erasing_a_customer_takes_their_contact_requests_and_the_chats_they_were_left_in(service, make_agent):
    mine = await contact_request(service, "haluan puhua ihmisen kanssa", make_token("LUMO-1004"))
    someone_elses = await contact_request(service, "haluan puhua ihmisen kanssa", make_token("LUMO-1005"))
    ville = await make_agent("ville", online=False)
    response = await ville.call("POST", "/erasure", {"customer_id": "LUMO-1004"})
    assert response.status == 200, await response.text()
    assert (await response.json())["deleted"]["tickets"] == 1
    assert await service.store.conversations.find(mine) is None
    assert [t.customer_id for t in await service.store.tickets.list()] == ["LUMO-1005"]
    assert await service.store.conversations.find(someone_elses) is not None


async def waiting_status(visitors) -> Dict[str, Any]:
    visitor = await visitors()
    await visitor.connect()
    await visitor.say("haluan puhua ihmisen kanssa")
    return await visitor.wait_for("status", lambda d: d["state"] == "waiting")


async def test_the_wait_is_only_estimated_when_no_agent_has_room(service, visitors, make_agent):
    aino = await make_agent("aino")  # online, three chats at a time, none yet
    soon = await waiting_status(visitors)
    assert soon["text"] == "Olet jonossa ensimmäisenä. Vapaa asiakaspalvelija tulee pian keskusteluun."
    assert soon["wait_minutes"] is None and "arvioitu" not in soon["text"]
    for _ in range(2):
        await waiting_status(visitors)
    queue = (await (await aino.call("GET", "/queue")).json())["conversations"]
    for brief in queue:  # Aino takes all three: she has no room left
        assert (await aino.call("POST", f"/conversations/{brief['id']}/claim")).status == 200

    visitor = await visitors()
    await visitor.connect()
    await visitor.say("haluan puhua ihmisen kanssa")
    full = await visitor.wait_for("status", lambda d: d["state"] == "waiting")
    # no chat has ended yet: the assumed 4 minutes a chat, one of her three places frees every 4/3 min
    assert full["wait_minutes"] == 2
    assert full["text"] == "Olet jonossa ensimmäisenä, arvioitu odotus noin 2 min."
    await visitor.close()
    visitor.events = []
    await visitor.connect(visitor.token)  # the same line when the visitor comes back
    assert visitor.received("history")[-1]["status"]["text"] == full["text"]

    # Aino closes a chat: she has room again, and the waiting visitor hears so at once.
    since = len(visitor.events)
    assert (await aino.call("POST", f"/conversations/{queue[0]['id']}/close")).status == 200
    later = await visitor.wait_for("status", lambda d: d.get("position") == 1, since=since)
    assert (later["wait_minutes"], later["text"]) == (None, soon["text"])
    # She goes on a break: nobody online has room (or is online at all), an estimate again.
    since = len(visitor.events)
    assert (await aino.call("PUT", "/presence", {"presence": "away"})).status == 200
    away = await visitor.wait_for("status", lambda d: d.get("position") == 1, since=since)
    assert away["wait_minutes"] == 4 and away["text"] == "Olet jonossa ensimmäisenä, arvioitu odotus noin 4 min."
    since = len(visitor.events)
    await make_agent("ville")  # another agent comes online: someone has room again
    back = await visitor.wait_for("status", lambda d: d.get("position") == 1, since=since)
    assert (back["wait_minutes"], back["text"]) == (None, soon["text"])


async def answered_list(make_agent) -> List[Dict[str, Any]]:
    eeva = await make_agent("eeva", online=False)
    return (await editor_call(eeva, "GET", "/answered"))["answered"]


async def test_agents_answers_in_finished_chats_reach_the_editors_list(service, visitors, make_agent):
    aino = await make_agent("aino")
    # The usual chat: the agent greets first, the visitor asks, the agent answers, closes; the visitor
    # thanks (the chat goes back to the bot) afterwards.
    visitor, greeted = await escalated(visitors)
    assert (await aino.call("POST", f"/conversations/{greeted}/claim")).status == 200
    assert (await aino.call("POST", f"/conversations/{greeted}/messages",
                            {"text": "Hei, olen Aino. Miten voin auttaa?"})).status == 201
    await visitor.say("Saako toimistolle tuoda koiran?")
    await stored(aino, greeted, "Saako toimistolle tuoda koiran?")
    assert (await aino.call("POST", f"/conversations/{greeted}/notes", {"text": "tarkistin ohjeen"})).status == 201
    assert (await aino.call("POST", f"/conversations/{greeted}/messages",
                            {"text": "Avustajakoirat ovat tervetulleita, muut lemmikit eivät."})).status == 201
    assert (await aino.call("POST", f"/conversations/{greeted}/close")).status == 200
    await visitor.say("kiitos")  # writing again reopens the conversation with the bot
    await visitor.wait_for("bot_uttered", lambda d: d["text"] == "Botti: kiitos")

    # A chat the agent returned to the bot after answering.
    other, returned = await escalated(visitors)
    await other.say("Voiko hakemuksen perua?")  # asked while waiting
    await stored(aino, returned, "Voiko hakemuksen perua?")
    assert (await aino.call("POST", f"/conversations/{returned}/claim")).status == 200
    reply = {"text": "Voit perua hakemuksen asiointipalvelussa kohdassa Omat hakemukset."}
    assert (await aino.call("POST", f"/conversations/{returned}/messages", reply)).status == 201
    assert (await aino.call("POST", f"/conversations/{returned}/return")).status == 200

    # A chat still with the agent is not finished: not listed yet.
    _third, open_chat = await escalated(visitors)
    assert (await aino.call("POST", f"/conversations/{open_chat}/claim")).status == 200
    assert (await aino.call("POST", f"/conversations/{open_chat}/messages", {"text": "Helsingissä."})).status == 201

    answered = await answered_list(make_agent)
    pairs = [(a["conversation_id"], a["question"], a["answer"]) for a in answered]
    assert pairs == [  # newest finished chat first, each chat's exchanges in their order
        (returned, "Voiko hakemuksen perua?", "Voit perua hakemuksen asiointipalvelussa kohdassa Omat hakemukset."),
        (greeted, "haluan puhua ihmisen kanssa", "Hei, olen Aino. Miten voin auttaa?"),
        (greeted, "Saako toimistolle tuoda koiran?", "Avustajakoirat ovat tervetulleita, muut lemmikit eivät."),
    ]
    assert all(a["closed_at"] for a in answered)
    await other.close()
