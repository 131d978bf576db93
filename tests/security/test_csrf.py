"""CSRF: every state-changing route of the app needs the session's X-CSRF-Token header.

The routes are enumerated from the app itself, so a new POST/PUT/DELETE route is tested the day it
is added; only the routes in PUBLIC may change state without a session, each for a stated reason.
"""

from __future__ import annotations

import re
import uuid
from typing import List, Tuple

import pytest
from sanic import Sanic

from liveagent.app import create_app
from liveagent.settings import Settings

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
PUBLIC = {
    ("POST", "/api/agent/login"): "creates the session: JSON only, Origin-checked, backoff (test_sessions.py)",
    ("POST", "/demo/token"): "demo site only (LIVEAGENT_DEMO_TOKENS=0 in production), changes nothing stored",
    ("POST", "/socket.io"): "engine.io long-polling of the visitor channel: no cookie, origin-checked",
    ("POST", "/api/visitor/transcript"): "a visitor's transcript: no cookie, authorised only by the signed session "
                                          "token in the body, allowed origins, changes nothing (test_transcripts.py)",
}
HEX_ID = "0123456789abcdef0123456789abcdef"


def state_changing_routes() -> List[Tuple[str, str]]:
    Sanic.test_mode = True
    app = create_app(Settings(session_secret="x" * 40), name=f"routes_{uuid.uuid4().hex}")
    found = []
    for route in app.router.routes:
        # <name:int> -> 1, any other parameter -> a conversation-id-like string
        path = "/" + re.sub(r"<[^>:]+(?::([^>]+))?>", lambda m: "1" if m.group(1) == "int" else HEX_ID, route.path)
        for method in sorted(set(route.methods) - SAFE_METHODS):
            found.append((method, path))
    return sorted(found)


ROUTES = state_changing_routes()
PROTECTED = [route for route in ROUTES if route not in PUBLIC]


def test_the_enumeration_finds_the_routes_it_must():
    assert set(PUBLIC) <= set(ROUTES)
    for expected in [("POST", "/api/agent/erasure"), ("POST", "/api/editor/publish"),
                     ("DELETE", "/api/agent/canned/1"), ("PUT", f"/api/editor/topics/{HEX_ID}/answer"),
                     ("PUT", "/api/agent/presence"), ("POST", "/api/agent/logout")]:
        assert expected in PROTECTED
    assert len(PROTECTED) >= 21


async def test_every_state_changing_route_refuses_a_missing_or_wrong_csrf_token(service, make_agent):
    ville = await make_agent("ville", online=False)  # a supervisor: the role checks come after the CSRF check
    outcomes = {}
    for method, path in PROTECTED:
        for header in ({}, {"X-CSRF-Token": "forged"}, {"X-CSRF-Token": ""}):
            response = await ville.session.request(method, service.url + path, json={}, headers=header)
            body = await response.json()
            outcomes[(method, path, tuple(header.values()))] = (response.status, body["error"], body["message"])
    expected = (403, "csrf", "Istunnon tarkistus epäonnistui. Lataa sivu uudelleen.")
    assert {key: value for key, value in outcomes.items() if value != expected} == {}
    assert (await ville.call("GET", "/me")).status == 200  # still logged in: nothing above logged out


@pytest.mark.parametrize(("method", "path"), PROTECTED[:1] + [("POST", "/api/agent/erasure")])
async def test_without_a_session_the_answer_is_401(service, make_agent, method, path):
    anonymous = await make_agent()
    response = await anonymous.session.request(method, service.url + path, json={})
    assert response.status == 401 and (await response.json())["error"] == "not_logged_in"
