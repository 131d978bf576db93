"""Rasa's calls to the action server: the token from endpoints.yml, a bound well inside the lock,
and no way to put the API token in a URL."""

from __future__ import annotations

import asyncio
import inspect
import os
import subprocess
import sys
import time
from typing import Any, Dict, List

import pytest
from aiohttp import web
from rasa.core.actions import action as action_module
from rasa.core.actions.action import RemoteAction
from rasa.core.channels.channel import CollectingOutputChannel
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.exceptions import RasaException
from rasa.utils.endpoints import read_endpoint_config

from rasa_runtime import action_calls
from tests.conftest import ROOT
from tests.integration.conftest import free_port

TOKEN = "token-from-the-environment-0123456789abcdef"


@pytest.fixture
def restore_timeout(monkeypatch):
    monkeypatch.setattr(action_module, "DEFAULT_REQUEST_TIMEOUT", action_module.DEFAULT_REQUEST_TIMEOUT)


@pytest.fixture
async def action_server():
    """A stand-in action server: /webhook answers at once, /hang never (until the test ends)."""
    seen: List[Dict[str, Any]] = []
    release = asyncio.Event()

    async def webhook(request: web.Request) -> web.Response:
        seen.append(dict(request.headers))
        return web.json_response({"events": [], "responses": []})

    async def hang(request: web.Request) -> web.Response:
        seen.append(dict(request.headers))
        await release.wait()
        return web.json_response({"events": [], "responses": []})

    app = web.Application()
    app.router.add_post("/webhook", webhook)
    app.router.add_post("/hang", hang)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield f"http://127.0.0.1:{port}", seen
    release.set()
    await runner.cleanup()


def run_action(endpoint) -> Any:
    tracker = DialogueStateTracker.from_events("visitor-1", [])
    return RemoteAction("action_check_account_status", endpoint).run(
        CollectingOutputChannel(), TemplatedNaturalLanguageGenerator({}), tracker, Domain.empty())


def project_endpoint(monkeypatch, url: str):
    monkeypatch.setenv("ACTION_SERVER_TOKEN", TOKEN)
    endpoint = read_endpoint_config(str(ROOT / "endpoints.yml"), "action_endpoint")
    endpoint.url = url
    return endpoint


def test_endpoints_yml_takes_the_token_from_the_environment(monkeypatch):
    monkeypatch.setenv("ACTION_SERVER_TOKEN", TOKEN)
    endpoint = read_endpoint_config(str(ROOT / "endpoints.yml"), "action_endpoint")
    # Rasa substitutes ${VAR} only in unquoted values; a quoted one would send the literal text.
    assert endpoint.headers == {"Authorization": f"Bearer {TOKEN}"}
    monkeypatch.delenv("ACTION_SERVER_TOKEN")
    with pytest.raises(RasaException, match="ACTION_SERVER_TOKEN"):
        read_endpoint_config(str(ROOT / "endpoints.yml"), "action_endpoint")


async def test_rasa_sends_the_token_with_every_action_call(monkeypatch, action_server):
    url, seen = action_server
    await run_action(project_endpoint(monkeypatch, f"{url}/webhook"))
    assert seen[0]["Authorization"] == f"Bearer {TOKEN}"


async def test_a_hung_action_server_is_given_up_on_after_the_timeout(monkeypatch, action_server, restore_timeout):
    # The patch hooks the name RemoteAction.run passes as its timeout; Rasa's own value is 5 minutes.
    assert "timeout=DEFAULT_REQUEST_TIMEOUT" in inspect.getsource(RemoteAction.run)
    assert action_module.DEFAULT_REQUEST_TIMEOUT == 300
    url, seen = action_server
    action_calls.install(0.5)
    started = time.monotonic()
    # Rasa's MessageProcessor._run_action catches any exception: the action's events are dropped and
    # the turn ends (the REST channel answers []).
    with pytest.raises(asyncio.TimeoutError):
        await run_action(project_endpoint(monkeypatch, f"{url}/hang"))
    assert 0.4 < time.monotonic() - started < 2.5
    assert len(seen) == 1


def test_the_timeout_must_stay_well_inside_the_lock(restore_timeout):
    assert action_calls.lock_lifetime_seconds() == 60  # TICKET_LOCK_LIFETIME unset: Rasa's default
    for bad in (0, -1, 20.5, 300):
        with pytest.raises(ValueError, match="TICKET_LOCK_LIFETIME"):
            action_calls.install(bad)
    action_calls.install(20)
    assert action_module.DEFAULT_REQUEST_TIMEOUT.total == 20
    assert action_calls.DEFAULT_TIMEOUT_SECONDS < 60 / 3


@pytest.mark.parametrize("flag", [["--auth-token", "secret-in-the-url"], ["-t", "secret-in-the-url"]])
def test_our_rasa_refuses_an_api_token_in_urls(flag, tmp_path):
    env = {**os.environ, "LUMO_ENV": "demo", "RASA_JWT_SECRET": "jwt-secret-0123456789-0123456789",
           "TF_CPP_MIN_LOG_LEVEL": "2",
           "ACTION_SERVER_TOKEN": TOKEN, "RASA_TELEMETRY_ENABLED": "false"}
    done = subprocess.run(
        [sys.executable, "-m", "rasa_runtime", "--model", str(tmp_path / "none.tar.gz"),
         "--port", str(free_port()), "--interface", "127.0.0.1", *flag],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    assert "--auth-token is refused" in done.stderr
