"""Transcripts through the real service (issue 16, item 5): the visitor's own by their signed session token
only (bound to the logged-in customer), agents' and supervisors' for the conversations they may see, notes
never included, every text escaped in HTML, Finnish time."""

from __future__ import annotations

import datetime as dt
import html
import re
from typing import Any, Dict, Optional

import aiohttp

from liveagent import transcripts
from liveagent.store.records import Message
from tests.conftest import make_token
from tests.liveagent.conftest import Agent, escalated, stored

ATTACK = '<img src=x onerror="alert(1)"> & <script>alert(2)</script>'


async def visitor_transcript(service, body: Any, origin: Optional[str] = None) -> aiohttp.ClientResponse:
    headers = {"Origin": origin} if origin else {}
    async with aiohttp.ClientSession() as session:
        response = await session.post(f"{service.url}/api/visitor/transcript", json=body, headers=headers)
        await response.read()
        return response


async def served_chat(visitors, aino: Agent):
    """A visitor who handed off and talked with aino; aino also wrote an internal note."""
    visitor, conversation_id = await escalated(visitors)
    assert (await aino.call("POST", f"/conversations/{conversation_id}/claim")).status == 200
    await visitor.say(ATTACK)
    await stored(aino, conversation_id, ATTACK)
    path = f"/conversations/{conversation_id}"
    assert (await aino.call("POST", f"{path}/notes", {"text": "SISÄINEN: asiakas vaikuttaa kiireiseltä"})).status == 201
    assert (await aino.call("POST", f"{path}/messages", {"text": "Hei, Aino tässä. Autan mielelläni."})).status == 201
    await visitor.wait_for("bot_uttered", lambda d: d["text"].startswith("Hei, Aino"))
    return visitor, conversation_id


def test_the_text_is_finnish_time_who_wrote_it_and_no_notes():
    at = dt.datetime(2026, 7, 1, 9, 5, tzinfo=dt.timezone.utc)  # summer: 12.05 in Helsinki
    messages = [Message(1, "c", "visitor", "text", "moi", None, None, at),
                Message(2, "c", "bot", "text", "Hei!", {"quick_replies": [{"title": "Aukioloajat", "payload": "/x"}]},
                        None, at),
                Message(3, "c", "visitor", "text", "/x", None, None, at),
                Message(4, "c", "agent", "note", "salainen", None, 7, at),
                Message(5, "c", "agent", "text", "Palvelemme arkisin.", None, 7, at)]
    text = transcripts.render(messages, {7: "Aino"}, "text", for_visitor=True, conversation_id=None, now=at)
    assert "1.7.2026 klo 12.05 Sinä:\nmoi" in text
    assert "1.7.2026 klo 12.05 Botti:\nHei!\n[Painikkeet: Aukioloajat]" in text
    assert "Sinä:\nAukioloajat" in text  # the button the visitor clicked, not its payload
    assert "1.7.2026 klo 12.05 Aino (asiakaspalvelija):\nPalvelemme arkisin." in text
    assert "salainen" not in text
    assert transcripts.filename(messages, "txt", at) == "lumo-keskustelu-2026-07-01.txt"
    winter = dt.datetime(2026, 12, 31, 22, 30, tzinfo=dt.timezone.utc)  # already 1.1.2027 in Helsinki
    assert transcripts.local_time(winter) == "1.1.2027 klo 0.30"
    agents = transcripts.render(messages, {}, "text", for_visitor=False, conversation_id="c", now=at)
    assert "Asiakas:\nmoi" in agents and "Asiakaspalvelija:\nPalvelemme" in agents and "Keskustelun tunnus: c" in agents


async def test_the_visitor_downloads_their_own_conversation_by_their_session_token(service, visitors, make_agent):
    aino = await make_agent("aino")
    visitor, _ = await served_chat(visitors, aino)
    response = await visitor_transcript(service, {"session_id": visitor.token, "format": "text"},
                                        origin=service.origin)
    assert response.status == 200
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert re.fullmatch(r'attachment; filename="lumo-keskustelu-\d{4}-\d\d-\d\d\.txt"',
                        response.headers["Content-Disposition"])
    assert response.headers["Access-Control-Allow-Origin"] == service.origin
    assert response.headers["Cache-Control"] == "no-store"
    body = await response.text()
    assert "Sinä:\nhaluan puhua ihmisen kanssa" in body and f"Sinä:\n{ATTACK}" in body
    assert "Aino (asiakaspalvelija):\nHei, Aino tässä. Autan mielelläni." in body
    assert "SISÄINEN" not in body
    assert "Keskustelun tunnus" not in body  # the visitor's file names no ids

    page = await visitor_transcript(service, {"session_id": visitor.token})  # html by default, no Origin: a tool
    assert page.status == 200 and page.headers["Content-Type"] == "text/html; charset=utf-8"
    document = await page.text()
    assert "<img" not in document and "<script>" not in document
    assert html.escape(ATTACK) in document
    assert "SISÄINEN" not in document
    assert '<html lang="fi">' in document


async def test_the_visitor_route_wants_a_genuine_token_of_its_own(service, visitors, make_agent):
    aino = await make_agent("aino")
    visitor, conversation_id = await served_chat(visitors, aino)
    forged = visitor.token[:-4] + ("AAAA" if not visitor.token.endswith("AAAA") else "BBBB")
    for body in ({"session_id": conversation_id}, {"session_id": forged}, {"session_id": None}, {}):
        response = await visitor_transcript(service, body)
        assert response.status in (400, 404), body  # 404 transcript_session: no conversation for such a token
    for body in ([], "x", {"session_id": visitor.token, "format": "pdf"}):
        assert (await visitor_transcript(service, body)).status == 400
    foreign = await visitor_transcript(service, {"session_id": visitor.token}, origin="https://evil.example")
    assert foreign.status == 403
    # a session that has not written yet has nothing to download
    fresh = await visitors()
    await fresh.connect()
    assert (await visitor_transcript(service, {"session_id": fresh.token})).status == 404


async def test_a_logged_in_customers_transcript_needs_their_own_identity_token(service, visitors):
    visitor = await visitors()
    token = make_token("LUMO-1003")
    await visitor.connect(auth_token=token)
    await visitor.say("moi", auth_token=token)
    await visitor.wait_for("bot_uttered", lambda d: d["text"] == "Botti: moi")
    await visitor.connect(visitor.token, auth_token=token)  # the session is now bound to LUMO-1003
    session_id = visitor.token
    alone = await visitor_transcript(service, {"session_id": session_id})
    assert alone.status == 404 and (await alone.json())["error"] == "transcript_session"
    other = await visitor_transcript(service, {"session_id": session_id, "auth_token": make_token("LUMO-1004")})
    assert other.status == 404
    own = await visitor_transcript(service, {"session_id": session_id, "auth_token": token, "format": "text"})
    assert own.status == 200 and "Sinä:\nmoi" in await own.text()


async def test_the_preflight_answers_only_the_widgets_origins(service):
    async with aiohttp.ClientSession() as session:
        allowed = await session.options(f"{service.url}/api/visitor/transcript", headers={
            "Origin": service.origin, "Access-Control-Request-Method": "POST"})
        assert allowed.status == 204
        assert allowed.headers["Access-Control-Allow-Origin"] == service.origin
        assert allowed.headers["Access-Control-Allow-Headers"] == "Content-Type"
        refused = await session.options(f"{service.url}/api/visitor/transcript", headers={
            "Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
        assert refused.status == 403 and "Access-Control-Allow-Origin" not in refused.headers


async def agent_transcript(agent: Agent, conversation_id: str, kind: str = "text") -> aiohttp.ClientResponse:
    return await agent.call("GET", f"/conversations/{conversation_id}/transcript?format={kind}")


async def test_agents_and_supervisors_download_what_they_may_see(service, visitors, make_agent):
    aino, ville, eeva = await make_agent("aino"), await make_agent("ville"), await make_agent("eeva", online=False)
    _, conversation_id = await served_chat(visitors, aino)
    texts: Dict[str, str] = {}
    for name, agent in (("aino", aino), ("ville", ville)):
        response = await agent_transcript(agent, conversation_id)
        assert response.status == 200, name
        texts[name] = await response.text()
    # masking as for the role: the console shows agents and supervisors what the visitor wrote, so does this
    assert texts["aino"] == texts["ville"].replace(texts["ville"].splitlines()[2], texts["aino"].splitlines()[2])
    assert f"Asiakas:\n{ATTACK}" in texts["aino"] and f"Keskustelun tunnus: {conversation_id}" in texts["aino"]
    assert "SISÄINEN" not in texts["aino"]
    page = await agent_transcript(aino, conversation_id, "html")
    assert page.status == 200 and "<script>" not in await page.text()
    refused = await agent_transcript(eeva, conversation_id)
    assert (refused.status, (await refused.json())["error"]) == (403, "agents_only")
    _, others = await escalated(visitors)
    assert (await ville.call("POST", f"/conversations/{others}/claim")).status == 200
    refused = await agent_transcript(aino, others)
    assert (refused.status, (await refused.json())["error"]) == (403, "not_your_conversation")
    bad = await agent_transcript(aino, conversation_id, "pdf")
    assert (bad.status, (await bad.json())["error"]) == (400, "transcript_format")
    # after the close the holder and supervisors still download it; it is audited
    assert (await aino.call("POST", f"/conversations/{conversation_id}/close")).status == 200
    assert (await agent_transcript(aino, conversation_id)).status == 200
    audit = await (await ville.call("GET", "/audit?action=conversation.transcript")).json()
    assert len(audit["entries"]) == 4 and audit["entries"][0]["detail"] == {"format": "text"}
