"""Real Rasa server and action server processes on free loopback ports (run by stack/processes.py).

Every stack has its own ports, tracker database, accounts database and log files under the test's
temporary directory, and is stopped (its whole process group) when its fixture ends.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

import pytest

from stack.processes import Process, free_port, start_all, stop_all
from tests.conftest import CUSTOMER_ID_KEY, ROOT, TEST_KEY, content_copy

__all__ = ["free_port"]  # tests.liveagent and tests.security import it from here
MODEL = ROOT / "models" / "lumo.tar.gz"
ACTION_SERVER_TOKEN = "integration-action-server-token-0123456789"
READY_SECONDS = 240


@dataclass
class Stack:
    rasa_url: str
    actions_url: str
    logs: Dict[str, Path]
    env: Dict[str, str]
    processes: Dict[str, Process] = field(default_factory=dict)  # "actions", "rasa"

    def stop(self) -> None:
        stop_all(reversed(list(self.processes.values())))

    def send(self, sender: str, text: str, metadata: Optional[Dict[str, Any]] = None) -> List[Dict[str, Any]]:
        body: Dict[str, Any] = {"sender": sender, "message": text}
        if metadata is not None:
            body["metadata"] = metadata
        request = urllib.request.Request(
            f"{self.rasa_url}/webhooks/rest/webhook",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read())

    def tracker(self, sender: str) -> Dict[str, Any]:
        """Rasa's tracker, read like the service reads it: a JWT in the Authorization header."""
        request = urllib.request.Request(f"{self.rasa_url}/conversations/{sender}/tracker",
                                         headers={"Authorization": f"Bearer {api_jwt()}"})
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())


RASA_JWT_SECRET = "integration-rasa-jwt-secret-0123456789"


def api_jwt(secret: str = RASA_JWT_SECRET, minutes: int = 5) -> str:
    """A token for Rasa's HTTP API, as liveagent/rasa_client.py makes them."""
    import datetime as dt

    import jwt

    expires = dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=minutes)
    return jwt.encode({"user": {"username": "tests", "role": "admin"}, "exp": expires}, secret, algorithm="HS256")


def endpoints_yml(actions_port: int, tracker_db: Path) -> str:
    """endpoints.yml for a test stack: like the project's (SQL tracker store in SQLite), its own ports and files."""
    return (f'action_endpoint:\n  url: "http://127.0.0.1:{actions_port}/webhook"\n'
            "  headers:\n    Authorization: Bearer ${ACTION_SERVER_TOKEN}\n"
            f"tracker_store:\n  type: SQL\n  dialect: sqlite\n  db: {tracker_db}\n")


def start_stack(tmp: Path, accounts_url: str, extra_env: Optional[Dict[str, str]] = None) -> Stack:
    """The action server and Rasa as `make run` starts them, on free ports; returns once both answer."""
    actions_port, rasa_port = free_port(), free_port()
    endpoints = tmp / "endpoints.yml"
    endpoints.write_text(endpoints_yml(actions_port, tmp / "rasa-tracker.sqlite"))
    env = {
        **os.environ,
        "LUMO_ENV": "demo",  # `make run`: demo customers seeded, demo agents
        "LUMO_JWT_KEY": TEST_KEY,
        "LUMO_CUSTOMER_ID_KEY": CUSTOMER_ID_KEY,
        "LUMO_ACCOUNTS_DATABASE_URL": accounts_url,
        "LUMO_ACCOUNTS_TIMEOUT_SECONDS": "2",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "RASA_JWT_SECRET": RASA_JWT_SECRET,
        "ACTION_SERVER_TOKEN": ACTION_SERVER_TOKEN,
        **(extra_env or {}),
    }
    stack = Stack(f"http://127.0.0.1:{rasa_port}", f"http://127.0.0.1:{actions_port}",
                  {"actions": tmp / "actions.log", "rasa": tmp / "rasa.log"}, env)
    stack.processes = {
        "actions": Process("actions", [sys.executable, "-m", "actions.server", "--port", str(actions_port)], env,
                           f"{stack.actions_url}/health", stack.logs["actions"]),
        "rasa": Process("rasa", [sys.executable, "-m", "rasa_runtime", "--model", str(MODEL), "--port", str(rasa_port),
                                 "--interface", "127.0.0.1", "--endpoints", str(endpoints),
                                 "--credentials", str(ROOT / "credentials.yml")],
                        env, f"{stack.rasa_url}/", stack.logs["rasa"]),
    }
    start_all(list(stack.processes.values()), READY_SECONDS)
    return stack


@pytest.fixture(scope="session")
def stack(tmp_path_factory) -> Stack:
    """The assistant with its demo SQLite accounts backend."""
    if not MODEL.exists():
        pytest.fail("models/lumo.tar.gz is missing: run `make train` (make test does it)")
    tmp = tmp_path_factory.mktemp("stack")
    running = start_stack(tmp, f"sqlite:///{tmp}/accounts.sqlite")
    yield running
    running.stop()


def service_env(running: Stack, port: int, tmp: Path, content: Path) -> Dict[str, str]:
    """The live-agent service's environment in front of ``running``, as `make run` wires it."""
    from tests.liveagent.conftest import DEMO_PASSWORD, SECRET

    service_url = f"http://127.0.0.1:{port}"
    return {
        **running.env,
        "LIVEAGENT_SECRET": SECRET, "RASA_JWT_SECRET": RASA_JWT_SECRET,
        "LIVEAGENT_PORT": str(port), "LIVEAGENT_HOST": "127.0.0.1",
        "LIVEAGENT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp}/liveagent.sqlite",
        "LIVEAGENT_RASA_URL": running.rasa_url, "LIVEAGENT_ALLOWED_ORIGINS": service_url,
        "LIVEAGENT_PUBLIC_URL": service_url,
        "LIVEAGENT_ALWAYS_OPEN": "1", "LIVEAGENT_DEMO_PASSWORD": DEMO_PASSWORD,
        "LIVEAGENT_CONTENT_ROOT": str(content),
        "LIVEAGENT_ASSIGNMENT": "manual",  # the agents of these tests claim from the queue
    }


@dataclass
class Service:
    """The live-agent service as a real process (python -m liveagent serve) in front of a Stack."""

    url: str
    rasa_url: str
    env: Dict[str, str]
    tmp: Path
    process: Optional[Process] = None

    @property
    def origin(self) -> str:
        return self.url

    def start(self) -> None:
        self.process = Process("liveagent", [sys.executable, "-m", "liveagent", "serve"], self.env,
                               f"{self.url}/health", self.tmp / "service.log").start()
        self.process.wait_ready(60)

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop(timeout=10)


@contextlib.contextmanager
def full_stack_running(tmp: Path) -> Iterator[Service]:
    """Actions + Rasa + the live-agent service in ``tmp``, wired as `make run` wires them (content: a copy)."""
    if not MODEL.exists():
        pytest.fail("models/lumo.tar.gz is missing: run `make train` (make test does it)")
    content = content_copy(tmp / "content")
    port = free_port()
    service_url = f"http://127.0.0.1:{port}"
    running = start_stack(tmp, f"sqlite:///{tmp}/accounts.sqlite", {"LUMO_LIVEAGENT_URL": service_url})
    env = {**service_env(running, port, tmp, content), "LIVEAGENT_HARVEST_IDLE_SECONDS": "1",
           "LIVEAGENT_SWEEP_SECONDS": "1"}
    service = Service(service_url, running.rasa_url, env, tmp)
    try:
        service.start()
        yield service
    finally:
        service.stop()
        running.stop()


@pytest.fixture(scope="session")
def full_stack(tmp_path_factory) -> Iterator[Service]:
    """The whole stack the browser tests share (tests that publish a model get their own)."""
    with full_stack_running(tmp_path_factory.mktemp("full")) as service:
        yield service
