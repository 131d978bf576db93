"""Who may call what, on the real Rasa and action servers: Rasa's HTTP API takes a JWT signed with
RASA_JWT_SECRET in the Authorization header and nothing else; the action server takes Rasa's bearer
token; Rasa reaches its actions through that token (every other integration test relies on it)."""

from __future__ import annotations

import base64
import json
import socket
import urllib.error
import urllib.parse
import urllib.request
from typing import Dict, Optional

import jwt
import pytest

from tests.integration.conftest import ACTION_SERVER_TOKEN, api_jwt

pytestmark = pytest.mark.integration


def status_of(url: str, headers: Optional[Dict[str, str]] = None, body: Optional[bytes] = None) -> int:
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def unsigned(claims: dict) -> str:
    """A JWT with alg "none": header and claims, no signature."""
    def part(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


ADMIN = {"user": {"username": "intruder", "role": "admin"}}


def test_rasa_api_takes_a_jwt_in_the_header_only(stack):
    url = f"{stack.rasa_url}/conversations/it-api-auth/tracker"
    good = api_jwt()
    assert status_of(url, {"Authorization": f"Bearer {good}"}) == 200
    refused = {
        "no token": status_of(url),
        "the valid JWT in the URL": status_of(f"{url}?token={good}"),
        "a token in the URL": status_of(f"{url}?token=integration-test-api-token"),
        "alg none": status_of(url, {"Authorization": f"Bearer {unsigned(ADMIN)}"}),
        "alg none, upper case": status_of(url, {"Authorization": f"Bearer {unsigned(ADMIN).replace('none', 'NONE')}"}),
        "wrong key": status_of(url, {"Authorization": "Bearer " + jwt.encode(
            ADMIN, "wrong-secret-wrong-secret-wrong-secret-0123", algorithm="HS256")}),
        "expired": status_of(url, {"Authorization": f"Bearer {api_jwt(minutes=-5)}"}),
        "not a JWT": status_of(url, {"Authorization": "Bearer not-a-jwt"}),
    }
    # alg none would be refused by Rasa as a 500 with a traceback; rasa_runtime/api_auth.py makes it a 401.
    assert refused == {reason: 401 for reason in refused}
    assert status_of(url, {"Authorization": good}) == 400  # no "Bearer": a malformed header (sanic-jwt)
    # Other API routes the same way (the service uses these two as well).
    events = f"{stack.rasa_url}/conversations/it-api-auth/tracker/events"
    assert status_of(events, body=b'[{"event": "resume"}]') == 401
    assert status_of(f"{events}?token={good}", body=b'[{"event": "resume"}]') == 401
    assert status_of(f"{stack.rasa_url}/status") == 401


def test_action_server_takes_rasas_token_only(stack):
    call = json.dumps({"next_action": "action_check_account_status", "sender_id": "x",
                       "tracker": {"sender_id": "x", "events": []}, "version": "3.6.21"}).encode()
    for headers in ({}, {"Authorization": "Bearer wrong-token-0123456789-0123456789-0123"},
                    {"Authorization": f"Bearer {api_jwt()}"}, {"Authorization": ACTION_SERVER_TOKEN}):
        assert status_of(f"{stack.actions_url}/webhook", headers, call) == 401
        assert status_of(f"{stack.actions_url}/actions", headers) == 401
    assert status_of(f"{stack.actions_url}/actions", {"Authorization": f"Bearer {ACTION_SERVER_TOKEN}"}) == 200
    assert status_of(f"{stack.actions_url}/health") == 200
    # Rasa itself gets through: an anonymous status question runs action_check_account_status.
    messages = stack.send("it-api-auth-actions", "onko mun hakemus jo käsitelty")
    assert [m.get("text") for m in messages] and "Kirjaudu" in messages[0]["text"]
    assert "401" not in stack.logs["rasa"].read_text()


def test_rasa_refuses_bodies_far_below_sanics_default(stack):
    """Sanic's default limit is 100 MB; our Rasa takes 1 MB (rasa_runtime/__main__.py). A request announcing
    2 MB is refused at its headers, before its body is read. (Writing the body too raced the refusal: Rasa
    answers and closes while the client is still writing, which then fails with a broken pipe.)"""
    address = urllib.parse.urlsplit(stack.rasa_url)
    with socket.create_connection((address.hostname, address.port), timeout=30) as connection:
        connection.sendall(f"POST /webhooks/rest/webhook HTTP/1.1\r\nHost: {address.netloc}\r\n"
                           f"Content-Type: application/json\r\nContent-Length: {2 * 1024 * 1024}\r\n\r\n".encode())
        status_line = connection.makefile("rb").readline()
    assert status_line.split()[:2] == [b"HTTP/1.1", b"413"], status_line
