"""Rasa's HTTP API with rasa_runtime.api_auth: every invalid JWT is a 401, not a 500 with a traceback."""

from __future__ import annotations

import base64
import json

import aiohttp
import jwt
import pytest
import rasa.server
from sanic import Sanic
from sanic_jwt.authentication import Authentication

from rasa_runtime import api_auth
from tests.integration.conftest import free_port

SECRET = "api-secret-for-the-tests-0123456789-abcdef"


def unsigned(claims: dict, alg: str = "none") -> str:
    def part(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': alg, 'typ': 'JWT'})}.{part(claims)}."


@pytest.fixture
async def api(monkeypatch):
    monkeypatch.setattr(Authentication, "_decode", Authentication._decode)
    monkeypatch.setattr(rasa.server, "create_app", rasa.server.create_app)
    monkeypatch.setattr(Sanic, "test_mode", True)
    api_auth.install()
    app = rasa.server.create_app(jwt_secret=SECRET, jwt_method="HS256")
    port = free_port()
    server = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True)
    await server.startup()
    yield f"http://127.0.0.1:{port}"
    server.close()
    await server.wait_closed()


async def status(url: str, token: str) -> int:
    async with aiohttp.ClientSession() as session:
        async with session.get(url, headers={"Authorization": f"Bearer {token}"}) as response:
            return response.status


async def test_every_invalid_jwt_is_a_401(api):
    url = f"{api}/conversations/someone/tracker"
    admin = {"user": {"username": "x", "role": "admin"}}
    assert await status(url, jwt.encode(admin, SECRET, algorithm="HS256")) not in (401, 403, 500)
    for token in (unsigned(admin), unsigned(admin, "NONE"), jwt.encode(admin, SECRET, algorithm="HS512"),
                  jwt.encode(admin, "not-the-secret-0123456789-0123456789", algorithm="HS256"), "nonsense"):
        assert await status(url, token) == 401, token


def test_url_tokens_stop_the_server(monkeypatch):
    monkeypatch.setattr(Authentication, "_decode", Authentication._decode)
    monkeypatch.setattr(rasa.server, "create_app", rasa.server.create_app)
    api_auth.install()
    with pytest.raises(SystemExit, match="--auth-token is refused"):
        rasa.server.create_app(auth_token="token-in-the-url", jwt_secret=SECRET, jwt_method="HS256")
