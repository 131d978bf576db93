"""The production profile for real: two Rasa replicas, two service replicas, PostgreSQL and Redis.

The processes are the ones `make run-prod` starts (stack/production.py ``plan``), on free ports,
with their own PostgreSQL databases and Redis database, so nothing of a developer's rehearsal is
touched. PostgreSQL or Redis being down fails these tests; .ci/run starts both.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional

import aiohttp
import psycopg2
import pytest
import redis

from stack import production as prod_stack
from stack.processes import Process, free_port, running, wait_ready
from tests.conftest import CUSTOMER_ID_KEY, TEST_KEY, content_copy
from tests.liveagent.conftest import DEMO_PASSWORD, SECRET, Agent, Visitor, eventually

SERVICE_DB, RASA_DB = "lumo_prodtest", "lumo_prodtest_rasa"
REDIS_DB = 7
RASA_JWT_SECRET = "production-test-rasa-jwt-secret-0123456789"
ACTION_SERVER_TOKEN = "production-test-action-server-token-0123456789"
REDIS_START = ["redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "-::1", "--port", "6379",
               "--save", "", "--appendonly", "no", "--dir", "/var/lib/redis", "--logfile", "/var/log/redis/ci.log"]


def postgres() -> Any:
    try:
        connection = psycopg2.connect(host="127.0.0.1", port=5432, user="postgres", dbname="postgres",
                                      connect_timeout=5)
    except psycopg2.OperationalError as error:
        pytest.fail(f"PostgreSQL is not reachable at 127.0.0.1:5432 (.ci/run starts it): {error}")
    connection.autocommit = True
    return connection


def fresh_databases() -> None:
    connection = postgres()
    try:
        with connection.cursor() as cursor:
            for name in (SERVICE_DB, RASA_DB):
                cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            cursor.execute(f'CREATE DATABASE "{SERVICE_DB}"')
    finally:
        connection.close()


def redis_client() -> redis.Redis:
    return redis.Redis(host="127.0.0.1", port=6379, db=REDIS_DB, socket_timeout=5)


def restart_redis() -> float:
    """Stops and starts the local Redis (it keeps nothing on disk); returns the seconds it was down."""
    started = time.monotonic()
    with contextlib.suppress(redis.exceptions.ConnectionError):
        redis_client().shutdown(nosave=True)
    subprocess.run(REDIS_START, check=True, capture_output=True)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with contextlib.suppress(redis.exceptions.ConnectionError):
            if redis_client().ping():
                return time.monotonic() - started
        time.sleep(0.1)
    raise RuntimeError("Redis did not come back")


def restart_postgres() -> float:
    """Restarts the local PostgreSQL cluster (every connection is cut); returns the seconds it took."""
    started = time.monotonic()
    version = sorted(p.name for p in Path("/etc/postgresql").iterdir())[0]
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"],
                   check=True, capture_output=True)
    postgres().close()
    return time.monotonic() - started


@dataclass
class Endpoint:
    """One service replica as the test clients see it (what tests.liveagent's clients expect)."""

    url: str

    @property
    def origin(self) -> str:
        return self.url


@dataclass
class Production:
    layout: Any
    specs: Dict[str, Process]
    logs: Path

    def replica(self, index: int) -> Endpoint:
        return Endpoint(self.layout.service_url(index))

    @property
    def edge(self) -> Endpoint:
        """nginx in front of both replicas, as browsers reach the service."""
        return Endpoint(f"http://127.0.0.1:{self.layout.nginx}")

    def upstreams(self) -> List[str]:
        """The replica (host:port) nginx sent each request to, from its access log."""
        log = self.logs / "nginx" / "logs" / "access.log"
        return [line.split("upstream=")[1].split()[0] for line in log.read_text().splitlines() if "upstream=" in line]

    def start_again(self, name: str) -> None:
        """Starts the process ``name`` (killed by the test) again and waits until it is ready."""
        process = self.specs[name]
        process.kill()
        process.start()
        wait_ready([process], timeout=240)


@pytest.fixture(scope="module")
def production(request, tmp_path_factory) -> Production:
    """The rehearsal's processes for one module (test_replicas.py): stopped when it ends, not at the end of
    the whole run (its services sweep every second). A module's ``SERVICE_ENV`` adds to the services'
    environment (test_assignment.py: automatic assignment; the others claim from the queue)."""
    if not prod_stack.MODEL.exists():
        pytest.fail("models/lumo.tar.gz is missing: run `make train` (make test does it)")
    fresh_databases()
    try:
        redis_client().flushdb()
    except redis.exceptions.ConnectionError as error:
        pytest.fail(f"Redis is not reachable at 127.0.0.1:6379 (.ci/run starts it): {error}")
    tmp = tmp_path_factory.mktemp("production")
    layout = prod_stack.Layout(
        nginx=free_port(), rasa=(free_port(), free_port()), actions=free_port(),
        services=(free_port(), free_port()), service_db=SERVICE_DB, rasa_db=RASA_DB, redis_db=REDIS_DB,
    )
    origins = ",".join([layout.service_url(i) for i in range(2)] + [f"http://127.0.0.1:{layout.nginx}"])
    # LUMO_ENV=production (prod_stack.plan sets it): production secrets, audience and issuer set, no demo
    # settings; the agents are created as an operator creates them
    env = {
        **{key: value for key, value in os.environ.items() if key not in prod_stack.DEMO_ONLY},
        "LUMO_JWT_KEY": TEST_KEY, "LUMO_CUSTOMER_ID_KEY": CUSTOMER_ID_KEY,
        "LUMO_JWT_AUDIENCE": "lumo-assistant", "LUMO_JWT_ISSUER": "https://lumo.example",
        "LUMO_ACCOUNTS_DATABASE_URL": f"sqlite:///{tmp}/accounts.sqlite", "LUMO_ACCOUNTS_TIMEOUT_SECONDS": "2",
        "LIVEAGENT_SECRET": SECRET, "RASA_JWT_SECRET": RASA_JWT_SECRET, "ACTION_SERVER_TOKEN": ACTION_SERVER_TOKEN,
        "LIVEAGENT_ALLOWED_ORIGINS": origins, "LIVEAGENT_CONSOLE_ORIGINS": origins, "LIVEAGENT_ALWAYS_OPEN": "1",
        "LIVEAGENT_CONTENT_ROOT": str(content_copy(tmp / "content")),
        "LIVEAGENT_SWEEP_SECONDS": "1", "LIVEAGENT_RASA_TIMEOUT_SECONDS": "30",
        "LIVEAGENT_ASSIGNMENT": "manual",
        **getattr(request.module, "SERVICE_ENV", {}),
    }
    prod_stack.create_agents({**env, "LIVEAGENT_DATABASE_URL": layout.service_database_url}, DEMO_PASSWORD)
    processes = prod_stack.plan(layout, env, logs=tmp) + [prod_stack.nginx_spec(layout, tmp / "nginx")]
    with running(processes, timeout=420):
        yield Production(layout, {process.name: process for process in processes}, tmp)


@dataclass
class Console:
    """An agent's console: REST calls plus the live websocket, reconnecting and catching up like agent.js."""

    agent: Agent
    events: List[Dict[str, Any]] = field(default_factory=list)
    newest_id: int = 0
    _task: Optional[asyncio.Task] = None

    @classmethod
    async def open(cls, endpoint: Endpoint, username: str) -> "Console":
        # production cookies are Secure; this plain-http loopback stands in for https and wss (as browsers
        # treat localhost), so the jar sends the cookie to the REST calls and to the agent websocket
        secure = [endpoint.url, endpoint.url.replace("http", "ws", 1)]
        jar = aiohttp.CookieJar(unsafe=True, treat_as_secure_origin=secure)
        session = aiohttp.ClientSession(cookie_jar=jar, headers={"Origin": endpoint.url})
        agent = Agent(endpoint, session)
        response = await agent.login(username)
        assert response.status == 200, await response.text()
        assert (await agent.call("PUT", "/presence", {"presence": "online"})).status == 200
        console = cls(agent)
        console._task = asyncio.create_task(console._run())
        await console.wait_for(lambda e: e.get("type") == "queue")
        return console

    async def _run(self) -> None:
        url = self.agent.service.url.replace("http", "ws") + "/api/agent/ws"
        first = True
        while True:
            try:
                async with self.agent.session.ws_connect(url, headers={"Origin": self.agent.service.url},
                                                         heartbeat=5) as socket:
                    if not first:
                        await socket.send_str(json.dumps({"type": "resume", "after_id": self.newest_id}))
                    first = False
                    async for frame in socket:
                        event = json.loads(frame.data)
                        self.events.append(event)
                        if event.get("type") == "message":
                            self.newest_id = max(self.newest_id, event["message"]["id"])
                        elif event.get("type") == "resync":
                            await socket.send_str(json.dumps({"type": "resume", "after_id": self.newest_id,
                                                              "since": event.get("since")}))
            except (aiohttp.ClientError, OSError):
                pass
            await asyncio.sleep(0.5)

    def messages(self, conversation_id: str) -> List[Dict[str, Any]]:
        """Messages of the conversation as the console shows them: once per id."""
        shown: Dict[int, Dict[str, Any]] = {}
        for event in self.events:
            if event.get("type") == "message" and event.get("conversation_id") == conversation_id:
                shown.setdefault(event["message"]["id"], event["message"])
        return list(shown.values())

    async def wait_for(self, predicate, timeout: float = 15.0) -> Dict[str, Any]:
        """The first event so far or to come that matches ``predicate``."""
        try:
            return await eventually(lambda: next((event for event in list(self.events) if predicate(event)), None),
                                    timeout)
        except AssertionError:
            raise AssertionError(f"no matching agent event within {timeout}s; got {self.events[-10:]}") from None

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.agent.session.close()


def shown_to_visitor(visitor: Visitor) -> List[Dict[str, Any]]:
    """The visitor's transcript as the widget shows it: once per message id."""
    shown: Dict[int, Dict[str, Any]] = {}
    for message in visitor.messages():
        if isinstance(message, dict) and message.get("id") is not None:
            shown.setdefault(message["id"], message)
    return list(shown.values())
