"""Real processes for the live-agent service tests: a fake Rasa and the service itself."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional

import aiohttp
import pytest
import socketio

from tests.conftest import CUSTOMER_ID_KEY, ROOT, TEST_KEY
from tests.integration.conftest import free_port

SECRET = "service-secret-for-tests-0123456789-abcdefghijklmnop"
RASA_SECRET = "rasa-jwt-secret-for-tests-0123456789"
DEMO_PASSWORD = "demo-password-for-tests"


def wait_http(url: str, proc: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"exited {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} not ready:\n{log.read_text()[-3000:]}")


@dataclass
class Service:
    url: str
    rasa_url: str
    env: Dict[str, str]
    tmp: Path
    proc: Optional[subprocess.Popen] = None

    @property
    def origin(self) -> str:
        return self.url

    def start(self) -> None:
        log = self.tmp / "service.log"
        self.proc = subprocess.Popen([sys.executable, "-m", "liveagent", "serve"], cwd=ROOT, env=self.env,
                                     stdout=log.open("a"), stderr=subprocess.STDOUT)
        wait_http(f"{self.url}/health", self.proc, log)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()

    def rasa_log(self) -> Dict[str, Any]:
        import json

        with urllib.request.urlopen(f"{self.rasa_url}/_log", timeout=5) as response:
            return json.loads(response.read())


@pytest.fixture
def service_env() -> Dict[str, str]:
    """Extra environment for the service under test (tests override this fixture)."""
    return {}


@pytest.fixture
def service(tmp_path, service_env):
    rasa_port, port = free_port(), free_port()
    rasa_log = tmp_path / "rasa.log"
    rasa = subprocess.Popen([sys.executable, str(ROOT / "tests" / "liveagent" / "fake_rasa.py"), str(rasa_port),
                             RASA_SECRET], stdout=rasa_log.open("w"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "LUMO_ENV": "demo",  # the demo agents (tests/security/test_fail_closed.py runs production)
        "LIVEAGENT_SECRET": SECRET, "RASA_JWT_SECRET": RASA_SECRET, "LUMO_JWT_KEY": TEST_KEY,
        "LUMO_CUSTOMER_ID_KEY": CUSTOMER_ID_KEY, "LIVEAGENT_PORT": str(port), "LIVEAGENT_HOST": "127.0.0.1",
        "LIVEAGENT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/liveagent.sqlite",
        "LIVEAGENT_RASA_URL": f"http://127.0.0.1:{rasa_port}", "LIVEAGENT_RASA_TIMEOUT_SECONDS": "2",
        "LIVEAGENT_ALLOWED_ORIGINS": url, "LIVEAGENT_PUBLIC_URL": url, "LIVEAGENT_ALWAYS_OPEN": "1",
        "LIVEAGENT_DEMO_PASSWORD": DEMO_PASSWORD,
        **service_env,
    }
    svc = Service(url, f"http://127.0.0.1:{rasa_port}", env, tmp_path)
    try:
        wait_http(f"{svc.rasa_url}/_log", rasa, rasa_log)
        svc.start()
        yield svc
    finally:
        svc.stop()
        rasa.kill()
        rasa.wait(timeout=10)


@dataclass
class Visitor:
    """A Socket.IO visitor speaking Rasa's protocol, recording everything it receives."""

    service: Service
    client: socketio.AsyncClient = field(default_factory=lambda: socketio.AsyncClient(reconnection=False))
    token: Optional[str] = None
    events: List[tuple] = field(default_factory=list)
    last_seen_id: int = 0

    async def connect(self, token: Optional[str] = None, origin: Optional[str] = None,
                      auth_token: Optional[str] = None) -> None:
        self.client = socketio.AsyncClient(reconnection=False)
        for name in ("session_confirm", "bot_uttered", "status", "history", "typing"):
            self.client.on(name, self._recorder(name))
        await self.client.connect(self.service.url, headers={"Origin": origin or self.service.origin},
                                  transports=["websocket"])
        request: Dict[str, Any] = {"session_id": token, "last_seen_id": self.last_seen_id}
        if auth_token:  # a logged-in customer's session resumes only for that customer
            request["auth_token"] = auth_token
        confirmed_before = len(self.events)
        await self.client.emit("session_request", request)
        # This connection's confirmation, not one from before a reconnect: until it comes, the
        # service has not joined the socket to its conversation and would drop a message.
        await self.wait_for("session_confirm", since=confirmed_before)

    def _recorder(self, name: str):
        async def record(data: Any = None) -> None:
            self.events.append((name, data))
            if name == "session_confirm":
                self.token = data["session_id"]
            for message in ([data] if name == "bot_uttered" else (data or {}).get("messages", [])
                            if name == "history" else []):
                self.last_seen_id = max(self.last_seen_id, message.get("id") or 0)
        return record

    async def say(self, text: str, auth_token: Optional[str] = None) -> None:
        data: Dict[str, Any] = {"message": text, "session_id": self.token}
        if auth_token:
            data["customData"] = {"auth_token": auth_token}
        await self.client.emit("user_uttered", data)

    async def wait_for(self, name: str, predicate=lambda data: True, timeout: float = 8.0, since: int = 0) -> Any:
        """The first ``name`` event matching ``predicate`` among the events from index ``since`` on."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for event, data in self.events[since:]:
                if event == name and predicate(data):
                    return data
            await asyncio.sleep(0.05)
        raise AssertionError(f"no {name} matching within {timeout}s; got {self.events}")

    def received(self, name: str) -> List[Any]:
        return [data for event, data in self.events if event == name]

    def messages(self) -> List[Dict[str, Any]]:
        found = list(self.received("bot_uttered"))
        for history in self.received("history"):
            found.extend(history.get("messages", []))
        return found

    async def close(self) -> None:
        await self.client.disconnect()


@dataclass
class Agent:
    service: Service
    session: aiohttp.ClientSession
    csrf: str = ""
    me: Dict[str, Any] = field(default_factory=dict)

    async def login(self, username: str, password: str = DEMO_PASSWORD) -> aiohttp.ClientResponse:
        response = await self.session.post(f"{self.service.url}/api/agent/login",
                                           json={"username": username, "password": password})
        if response.status == 200:
            data = await response.json()
            self.csrf, self.me = data["csrf_token"], data["agent"]
        return response

    async def call(self, method: str, path: str, json: Any = None, csrf: bool = True) -> aiohttp.ClientResponse:
        headers = {"X-CSRF-Token": self.csrf} if csrf else {}
        return await self.session.request(method, f"{self.service.url}/api/agent{path}", json=json, headers=headers)


@pytest.fixture
async def make_agent(service):
    sessions = []

    async def factory(username: Optional[str] = None, online: bool = True) -> Agent:
        session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True),
                                        headers={"Origin": service.url})
        sessions.append(session)
        agent = Agent(service, session)
        if username:
            response = await agent.login(username)
            assert response.status == 200, await response.text()
            if online:
                assert (await agent.call("PUT", "/presence", {"presence": "online"})).status == 200
        return agent

    yield factory
    for session in sessions:
        await session.close()


@pytest.fixture
async def visitors(service):
    created: List[Visitor] = []

    async def factory() -> Visitor:
        visitor = Visitor(service)
        created.append(visitor)
        return visitor

    yield factory
    for visitor in created:
        if visitor.client.connected:
            await visitor.close()


async def escalated(visitors, text: str = "haluan puhua ihmisen kanssa"):
    """A connected visitor whose conversation waits in the queue; returns (visitor, conversation id)."""
    visitor = await visitors()
    await visitor.connect()
    await visitor.say(text)
    await visitor.wait_for("status", lambda d: d["state"] == "waiting")
    return visitor, visitor.token.split(".")[0]
