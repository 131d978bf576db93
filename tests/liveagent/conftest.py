"""The live-agent service and a fake Rasa, both served in the test's own event loop on free local ports.

The service is built by ``create_app`` from the settings the process would read from its environment
(``Service.env``) and served by Sanic's ``create_server`` with its listeners run, so visitors and agents
reach it over real local HTTP and websockets; the fake Rasa is tests/liveagent/fake_rasa.py's app.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import os
import subprocess
import sys
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, Iterable, List, Optional, Tuple, TypeVar, Union

import aiohttp
import pytest
import socketio
from pytest_asyncio import is_async_test
from sanic import Sanic
from sanic.server.async_server import AsyncioServer

from liveagent.app import create_app
from liveagent.settings import Settings
from liveagent.store import Store
from stack.processes import free_port
from tests.conftest import CUSTOMER_ID_KEY, ROOT, TEST_KEY
from tests.liveagent import fake_rasa
from tests.liveagent.store.common import FAST_HASHER

SECRET = "service-secret-for-tests-0123456789-abcdefghijklmnop"
RASA_SECRET = "rasa-jwt-secret-for-tests-0123456789"
DEMO_PASSWORD = "demo-password-for-tests"
# How long a publish run may take to fail at validation (the content checks run in the service's thread pool,
# and `rasa data validate` in a subprocess), on a busy machine.
VALIDATION_SECONDS = 120
# The service's own log lines (what its process would print), not those of the tests' clients.
SERVICE_LOGGERS = ("liveagent", "sanic", "socketio.server", "engineio.server", "asyncio", "sqlalchemy", "aiosqlite")
T = TypeVar("T")


async def eventually(check: Callable[[], Union[T, Awaitable[T]]], timeout: float = 10.0) -> T:
    """The first truthy result of ``check`` (a function, or a coroutine function); AssertionError after
    ``timeout`` seconds. For conditions no event announces to the test (a row written by a sweep): asked
    again at once, then less and less often (at most every 0.1 s), so a quick condition is seen at once
    and a slow one does not keep the CPU busy."""
    async def until_true() -> T:
        pause = 0.005
        while True:
            result = check()
            if inspect.isawaitable(result):
                result = await result
            if result:
                return result  # type: ignore[return-value]
            await asyncio.sleep(pause)
            pause = min(pause * 2, 0.1)

    try:
        return await asyncio.wait_for(until_true(), timeout)
    except asyncio.TimeoutError:
        raise AssertionError(f"condition not reached within {timeout}s") from None


async def first_event(events: List[tuple], arrived: asyncio.Event, name: str,
                      predicate: Callable[[Any], bool] = lambda data: True, timeout: float = 8.0,
                      since: int = 0) -> Any:
    """The first ``(name, data)`` of ``events`` from index ``since`` on whose data matches ``predicate``,
    awaited: ``arrived`` is set by whoever appends to ``events`` (a Socket.IO client's recorder)."""
    async def first_match() -> Any:
        seen = since
        while True:
            arrived.clear()
            for event, data in events[seen:]:
                if event == name and predicate(data):
                    return data
            seen = max(seen, len(events))
            await arrived.wait()

    try:
        return await asyncio.wait_for(first_match(), timeout)
    except asyncio.TimeoutError:
        raise AssertionError(f"no {name} matching within {timeout}s; got {events}") from None


class RecordingClient:
    """A raw Socket.IO client recording every event of ``names`` in order; a wait ends when one arrives."""

    def __init__(self, names: Iterable[str]) -> None:
        self.client = socketio.AsyncClient(reconnection=False)
        self.events: List[tuple] = []
        self.arrived = asyncio.Event()
        for name in names:
            self.client.on(name, self._recorder(name))

    def _recorder(self, name: str) -> Callable[..., Awaitable[None]]:
        async def record(data: Any = None) -> None:
            self.events.append((name, data))
            self.arrived.set()
        return record

    async def next(self, name: str, after: int = 0, predicate: Callable[[Any], bool] = lambda data: True) -> Any:
        """The first ``name`` event from index ``after`` on that matches ``predicate`` (10 s at most)."""
        return await first_event(self.events, self.arrived, name, predicate, timeout=10, since=after)


class ServiceLog(logging.FileHandler):
    """The service's log lines, with tracebacks, in service.log (as its process would have written them)."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, mode="a", encoding="utf-8")
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        self.addFilter(lambda record: record.name.startswith(SERVICE_LOGGERS))


@dataclass
class Service:
    """The service as ``python -m liveagent serve`` would run it with ``env``, served in this event loop.

    ``stop()`` and ``start()`` restart it on the same port and database, as a new app (nothing in memory
    survives, as across a process restart). Its store is the real one, but hashes passwords with cheap
    parameters (FAST_HASHER): the demo agents and every login would otherwise cost a second of CPU each."""

    url: str
    rasa_url: str
    env: Dict[str, str]
    tmp: Path
    fake_rasa: Optional[fake_rasa.RunningFakeRasa] = None
    app: Optional[Sanic] = None
    server: Optional[AsyncioServer] = None
    log: Optional[ServiceLog] = None
    store: Optional[Store] = None

    @property
    def origin(self) -> str:
        return self.url

    async def start(self) -> None:
        self.tmp.mkdir(parents=True, exist_ok=True)
        self.log = ServiceLog(self.tmp / "service.log")
        logging.getLogger().addHandler(self.log)
        settings = Settings.from_env(self.env)
        Sanic.test_mode = True  # several apps in one process: Sanic's start-up rewrites keep the originals
        self.store = await Store.open(settings.database_url, hasher=FAST_HASHER)
        self.app = create_app(settings, name=f"liveagent_{uuid.uuid4().hex}", store=self.store)
        # Listening from here on; nobody is told the address before the listeners below have run.
        server = await self.app.create_server(settings.host, settings.port, return_asyncio_server=True,
                                              access_log=False)
        assert server is not None
        await server.startup()
        await server.before_start()  # the database, Rasa's session, Redis and the services open here
        await server.after_start()
        self.server = server

    async def stop(self) -> None:
        """As Sanic stops its server: listeners around closing the socket and dropping the connections."""
        server, self.server = self.server, None
        if server is None:
            return
        try:
            await server.before_stop()
            await server.close()
            for connection in list(server.connections):
                connection.close_if_idle()
            for connection in list(server.connections):
                websocket = getattr(connection, "websocket", None)
                if websocket is not None:
                    websocket.fail_connection(code=1001)
                else:
                    connection.abort()
            await server.after_stop()  # Rasa's session and Redis close here
        finally:
            if self.store is not None:
                await self.store.close()
                self.store = None
            if self.log is not None:
                logging.getLogger().removeHandler(self.log)
                self.log.close()

    def rasa_log(self) -> Dict[str, Any]:
        assert self.fake_rasa is not None
        return self.fake_rasa.log()

    async def command(self, *args: str, **env: str) -> subprocess.CompletedProcess:
        """``python -m liveagent <args>`` with the service's environment (its database), as an operator runs
        it beside the running service; in a thread, so the service goes on answering meanwhile."""
        return await asyncio.to_thread(subprocess.run, [sys.executable, "-m", "liveagent", *args], cwd=ROOT,
                                       env={**self.env, **env}, capture_output=True, text=True, timeout=120)


@pytest.fixture
def service_env() -> Dict[str, str]:
    """Extra environment for the service under test (tests override this fixture)."""
    return {}


def service_environment(url: str, rasa_url: str, database: Path, extra: Dict[str, str]) -> Dict[str, str]:
    """What the service's process would find in its environment (demo: the demo agents exist)."""
    port = url.rsplit(":", 1)[1]
    return {
        **os.environ,
        "LUMO_ENV": "demo",  # the demo agents (tests/security/test_fail_closed.py runs production)
        "LIVEAGENT_SECRET": SECRET, "RASA_JWT_SECRET": RASA_SECRET, "LUMO_JWT_KEY": TEST_KEY,
        "LUMO_CUSTOMER_ID_KEY": CUSTOMER_ID_KEY, "LIVEAGENT_PORT": port, "LIVEAGENT_HOST": "127.0.0.1",
        "LIVEAGENT_DATABASE_URL": f"sqlite+aiosqlite:///{database}",
        "LIVEAGENT_RASA_URL": rasa_url, "LIVEAGENT_RASA_TIMEOUT_SECONDS": "2",
        "LIVEAGENT_ALLOWED_ORIGINS": url, "LIVEAGENT_PUBLIC_URL": url, "LIVEAGENT_ALWAYS_OPEN": "1",
        "LIVEAGENT_DEMO_PASSWORD": DEMO_PASSWORD,
        # agents claim from the queue (what most tests drive); tests of automatic assignment set "auto"
        "LIVEAGENT_ASSIGNMENT": "manual",
        **extra,
    }


async def open_service(tmp_path: Path, service_env: Dict[str, str]) -> Service:
    """The fake Rasa and the service, started in the running loop on free ports."""
    rasa_port, port = free_port(), free_port()
    url, rasa_url = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{rasa_port}"
    env = service_environment(url, rasa_url, tmp_path / "liveagent.sqlite", service_env)
    svc = Service(url, rasa_url, env, tmp_path, fake_rasa=await fake_rasa.serve(rasa_port, RASA_SECRET))
    try:
        await svc.start()
    except BaseException:
        await close_service(svc)
        raise
    return svc


async def close_service(svc: Service) -> None:
    try:
        await svc.stop()
    finally:
        if svc.fake_rasa is not None:
            await svc.fake_rasa.stop()


class LoopThread:
    """An event loop in a thread of its own, for a service that must answer while the test's thread blocks."""

    def __enter__(self) -> "LoopThread":
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="service-loop", daemon=True)
        self.thread.start()
        return self

    def call(self, coroutine: Awaitable[T], timeout: float = 120) -> T:
        """Runs ``coroutine`` in the thread's loop and waits for it, from a thread with no loop of its own."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=timeout)

    def __exit__(self, *_exc: Any) -> None:
        async def cancel_the_rest() -> None:
            rest = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
            for task in rest:
                task.cancel()
            await asyncio.gather(*rest, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(cancel_the_rest(), self.loop).result(timeout=30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=30)
        self.loop.close()


@pytest.fixture
async def async_service(tmp_path, service_env):
    """The service in the test's own event loop (async tests; use `service`)."""
    svc = await open_service(tmp_path, service_env)
    try:
        yield svc
    finally:
        await close_service(svc)


@pytest.fixture
def service(request, tmp_path, service_env):
    """The service for this test. An async test gets it in its own event loop; a test written with a
    blocking client (the sync Playwright API, requests) blocks that loop while it runs, so it gets the
    service in a loop of its own thread instead. This fixture is not async itself: with the sync
    Playwright API active, no event loop may be started in the test's thread (pytest-asyncio would)."""
    if is_async_test(request.node):
        yield request.getfixturevalue("async_service")
        return
    with LoopThread() as thread:
        svc = thread.call(open_service(tmp_path, service_env))
        try:
            yield svc
        finally:
            thread.call(close_service(svc))


@dataclass
class Visitor:
    """A Socket.IO visitor speaking Rasa's protocol, recording everything it receives."""

    service: Service
    client: socketio.AsyncClient = field(default_factory=lambda: socketio.AsyncClient(reconnection=False))
    token: Optional[str] = None
    events: List[tuple] = field(default_factory=list)
    last_seen_id: int = 0
    arrived: asyncio.Event = field(default_factory=asyncio.Event)  # set at every event received

    async def connect(self, token: Optional[str] = None, origin: Optional[str] = None,
                      auth_token: Optional[str] = None) -> None:
        self.client = socketio.AsyncClient(reconnection=False)
        for name in ("session_confirm", "bot_uttered", "status", "history", "typing", "feedback_saved"):
            self.client.on(name, self._recorder(name))
        # wait_timeout: python-socketio's 1 s default for the namespace's answer is short when the service
        # shares this event loop on a busy machine (it once ran out in CI)
        await self.client.connect(self.service.url, headers={"Origin": origin or self.service.origin},
                                  transports=["websocket"], wait_timeout=10)
        request: Dict[str, Any] = {"session_id": token, "last_seen_id": self.last_seen_id}
        if auth_token:  # a logged-in customer's session resumes only for that customer
            request["auth_token"] = auth_token
        confirmed_before = len(self.events)
        await self.client.emit("session_request", request)
        # This connection's confirmation, not one from before a reconnect: until it comes, the
        # service has not joined the socket to its conversation and would drop a message. The
        # history the service sends right after it is here too when this returns.
        await self.wait_for("session_confirm", since=confirmed_before)
        await self.wait_for("history", since=confirmed_before)

    def _recorder(self, name: str):
        async def record(data: Any = None) -> None:
            self.events.append((name, data))
            self.arrived.set()
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
        return await first_event(self.events, self.arrived, name, predicate, timeout, since)

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


async def escalated_and_gone(service: Service, state: str = "waiting") -> str:
    """A visitor who asked for a person until their chat reached ``state``, then left (closed the page);
    returns the conversation id."""
    visitor = Visitor(service)
    await visitor.connect()
    await visitor.say("haluan puhua ihmisen kanssa")
    await visitor.wait_for("status", lambda d: d["state"] == state)
    await visitor.close()
    return visitor.token.split(".")[0]


async def stored(agent: Agent, conversation_id: str, text: str) -> None:
    """Until the service has stored ``text`` in the conversation (as ``agent`` reads it)."""
    async def seen() -> bool:
        detail = await (await agent.call("GET", f"/conversations/{conversation_id}")).json()
        return text in [m["text"] for m in detail["messages"]]

    await eventually(seen)


async def system_answer(visitors, text: str, timeout: float = 5) -> Tuple[Visitor, Dict[str, Any]]:
    """A new visitor says ``text``; the service's own answer (sender "system") to it."""
    visitor = await visitors()
    await visitor.connect()
    await visitor.say(text)
    return visitor, await visitor.wait_for("bot_uttered", lambda d: d["sender"] == "system", timeout=timeout)
