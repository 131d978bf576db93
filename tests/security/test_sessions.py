"""Sessions that end, and a login that cannot be forged, guessed fast or used to lock anyone out.

Against the real service (``python -m liveagent serve``) on SQLite and PostgreSQL; operator changes
go through the real command line (``python -m liveagent set-password`` ...) against the same
database, as an operator would run them beside a running service.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any, Dict, Optional

import aiohttp
import pytest

from liveagent.auth import COOKIE
from stack.processes import free_port
from tests.liveagent.conftest import DEMO_PASSWORD, Service
from tests.liveagent.databases import service_database

EVIL = "https://evil.example"
REDIS_URL = "redis://127.0.0.1:6379/0"
WRONG = {"error": "invalid_credentials", "message": "Väärä käyttäjätunnus tai salasana."}
DELAYED = {"error": "login_delayed",
           "message": "Liian monta epäonnistunutta kirjautumista. Odota hetki ja yritä uudelleen."}
# The socket watch runs once an hour here, so a socket closed in these tests was closed by the
# logout itself or by the check of the socket's own message (the idle test turns the watch on).
NO_WATCH = {"LIVEAGENT_SESSION_CHECK_SECONDS": "3600", "LIVEAGENT_TRUSTED_PROXIES": "127.0.0.1"}


database = service_database("security_sessions", "database")


@pytest.fixture
def extra_env() -> Dict[str, str]:
    return {}


@pytest.fixture
def service_env(database, extra_env):
    return {**NO_WATCH, **database, **extra_env}


def cookie_of(agent) -> str:
    return next(c.value for c in agent.session.cookie_jar if c.key == COOKIE)


async def with_cookie(service, method: str, path: str, cookie: str, csrf: str = "", body: Any = None) -> int:
    async with aiohttp.ClientSession() as session:
        async with session.request(method, f"{service.url}/api/agent{path}", json=body,
                                   headers={"Cookie": f"{COOKIE}={cookie}", "X-CSRF-Token": csrf}) as response:
            return response.status


async def open_socket(service, agent) -> aiohttp.ClientWebSocketResponse:
    ws = await agent.session.ws_connect(service.url.replace("http", "ws") + "/api/agent/ws",
                                        headers={"Origin": service.url})
    first = await ws.receive(timeout=10)
    assert first.type == aiohttp.WSMsgType.TEXT and json.loads(first.data)["type"] == "queue"
    return ws


async def close_code(ws: aiohttp.ClientWebSocketResponse, timeout: float = 10) -> Optional[int]:
    """Reads events until the service closes the socket; its close code."""
    while True:
        message = await ws.receive(timeout=timeout)
        if message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING):
            return ws.close_code
        assert message.type == aiohttp.WSMsgType.TEXT, message


async def login(service, username: str, password: str = DEMO_PASSWORD, address: Optional[str] = None,
                headers: Optional[Dict[str, str]] = None, **request: Any):
    """One login attempt from ``address`` (X-Forwarded-For through the trusted proxy 127.0.0.1)."""
    sent = dict(headers or {})
    if address:
        sent["X-Forwarded-For"] = address
    if "data" not in request:
        request["json"] = {"username": username, "password": password}
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{service.url}/api/agent/login", headers=sent, **request) as response:
            body = await response.json(content_type=None)
            return response.status, body, response.headers


async def operator(service, *args: str, **env: str) -> str:
    """``python -m liveagent <args>`` against the service's database, as an operator runs it."""
    done = await service.command(*args, **env)
    assert done.returncode == 0, done.stderr
    return done.stdout


async def audit_actions(make_agent, action: str) -> list:
    ville = await make_agent("ville", online=False)
    entries = (await (await ville.call("GET", f"/audit?action={action}")).json())["entries"]
    return entries


# sessions that end


async def test_logout_ends_every_session_of_the_agent_and_closes_its_sockets(service, make_agent):
    aino = await make_agent("aino")
    laptop = await make_agent("aino", online=False)  # the same agent on another device
    cookie, csrf = cookie_of(aino), aino.csrf
    sockets = [await open_socket(service, aino), await open_socket(service, laptop)]
    assert await with_cookie(service, "GET", "/me", cookie) == 200

    assert (await aino.call("POST", "/logout")).status == 204
    # the logged-out cookie, replayed as it was
    assert await with_cookie(service, "GET", "/me", cookie) == 401
    assert await with_cookie(service, "PUT", "/presence", cookie, csrf, {"presence": "online"}) == 401
    assert (await laptop.call("GET", "/me")).status == 401  # the other device's session ended too
    assert [await close_code(ws) for ws in sockets] == [4401, 4401]  # closed at once, not at their next message
    assert (await (await make_agent("aino", online=False)).call("GET", "/me")).status == 200  # logging in again works
    [entry] = await audit_actions(make_agent, "logout")
    assert entry["detail"]["sessions_ended"] == 2


async def test_password_role_change_and_deactivation_end_every_session(service, make_agent):
    async def logged_in_with_a_socket():
        agent = await make_agent("aino", online=False)
        return agent, cookie_of(agent), await open_socket(service, agent)

    async def ended(cookie: str, ws) -> None:
        assert await with_cookie(service, "GET", "/me", cookie) == 401  # the next request, at once
        await ws.send_json({"type": "ping"})  # the socket's next message
        assert await close_code(ws) == 4401

    aino, cookie, ws = await logged_in_with_a_socket()
    out = await operator(service, "set-password", "--username", "aino", "--password-env", "NEW_PASSWORD",
                   NEW_PASSWORD="a-new-password-123")
    assert "every session of the agent has ended" in out
    await ended(cookie, ws)
    assert (await login(service, "aino"))[:2] == (401, WRONG)
    assert (await login(service, "aino", "a-new-password-123"))[0] == 200

    aino = await make_agent()
    assert (await aino.login("aino", "a-new-password-123")).status == 200
    cookie, ws = cookie_of(aino), await open_socket(service, aino)
    # (to supervisor: an editor's socket would be refused anyway, test_roles.py)
    await operator(service, "set-role", "--username", "aino", "--role", "supervisor")
    await ended(cookie, ws)
    assert (await aino.login("aino", "a-new-password-123")).status == 200
    assert (await (await aino.call("GET", "/me")).json())["agent"]["role"] == "supervisor"

    cookie, ws = cookie_of(aino), await open_socket(service, aino)
    await operator(service, "deactivate", "--username", "aino")
    await ended(cookie, ws)
    # the right password of a deactivated agent gets the answer of a wrong one
    assert (await login(service, "aino", "a-new-password-123"))[:2] == (401, WRONG)
    await operator(service, "activate", "--username", "aino")
    assert (await login(service, "aino", "a-new-password-123"))[0] == 200

    for action in ("agent.password", "agent.role", "agent.deactivated", "agent.activated"):
        [entry] = await audit_actions(make_agent, action)
        assert entry["target"] == f"agent:{aino.me['id']}" and entry["actor"] is None, action


@pytest.mark.parametrize("extra_env", [{"LIVEAGENT_SESSION_IDLE_MINUTES": "0.05",  # 3 s
                                        "LIVEAGENT_SESSION_CHECK_SECONDS": "0.5"}])
async def test_an_idle_session_ends_and_its_silent_socket_is_closed(service, make_agent):
    aino = await make_agent("aino", online=False)
    for _ in range(8):  # in use for 4 s, longer than the idle timeout: it stays
        assert (await aino.call("GET", "/me")).status == 200
        await asyncio.sleep(0.5)
    ws = await open_socket(service, aino)
    assert await close_code(ws, timeout=20) == 4401  # it sends nothing; the socket watch closes it
    assert (await aino.call("GET", "/me")).status == 401
    assert (await aino.call("PUT", "/presence", {"presence": "online"})).status == 401


@pytest.mark.parametrize("database", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True)
async def test_logout_on_one_replica_closes_the_agents_socket_on_another(service, make_agent, tmp_path):
    """Two replicas over Redis, sharing the database, as in production."""
    port = free_port()
    env = {**service.env, "LIVEAGENT_REDIS_URL": REDIS_URL}
    first = Service(service.url, service.rasa_url, env, tmp_path / "first")
    other = Service(f"http://127.0.0.1:{port}", service.rasa_url, {**env, "LIVEAGENT_PORT": str(port)},
                    tmp_path / "other")
    await service.stop()  # restarted with Redis
    first.tmp.mkdir()
    other.tmp.mkdir()
    try:
        await first.start()
        await other.start()
        aino = await make_agent("aino", online=False)
        async with aiohttp.ClientSession(cookie_jar=aino.session.cookie_jar) as there:
            ws = await there.ws_connect(other.url.replace("http", "ws") + "/api/agent/ws",
                                        headers={"Origin": service.url})
            assert json.loads((await ws.receive(timeout=10)).data)["type"] == "queue"
            assert (await aino.call("POST", "/logout")).status == 204  # on the first replica
            assert await close_code(ws) == 4401
    finally:
        await other.stop()
        await first.stop()


# login: JSON only, from the console's own pages


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
async def test_login_csrf_text_plain_form_and_foreign_origins_are_refused(service):
    credentials = json.dumps({"username": "aino", "password": DEMO_PASSWORD})
    attempts = {
        "text/plain from a foreign page": dict(data=credentials, headers={"Content-Type": "text/plain",
                                                                           "Origin": EVIL}),
        "text/plain from the console": dict(data=credentials, headers={"Content-Type": "text/plain",
                                                                        "Origin": service.url}),
        "a form": dict(data={"username": "aino", "password": DEMO_PASSWORD}, headers={"Origin": EVIL}),
        "multipart": dict(data=aiohttp.FormData({"username": "aino", "password": DEMO_PASSWORD}),
                          headers={"Origin": EVIL}),
        "no content type": dict(data=credentials.encode(), headers={"Content-Type": ""}),
        "JSON from a foreign page": dict(headers={"Origin": EVIL}),
        "JSON from a sandboxed page": dict(headers={"Origin": "null"}),
        "JSON from another port": dict(headers={"Origin": service.url.rsplit(":", 1)[0] + ":1"}),
        "JSON, no Origin, but the browser says cross-site": dict(headers={"Sec-Fetch-Site": "cross-site"}),
    }
    answers = {}
    for name, request in attempts.items():
        status, body, headers = await login(service, "aino", **request)
        answers[name] = (status, body["error"], "Set-Cookie" in headers)
    assert answers == {
        "text/plain from a foreign page": (415, "json_required", False),
        "text/plain from the console": (415, "json_required", False),
        "a form": (415, "json_required", False),
        "multipart": (415, "json_required", False),
        "no content type": (415, "json_required", False),
        "JSON from a foreign page": (403, "origin_not_allowed", False),
        "JSON from a sandboxed page": (403, "origin_not_allowed", False),
        "JSON from another port": (403, "origin_not_allowed", False),
        "JSON, no Origin, but the browser says cross-site": (403, "origin_not_allowed", False),
    }
    # the console itself (the browser sends its Origin), and a script without one
    for headers in ({"Origin": service.url, "Sec-Fetch-Site": "same-origin"}, {}):
        status, _, sent = await login(service, "aino", headers=headers)
        assert status == 200 and sent["Set-Cookie"].startswith(f"{COOKIE}=")


# login: backoff, not lockout


async def test_an_attackers_wrong_passwords_do_not_stop_the_real_agent(service, make_agent):
    attacker, aino_home = "198.51.100.66", "203.0.113.5"
    assert [(await login(service, "aino", f"guess-{n}", attacker))[0] for n in range(5)] == [401] * 5
    status, body, headers = await login(service, "aino", DEMO_PASSWORD, attacker)  # even the right password
    assert (status, body) == (429, DELAYED) and 1 <= int(headers["Retry-After"]) <= 15
    assert (await login(service, "aino", DEMO_PASSWORD, aino_home))[0] == 200  # aino, from her own address

    # the attack spread over fifteen more addresses: the account is slowed down ...
    for n in range(15):
        assert (await login(service, "aino", f"spread-{n}", f"198.51.100.{n + 1}"))[0] == 401
    status, body, headers = await login(service, "aino", DEMO_PASSWORD, "198.51.100.200")
    assert (status, body) == (429, DELAYED) and 1 <= int(headers["Retry-After"]) <= 60  # a minute at most
    # ... except where aino logged in before
    assert (await login(service, "aino", DEMO_PASSWORD, aino_home))[0] == 200
    assert (await login(service, "ville", DEMO_PASSWORD, attacker))[0] == 200  # other accounts are not affected

    delayed = await audit_actions(make_agent, "login.delayed")
    assert [(e["actor"]["username"], e["client_address"]) for e in delayed] == [
        ("aino", "198.51.100.200"), ("aino", attacker)]
    failures = await audit_actions(make_agent, "login.failure")
    assert len(failures) == 20 and {e["actor"]["username"] for e in failures} == {"aino"}


async def test_unknown_and_known_usernames_get_the_same_answers(service):
    def same(answer) -> tuple:
        status, body, headers = answer
        return status, body, sorted(h for h in headers if h.lower() not in ("date", "content-length"))

    address = "198.51.100.90"
    for n in range(5):
        known = same(await login(service, "aino", f"wrong-{n}", address))
        unknown = same(await login(service, "nobody-here", f"wrong-{n}", address))
        assert known == unknown and known[:2] == (401, WRONG)
    known = same(await login(service, "aino", DEMO_PASSWORD, address))
    unknown = same(await login(service, "nobody-here", DEMO_PASSWORD, address))
    assert known == unknown and known[:2] == (429, DELAYED)
