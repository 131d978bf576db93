"""Roles on every route: each route's declaration, and what every kind of caller gets back.

The routes are enumerated from the app's router. ``DECLARED`` below is this test's own copy of who
may use what: a route the app has and this table does not (or the other way round, or with another
right) fails ``test_every_route_declares_who_may_use_it``, and an app with an undeclared route is not
even built (``liveagent.roles.check_declared``). Then the real service is called on every route as
anonymous, agent, supervisor, editor and an agent who does not hold the conversation, on SQLite and
PostgreSQL, and each answer (401 / 403 / anything else = "ok": past the access check) is compared with
what ``RIGHTS_OF`` and ``CHATS`` say.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any, Dict, Optional, Tuple

import aiohttp
import pytest
from playwright.sync_api import expect
from sanic import Sanic

from liveagent import roles
from liveagent.app import create_app
from liveagent.auth import COOKIE
from liveagent.settings import Settings
from liveagent.store.schema import ROLES
from tests.conftest import content_copy
from tests.integration.test_browser_loop import browser  # noqa: F401 - fixture
from tests.liveagent.conftest import DEMO_PASSWORD, Agent, escalated, escalated_and_gone
from tests.liveagent.databases import service_database
from tests.liveagent.pages import in_a_thread, log_in, no_serious_violations

PUBLIC = None
SESSION, CHATS_RIGHT, SUPERVISE, EDIT = "session", "handle_chats", "supervise", "edit_content"
METRICS_TOKEN = "bearer LIVEAGENT_METRICS_TOKEN"  # for Prometheus: no session opens it
CONVERSATION = "/api/agent/conversations/<conversation_id:str>"

# (method, router path) -> (right, conversation check). This test's own table: keep it in step with
# liveagent/roles.py on purpose, so that every new route is a decision somebody wrote down twice.
DECLARED: Dict[Tuple[str, str], Tuple[Optional[str], Optional[str]]] = {
    ("GET", "/"): (PUBLIC, None),
    ("GET", "/agent"): (PUBLIC, None),
    ("GET", "/editor"): (PUBLIC, None),
    ("GET", "/health"): (PUBLIC, None),
    ("GET", "/metrics"): (METRICS_TOKEN, None),
    ("GET", "/api/availability"): (PUBLIC, None),
    ("GET", "/api/openapi.json"): (PUBLIC, None),
    ("POST", "/demo/token"): (PUBLIC, None),
    ("POST", "/api/agent/login"): (PUBLIC, None),
    ("GET", "/socket.io"): (PUBLIC, None),
    ("POST", "/socket.io"): (PUBLIC, None),
    ("OPTIONS", "/socket.io"): (PUBLIC, None),
    ("GET", "/static/<__file_uri__:path>"): (PUBLIC, None),
    ("HEAD", "/static/<__file_uri__:path>"): (PUBLIC, None),
    ("POST", "/api/agent/logout"): (SESSION, None),
    ("GET", "/api/agent/me"): (SESSION, None),
    ("PUT", "/api/agent/presence"): (CHATS_RIGHT, None),
    ("GET", "/api/agent/queue"): (CHATS_RIGHT, None),
    ("GET", "/api/agent/conversations"): (CHATS_RIGHT, None),
    ("GET", CONVERSATION): (CHATS_RIGHT, "see"),
    ("POST", CONVERSATION + "/read"): (CHATS_RIGHT, "see"),
    ("POST", CONVERSATION + "/claim"): (CHATS_RIGHT, "claim"),
    ("POST", CONVERSATION + "/messages"): (CHATS_RIGHT, "act"),
    ("POST", CONVERSATION + "/notes"): (CHATS_RIGHT, "act"),
    ("POST", CONVERSATION + "/transfer"): (CHATS_RIGHT, "act"),
    ("POST", CONVERSATION + "/return"): (CHATS_RIGHT, "act"),
    ("POST", CONVERSATION + "/close"): (CHATS_RIGHT, "act"),
    ("POST", CONVERSATION + "/reassign"): (SUPERVISE, "move"),
    ("GET", CONVERSATION + "/suggestions"): (CHATS_RIGHT, "see"),
    ("GET", CONVERSATION + "/transcript"): (CHATS_RIGHT, "see"),
    ("POST", "/api/visitor/transcript"): (PUBLIC, None),
    ("OPTIONS", "/api/visitor/transcript"): (PUBLIC, None),
    ("GET", "/api/agent/agents"): (CHATS_RIGHT, None),
    ("GET", "/api/agent/canned"): (CHATS_RIGHT, None),
    ("GET", "/api/agent/tickets"): (CHATS_RIGHT, None),
    ("POST", "/api/agent/tickets/<ticket_id:int>/handled"): (CHATS_RIGHT, None),
    ("GET", "/api/agent/ws"): (CHATS_RIGHT, None),  # the websocket: tested below, not in the HTTP matrix
    ("POST", "/api/agent/canned"): (SUPERVISE, None),
    ("PUT", "/api/agent/canned/<canned_id:int>"): (SUPERVISE, None),
    ("DELETE", "/api/agent/canned/<canned_id:int>"): (SUPERVISE, None),
    ("PUT", "/api/agent/agents/<agent_id:int>/capacity"): (SUPERVISE, None),
    ("GET", "/api/agent/audit"): (SUPERVISE, None),
    ("GET", "/api/agent/floor"): (SUPERVISE, None),
    ("GET", "/api/agent/insights"): (SUPERVISE, None),
    ("POST", "/api/agent/erasure"): (SUPERVISE, None),
    ("GET", "/api/editor/topics"): (EDIT, None),
    ("POST", "/api/editor/topics"): (EDIT, None),
    ("GET", "/api/editor/topics/<name:str>"): (EDIT, None),
    ("PUT", "/api/editor/topics/<name:str>/answer"): (EDIT, None),
    ("POST", "/api/editor/topics/<name:str>/examples"): (EDIT, None),
    ("POST", "/api/editor/topics/<name:str>/examples/remove"): (EDIT, None),
    ("GET", "/api/editor/changes"): (EDIT, None),
    ("GET", "/api/editor/findings"): (EDIT, None),
    ("GET", "/api/editor/missed"): (EDIT, None),
    ("POST", "/api/editor/missed/dismiss"): (EDIT, None),
    ("GET", "/api/editor/answered"): (EDIT, None),
    ("GET", "/api/editor/suggested-topics"): (EDIT, None),
    ("GET", "/api/editor/runs"): (EDIT, None),
    ("POST", "/api/editor/publish"): (EDIT, None),
    ("POST", "/api/editor/rollback"): (EDIT, None),
}

# The callers: aino holds the "held" chat, aada (an agent too) holds nothing.
ROLE_OF = {"aino": "agent", "aada": "agent", "ville": "supervisor", "eeva": "editor"}
RIGHTS_OF = {
    "agent": {SESSION, CHATS_RIGHT},
    "supervisor": {SESSION, CHATS_RIGHT, SUPERVISE, EDIT},
    "editor": {SESSION, EDIT},
}
CALLERS = ["anonymous", "eeva", "aada", "ville", "aino"]  # the holder last: its actions change the chat

# Past the conversation check (S)ee, (C)laim, (A)ct, (M)ove, per conversation and agent; anything else: 403.
# Acting is only for the holder: a supervisor who sees a chat held by aino is refused 403 `not_yours`;
# moving a chat to another agent is the supervisor's (the state machine answers 409 where it cannot move).
CHATS = {
    "held": {"aino": "SCA", "aada": "C", "ville": "SCM"},  # aada's claim: 409 already_claimed, no content
    "queued": {"aino": "SC", "aada": "SC", "ville": "SCAM"},  # a preview and a claim for every agent
    "closed": {"aino": "SCA", "aada": "", "ville": "SCAM"},  # aino held it, aada never did
    "bot": {"aino": "", "aada": "", "ville": "SCAM"},  # with the bot, never in anyone's hands
    "missing": {"aino": "SCA", "aada": "SCA", "ville": "SCAM"},  # 404 not_found for every agent
}
BODIES = {"messages": {"text": "Hei, tässä asiakaspalvelu"}, "notes": {"text": "Sisäinen muistiinpano"},
          "transfer": {"agent_id": 999999}, "reassign": {"agent_id": 999999}, "read": {"message_id": 1}}
RIGHT_REFUSALS = {"agents_only", "supervisor_required", "editor_only"}
SAFE = {"GET", "HEAD", "OPTIONS"}


def router_routes() -> Dict[Tuple[str, str], Any]:
    Sanic.test_mode = True
    app = create_app(Settings(session_secret="x" * 40), name=f"roles_{uuid.uuid4().hex}")
    found = {}
    for route in app.router.routes:
        for method in route.methods:
            found[(method, f"/{route.path}")] = roles.access_of(app, route)
    return found


def test_every_route_declares_who_may_use_it():
    declared = {key: (access.right.value if access.right else f"bearer {access.token}" if access.token else None,
                      access.chat.value if access.chat else None)
                for key, access in router_routes().items() if access is not None}
    assert set(router_routes()) == set(declared), "a route without a declaration"
    assert declared == DECLARED


def test_an_app_with_an_undeclared_route_is_not_built():
    Sanic.test_mode = True
    app = create_app(Settings(session_secret="x" * 40), name=f"roles_{uuid.uuid4().hex}")
    roles.check_declared(app)

    @app.get("/api/agent/forgotten")
    async def forgotten(request):  # pragma: no cover - never called
        raise AssertionError

    with pytest.raises(RuntimeError, match=r"/api/agent/forgotten: .*forgotten declares nobody"):
        roles.check_declared(app)


def test_the_table_of_rights():
    assert set(roles.RIGHTS) == set(ROLES)  # every role the database allows has its rights, no more
    assert {role: {right.value for right in rights} for role, rights in roles.RIGHTS.items()} == RIGHTS_OF


# -- the matrix against the real service -------------------------------------------------------------


database_env = service_database("roles")


@pytest.fixture
def service_env(tmp_path, database_env):
    # A copy of the content (publish runs there); no sweep during the test (it would requeue chats).
    # Metrics on (a token is set): still no session reaches them.
    return {"LIVEAGENT_CONTENT_ROOT": str(content_copy(tmp_path / "project", model=b"model-in-use")),
            "LIVEAGENT_SWEEP_SECONDS": "3600", "LIVEAGENT_METRICS_TOKEN": "metrics-token-of-the-roles-test-0123456789",
            **database_env}


async def create_agent(service, username: str, name: str, role: str) -> None:
    """An account made the way an operator makes one (`python -m liveagent create-agent`)."""
    result = await service.command("create-agent", "--username", username, "--name", name, "--role", role,
                                   "--password-env", "NEW_AGENT_PASSWORD", NEW_AGENT_PASSWORD=DEMO_PASSWORD)
    assert result.returncode == 0, result.stderr


def concrete(path: str, conversation_id: str) -> str:
    values = {"conversation_id": conversation_id, "ticket_id": "999", "canned_id": "999", "agent_id": "999",
              "name": "opening_hours", "__file_uri__": "agent.js"}
    return re.sub(r"<([^>:]+)(?::[^>]+)?>", lambda m: values[m.group(1)], path)


def expected(route: Tuple[str, str], caller: str, kind: Optional[str]) -> str:
    right, chat = DECLARED[route]
    if right is PUBLIC:
        return "ok"
    if right == METRICS_TOKEN:
        return "401"  # every caller: a session is no bearer token
    if caller == "anonymous":
        return "401"
    if right not in RIGHTS_OF[ROLE_OF[caller]]:
        return "403"
    if chat is None:
        return "ok"
    return "ok" if chat[0].upper() in CHATS[kind][caller] else "403"


class Matrix:
    """Calls routes as the callers and keeps every answer that differs from the table."""

    def __init__(self, service, callers: Dict[str, Any], conversations: Dict[str, str]) -> None:
        self.service, self.callers, self.conversations = service, callers, conversations
        self.wrong: Dict[str, Any] = {}
        self.codes: Dict[Tuple[str, str, str, Optional[str]], Optional[str]] = {}

    async def call(self, route: Tuple[str, str], caller: str, kind: Optional[str] = None) -> None:
        method, path = route
        url = self.service.url + concrete(path, self.conversations.get(kind, ""))
        agent = self.callers[caller]
        headers = {"X-CSRF-Token": agent.csrf} if agent.csrf else {}
        body = None
        if method not in SAFE:
            body = BODIES.get(path.rsplit("/", 1)[-1], {}) if kind else {}
        response = await agent.session.request(method, url, json=body, headers=headers)
        text = await response.text()
        assert response.status < 500 and "Traceback" not in text, (route, caller, kind, response.status, text)
        code = None
        if response.content_type == "application/json" and text:
            data = json.loads(text)
            code = data.get("error") if isinstance(data, dict) else None
        assert code != "csrf", (route, caller)  # the test's own mistake: every session sends its token
        got = "401" if response.status == 401 else "403" if response.status == 403 else "ok"
        self.codes[(method, path, caller, kind)] = code
        want = expected(route, caller, kind)
        if got != want:
            self.wrong[f"{caller} {method} {concrete(path, kind or '')}"] = (want, response.status, code)

    async def every_caller(self, route: Tuple[str, str], kind: Optional[str] = None) -> None:
        for caller in CALLERS:
            await self.call(route, caller, kind)


async def test_every_route_answers_every_caller_as_the_table_says(service, visitors, make_agent):
    await create_agent(service, "aada", "Aada", "agent")
    callers = {"anonymous": await make_agent(), "aino": await make_agent("aino"),
               "aada": await make_agent("aada"), "ville": await make_agent("ville"),
               "eeva": await make_agent("eeva", online=False)}
    aino = callers["aino"]
    conversations = {"missing": uuid.uuid4().hex}
    _visitor, conversations["held"] = await escalated(visitors)
    assert (await aino.call("POST", f"/conversations/{conversations['held']}/claim")).status == 200
    _visitor, conversations["closed"] = await escalated(visitors)
    assert (await aino.call("POST", f"/conversations/{conversations['closed']}/claim")).status == 200
    assert (await aino.call("POST", f"/conversations/{conversations['closed']}/close")).status == 200
    _visitor, conversations["queued"] = await escalated(visitors)
    chatting = await visitors()
    await chatting.connect()
    await chatting.say("moi")
    await chatting.wait_for("bot_uttered")
    conversations["bot"] = chatting.token.split(".")[0]
    # A publish started by the matrix fails at validation at once (a topic with one example), not training.
    response = await callers["eeva"].session.post(
        f"{service.url}/api/editor/topics", headers={"X-CSRF-Token": callers["eeva"].csrf},
        json={"name": "pysakointi", "title": "Pysäköinti", "answer": "Pihassa on tilaa.",
              "examples": ["voiko pysäköidä"]})
    assert response.status == 201

    routes = [route for route in DECLARED if route != ("GET", "/api/agent/ws")]
    last = [("POST", "/api/agent/logout")]
    conversation_routes = [route for route in routes if route[1].startswith(CONVERSATION)]
    ending = [("POST", CONVERSATION + "/return"), ("POST", CONVERSATION + "/close")]
    claim = ("POST", CONVERSATION + "/claim")
    matrix = Matrix(service, callers, conversations)

    for route in routes:
        if route not in conversation_routes and route not in last:
            await matrix.every_caller(route)
    for kind in CHATS:
        for route in conversation_routes:
            if route not in ending and (route != claim or kind != "queued"):
                await matrix.every_caller(route, kind)
    for kind in CHATS:
        for caller in CALLERS:  # each caller returns and closes before the holder (last) does
            for route in ending:
                await matrix.call(route, caller, kind)
    await matrix.every_caller(claim, "queued")  # last: the first agent to claim it holds it after
    for route in last:
        await matrix.every_caller(route)

    assert matrix.wrong == {}
    # The refusals say why, in the words of liveagent/copy_fi.yml.
    codes = matrix.codes
    assert {codes[("GET", "/api/agent/queue", "eeva", None)], codes[("GET", CONVERSATION, "eeva", "held")],
            codes[("POST", CONVERSATION + "/messages", "eeva", "queued")]} == {"agents_only"}
    assert codes[("GET", "/api/agent/audit", "aino", None)] == "supervisor_required"
    assert codes[("GET", "/api/editor/topics", "aada", None)] == "editor_only"
    assert codes[("GET", CONVERSATION, "aada", "held")] == "not_your_conversation"
    assert codes[("POST", CONVERSATION + "/messages", "ville", "held")] == "not_yours"
    assert codes[("POST", CONVERSATION + "/claim", "aada", "held")] == "already_claimed"
    assert codes[("GET", CONVERSATION, "aino", "missing")] == "not_found"
    # (the visitor's transcript is public: without a session token it names no conversation)
    assert {code for (_m, _p, caller, _k), code in codes.items() if caller == "anonymous"} <= {
        None, "not_logged_in", "bad_request", "not_found", "transcript_session"}


async def test_an_editor_cannot_act_as_an_agent(service, visitors, make_agent):
    """The attack of issue 13 as it was tried: eeva reads a transcript, the tickets, goes online,
    claims a chat and writes to the visitor. Every step is refused and the visitor hears nothing."""
    aino = await make_agent("aino")
    eeva = await make_agent("eeva", online=False)
    visitor, conversation_id = await escalated(visitors)
    for method, path, body in [("GET", f"/conversations/{conversation_id}", None), ("GET", "/tickets", None),
                               ("PUT", "/presence", {"presence": "online"}),
                               ("POST", f"/conversations/{conversation_id}/claim", None),
                               ("POST", f"/conversations/{conversation_id}/messages", {"text": "Hei, tässä Eeva"}),
                               ("GET", "/agents", None), ("GET", "/queue", None)]:
        response = await eeva.call(method, path, body)
        assert (response.status, (await response.json())["error"]) == (403, "agents_only"), path
    brief = await (await aino.call("GET", f"/conversations/{conversation_id}")).json()
    assert brief["conversation"]["state"] == "waiting"
    assert all("Eeva" not in str(message) for message in visitor.messages())
    me = await (await eeva.call("GET", "/me")).json()
    assert me["agent"]["rights"] == ["edit_content", "session"] and me["agent"]["presence"] == "offline"


async def test_agents_see_the_chats_they_held_and_the_queue_only(service, visitors, make_agent):
    await create_agent(service, "aada", "Aada", "agent")
    aino, aada = await make_agent("aino"), await make_agent("aada")
    _visitor, conversation_id = await escalated(visitors)
    preview = await aada.call("GET", f"/conversations/{conversation_id}")  # in the queue: a preview
    assert preview.status == 200
    assert (await aino.call("POST", f"/conversations/{conversation_id}/claim")).status == 200
    assert (await aino.call("POST", f"/conversations/{conversation_id}/notes", {"text": "Sisäinen"})).status == 201
    refused = await aada.call("GET", f"/conversations/{conversation_id}")  # claimed: no longer hers to see
    assert refused.status == 403 and (await refused.json())["error"] == "not_your_conversation"
    assert "Sisäinen" not in await refused.text()
    assert (await aino.call("POST", f"/conversations/{conversation_id}/transfer",
                            {"agent_id": aada.me["id"]})).status == 200
    assert (await aada.call("GET", f"/conversations/{conversation_id}")).status == 200  # now hers
    assert (await aino.call("GET", f"/conversations/{conversation_id}")).status == 200  # aino held it
    response = await aino.call("POST", f"/conversations/{conversation_id}/messages", {"text": "Hei"})
    assert response.status == 403 and (await response.json())["error"] == "not_yours"  # only the holder acts
    assert (await aada.call("POST", f"/conversations/{conversation_id}/close")).status == 200
    assert (await aino.call("GET", f"/conversations/{conversation_id}")).status == 200  # closed, held before


# -- the agent websocket ---------------------------------------------------------------------------------


async def first_frame(service, agent, origin: str) -> Tuple[str, Any]:
    cookie = next((c.value for c in agent.session.cookie_jar if c.key == COOKIE), None)
    headers = {"Origin": origin, **({"Cookie": f"{COOKIE}={cookie}"} if cookie else {})}
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(service.url.replace("http", "ws") + "/api/agent/ws", headers=headers) as ws:
            message = await ws.receive(timeout=5)
            if message.type == aiohttp.WSMsgType.TEXT:
                return "text", json.loads(message.data)["type"]
            return "close", message.data


async def test_the_agent_socket_is_for_agents_on_the_consoles_origin(service, make_agent):
    callers = {"anonymous": await make_agent(), "aino": await make_agent("aino"),
               "ville": await make_agent("ville"), "eeva": await make_agent("eeva", online=False)}
    answers = {name: await first_frame(service, agent, service.url) for name, agent in callers.items()}
    assert answers == {"anonymous": ("close", 4401), "aino": ("text", "queue"), "ville": ("text", "queue"),
                       "eeva": ("close", 4403)}
    assert await first_frame(service, callers["aino"], "https://evil.example") == ("close", 4403)


@pytest.mark.parametrize("service_env", [{"LIVEAGENT_ALLOWED_ORIGINS": "https://shop.example",
                                          "LIVEAGENT_CONSOLE_ORIGINS": "https://desk.example"}])
async def test_a_website_allowed_to_embed_the_widget_cannot_open_the_agent_socket(service):
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True),
                                     headers={"Origin": "https://desk.example"}) as session:
        aino = Agent(service, session)  # logged in from the console's page
        assert (await aino.login("aino")).status == 200
        assert await first_frame(service, aino, "https://shop.example") == ("close", 4403)  # the widget's origin
        assert await first_frame(service, aino, service.url) == ("close", 4403)  # not listed either
        assert await first_frame(service, aino, "https://desk.example") == ("text", "queue")  # the console's


def test_the_console_origins_default_to_the_public_url():
    from tests.conftest import TEST_KEY

    base = {"LUMO_ENV": "demo", "LIVEAGENT_SECRET": "s" * 40, "LUMO_JWT_KEY": TEST_KEY,
            "LIVEAGENT_ALLOWED_ORIGINS": "https://www.lumo.example"}
    settings = Settings.from_env({**base, "LIVEAGENT_PUBLIC_URL": "https://chat.lumo.example/"})
    assert settings.console_origins == ("https://chat.lumo.example",)
    assert settings.allowed_origins == ("https://www.lumo.example",)
    listed = Settings.from_env({**base, "LIVEAGENT_CONSOLE_ORIGINS": "https://desk.lumo.example:8443, http://a.example:80"})
    assert listed.console_origins == ("https://desk.lumo.example:8443", "http://a.example")


# -- what the console offers (chromium) ------------------------------------------------------------------


@pytest.mark.parametrize("service_env", [{}])  # SQLite: the page is what is tested here
def test_the_console_offers_an_editor_the_editor_and_no_agent_actions(service, browser):  # noqa: F811
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    page = context.new_page()
    requested, sockets = [], []
    page.on("request", lambda request: requested.append(request.url.replace(service.url, "")))
    page.on("websocket", lambda ws: sockets.append(ws.url))
    page.goto(f"{service.url}/agent")
    log_in(page, "eeva")
    expect(page.get_by_role("heading", name="Ei asiakaspalvelijan oikeuksia")).to_be_visible()
    expect(page.locator("#me-name")).to_contain_text("Eeva")
    for hidden in ("#console-view", "#presence", "#notify-button", "#sound-toggle"):
        expect(page.locator(hidden)).to_be_hidden()
    no_serious_violations(page)
    # Nothing of the agents' was even asked for: no queue, chats, tickets or agent socket.
    assert [url for url in requested if url.startswith("/api/")] == ["/api/agent/me", "/api/agent/login"]
    assert sockets == []
    page.get_by_role("link", name="Siirry sisällön muokkaukseen").click()
    expect(page).to_have_url(f"{service.url}/editor")
    expect(page.locator("#me-name")).to_contain_text("Eeva")  # the same session, now where she works

    page.goto(f"{service.url}/agent")  # back with the session: the same offer, then out and in as aino
    expect(page.get_by_role("heading", name="Ei asiakaspalvelijan oikeuksia")).to_be_visible()
    page.get_by_role("button", name="Kirjaudu ulos").click()
    log_in(page, "aino")
    expect(page.locator("#presence")).to_be_visible()
    expect(page.get_by_role("heading", name="Jono")).to_be_visible()
    expect(page.get_by_role("heading", name="Ei asiakaspalvelijan oikeuksia")).to_be_hidden()
    context.close()


@pytest.mark.parametrize("service_env", [{}])
def test_a_previewed_chat_that_another_agent_claims_leaves_the_console(service, browser):  # noqa: F811
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    page = context.new_page()
    page.goto(f"{service.url}/agent")
    log_in(page, "aino")
    page.locator("#presence").select_option("online")
    expect(page.locator("#announcer")).to_have_text("Tilasi: Paikalla.")  # the service has her online
    expect(page.locator("#connection-state")).to_have_text("")

    async def claim_as_ville(conversation_id: str) -> int:
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True),
                                         headers={"Origin": service.url}) as session:
            ville = Agent(service, session)
            assert (await ville.login("ville")).status == 200
            assert (await ville.call("PUT", "/presence", {"presence": "online"})).status == 200
            return (await ville.call("POST", f"/conversations/{conversation_id}/claim")).status

    run = in_a_thread  # the sync Playwright API keeps an event loop of its own in this thread
    run(escalated_and_gone(service))
    page.get_by_role("button", name="Näytä keskustelu").click()
    expect(page.locator("#conversation-log")).to_contain_text("haluan puhua ihmisen kanssa")
    assert run(claim_as_ville(page.locator("#queue-list button").first.get_attribute("data-focus-key")
                                      .split(":", 1)[1])) == 200
    # The queue event tells the console; it asks again, gets 403 and stops showing the chat.
    expect(page.locator("#conversation-placeholder")).to_be_visible()
    expect(page.locator("#conversation-log")).to_be_empty()
    context.close()
