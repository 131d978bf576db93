"""nginx in front of two service replicas, for real: deploy/nginx/rehearsal.conf.template.

The template is rendered into a fresh directory under /tmp, two stand-in replicas (small aiohttp
servers that answer every request with their own name and accept websocket upgrades) start on free
ports, and nginx runs in the foreground as a subprocess (as `nobody` when the tests run as root, so
the non-root layout is exercised too); stack/processes.py starts, waits for and stops all three.
Checked through nginx: Socket.IO stickiness by the lumo_route cookie, new clients spread over both
replicas, /editor and /api/editor/ only on replica 1, 413 above the service's 64 KB limit,
X-Forwarded-For replaced, websocket upgrades on /socket.io/ and /api/agent/ws, retries only for
requests that are safe to repeat, failover when a replica is down and failback when it returns.

Needs the `nginx` binary (Debian package nginx; the Makefile installs it). Installs nothing.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import re
import shutil
import string
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import pytest
import websockets

from stack.processes import Process, free_port, stop_all

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "deploy" / "nginx" / "rehearsal.conf.template"
LIMIT = 64 * 1024  # liveagent Settings.request_max_bytes
NAMES = ("service-1", "service-2")
COOKIE = re.compile(r"^lumo_route=([0-9a-f]{32}); Path=/; HttpOnly; SameSite=Lax$")

# The stand-in replica: answers every path with its name and what it received; websockets echo.
# /__drop/<name>: that replica closes the connection without answering (a crash mid-request).
UPSTREAM = r'''
import json, sys
from aiohttp import web, WSMsgType

NAME, PORT = sys.argv[1], int(sys.argv[2])

async def handle(request):
    if request.headers.get("Upgrade", "").lower() == "websocket":
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_str(json.dumps({"upstream": NAME, "path": request.path}))
        async for message in ws:
            if message.type == WSMsgType.TEXT:
                await ws.send_str(message.data)
        return ws
    body = await request.read()
    if request.path == "/__drop/" + NAME:
        request.transport.abort()
        return web.Response()
    return web.json_response({
        "upstream": NAME, "method": request.method, "path": request.path, "body_len": len(body),
        "x_forwarded_for": request.headers.getall("X-Forwarded-For", []),
        "x_forwarded_proto": request.headers.get("X-Forwarded-Proto"),
        "x_request_id": request.headers.get("X-Request-ID"),
    })

app = web.Application(client_max_size=16 * 1024 * 1024)  # the limit under test is nginx's
app.router.add_route("*", "/{tail:.*}", handle)
web.run_app(app, host="127.0.0.1", port=PORT, print=None, access_log=None)
'''


@dataclass
class Response:
    status: int
    headers: Dict[str, List[str]]
    body: bytes

    def header(self, name: str) -> Optional[str]:
        values = self.headers.get(name.lower())
        return values[0] if values else None

    def json(self) -> dict:
        return json.loads(self.body)

    @property
    def upstream(self) -> str:
        assert self.status == 200, f"status {self.status}: {self.body[:200]!r}"
        return self.json()["upstream"]

    @property
    def route_cookie(self) -> Optional[str]:
        for value in self.headers.get("set-cookie", []):
            match = COOKIE.match(value)
            assert match or not value.startswith("lumo_route="), f"unexpected route cookie: {value}"
            if match:
                return match.group(1)
        return None


@dataclass
class Stack:
    prefix: Path
    port: int
    upstream_ports: Dict[str, int]
    script: Path
    upstreams: Dict[str, Process] = field(default_factory=dict)
    nginx: Optional[Process] = None

    def request(self, method: str, path: str, body: Optional[bytes] = None, route: Optional[str] = None,
                headers: Optional[Dict[str, str]] = None) -> Response:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=15)
        try:
            sent = dict(headers or {})
            if route is not None:
                sent["Cookie"] = f"lumo_route={route}"
            connection.request(method, path, body=body, headers=sent)
            reply = connection.getresponse()
            collected: Dict[str, List[str]] = {}
            for name, value in reply.getheaders():
                collected.setdefault(name.lower(), []).append(value)
            return Response(reply.status, collected, reply.read())
        finally:
            connection.close()

    def new_client(self, path: str = "/socket.io/?EIO=4&transport=polling") -> Tuple[str, str]:
        """A first request without a cookie: (its route cookie, the replica that answered)."""
        first = self.request("GET", path)
        cookie = first.route_cookie
        assert cookie, f"no lumo_route cookie for a new client: {first.headers}"
        return cookie, first.upstream

    def cookie_for(self, name: str, seconds: float = 0) -> str:
        """The cookie of a new client that landed on ``name`` (waiting up to ``seconds`` for it to
        be back in rotation after passive health took it out)."""
        deadline = time.monotonic() + seconds
        while True:
            for _ in range(100):
                cookie, upstream = self.new_client()
                if upstream == name:
                    return cookie
            if time.monotonic() >= deadline:
                raise AssertionError(f"no new client was routed to {name}")
            time.sleep(1)

    def start_upstream(self, name: str) -> None:
        port = self.upstream_ports[name]
        self.upstreams[name] = Process(name, [sys.executable, str(self.script), name, str(port)], dict(os.environ),
                                       f"http://127.0.0.1:{port}/health", self.prefix / f"{name}.log").start()
        self.upstreams[name].wait_ready(20)

    def stop_upstream(self, name: str) -> None:
        self.upstreams.pop(name).kill()


def find_nginx() -> Optional[str]:
    return shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/local/nginx/sbin/nginx")
         if os.access(p, os.X_OK)), None)


def render(prefix: Path, port: int, service_1: int, service_2: int) -> Path:
    text = string.Template(TEMPLATE.read_text(encoding="utf-8")).substitute(
        PREFIX=str(prefix), LISTEN_PORT=str(port),
        SERVICE_1=f"127.0.0.1:{service_1}", SERVICE_2=f"127.0.0.1:{service_2}")
    conf = prefix / "nginx.conf"
    conf.write_text(text, encoding="utf-8")
    return conf


@pytest.fixture(scope="module")
def stack():
    nginx = find_nginx()
    if nginx is None:
        pytest.fail("nginx is not installed: tests/production/test_nginx.py runs the real nginx "
                    "(Debian: apt-get install -y nginx; `make test` installs it)")
    prefix = Path(tempfile.mkdtemp(prefix="lumo-nginx-", dir="/tmp"))
    prefix.chmod(0o755)
    for sub in ("logs", "temp"):  # as scripts/prod_stack.py lays PREFIX out
        (prefix / sub).mkdir()
    run_as: List[str] = []
    if os.geteuid() == 0 and shutil.which("setpriv"):
        # As root, run nginx as nobody: the template must not need root (pid, logs, temp paths).
        for path in (prefix, prefix / "logs", prefix / "temp"):
            os.chown(path, 65534, 65534)
        run_as = [shutil.which("setpriv"), "--reuid=65534", "--regid=65534", "--clear-groups"]
    script = prefix / "upstream.py"
    script.write_text(UPSTREAM, encoding="utf-8")
    stack = Stack(prefix=prefix, port=free_port(), upstream_ports={name: free_port() for name in NAMES},
                  script=script)
    try:
        for name in NAMES:
            stack.start_upstream(name)
        conf = render(prefix, stack.port, stack.upstream_ports["service-1"], stack.upstream_ports["service-2"])
        command = [*run_as, nginx, "-p", str(prefix), "-e", "stderr", "-c", str(conf)]
        check = subprocess.run([*command, "-t"], capture_output=True, text=True, timeout=30)
        assert check.returncode == 0, f"nginx -t rejected the rendered template:\n{check.stderr}"
        # ready once a request through it reaches a replica (as stack/production.py's nginx_spec)
        stack.nginx = Process("nginx", [*command, "-g", "daemon off;"], dict(os.environ),
                              f"http://127.0.0.1:{stack.port}/health", prefix / "nginx.out").start()
        stack.nginx.wait_ready(20)
        yield stack
    finally:
        stop_all([process for process in (stack.nginx, *stack.upstreams.values()) if process is not None], 10)
        shutil.rmtree(prefix, ignore_errors=True)


def test_rendered_config_has_no_placeholders_left(stack):
    text = (stack.prefix / "nginx.conf").read_text(encoding="utf-8")
    assert "${" not in text and "$$" not in text
    assert str(stack.prefix) in text and f"127.0.0.1:{stack.port}" in text
    for name in NAMES:
        assert f"127.0.0.1:{stack.upstream_ports[name]}" in text
    assert (stack.prefix / "nginx.pid").exists(), "pid file not under PREFIX"
    assert (stack.prefix / "logs" / "error.log").exists() and (stack.prefix / "logs" / "access.log").exists()
    assert (stack.prefix / "temp" / "proxy").is_dir(), "temp paths not under PREFIX/temp"


def test_a_client_with_a_route_cookie_stays_on_its_replica(stack):
    cookie, first = stack.new_client()
    for i in range(10):
        method, body = ("POST", b"4" * 40) if i % 2 else ("GET", None)
        reply = stack.request(method, "/socket.io/?EIO=4&transport=polling&sid=abc", body=body, route=cookie)
        assert reply.upstream == first, f"request {i} of one Socket.IO session went to another replica"
        assert reply.route_cookie is None, "a client that has a valid cookie must not get a new one"


def test_new_clients_spread_and_their_first_request_matches_their_cookie(stack):
    seen = {name: 0 for name in NAMES}
    for _ in range(40):
        cookie, first = stack.new_client()
        # The first request was hashed by $request_id, the cookie is that id: the same replica.
        assert stack.request("GET", "/socket.io/?EIO=4&transport=polling", route=cookie).upstream == first
        seen[first] += 1
    assert min(seen.values()) >= 5, f"new clients are not spread over the replicas: {seen}"


def test_an_invalid_route_cookie_is_replaced(stack):
    reply = stack.request("GET", "/socket.io/?EIO=4&transport=polling", route="../../etc/passwd")
    assert reply.status == 200 and reply.route_cookie is not None


def test_editor_goes_only_to_the_content_replica(stack):
    cookie = stack.cookie_for("service-2")
    assert stack.request("GET", "/api/agent/me", route=cookie).upstream == "service-2"
    for method, path in (("GET", "/editor"), ("GET", "/api/editor/topics"), ("POST", "/api/editor/publish"),
                         ("PUT", "/api/editor/topics/hakeminen/answer")):
        for route in (cookie, None):
            reply = stack.request(method, path, body=b"{}" if method != "GET" else None, route=route)
            assert reply.upstream == "service-1", f"{method} {path} reached {reply.upstream}"
    # Only /editor itself and /api/editor/ are the content replica's; similar names are not.
    assert stack.request("GET", "/editorial", route=cookie).upstream == "service-2"


def test_forwarded_headers_request_id_and_no_version_in_server_header(stack):
    reply = stack.request("GET", "/api/availability", headers={"X-Forwarded-For": "203.0.113.9"})
    data = reply.json()
    assert data["x_forwarded_for"] == ["127.0.0.1"], "a client-supplied X-Forwarded-For must be replaced"
    assert data["x_forwarded_proto"] == "http"
    assert re.fullmatch(r"[0-9a-f]{32}", data["x_request_id"] or "")
    assert reply.header("server") == "nginx", f"server tokens shown: {reply.header('server')}"


def test_bodies_over_the_service_limit_get_413_from_nginx(stack):
    at_limit = stack.request("POST", "/api/agent/login", body=b"x" * LIMIT,
                             headers={"Content-Type": "application/json"})
    assert at_limit.status == 200 and at_limit.json()["body_len"] == LIMIT
    for path in ("/api/agent/login", "/socket.io/?EIO=4&transport=polling", "/api/editor/topics"):
        over = stack.request("POST", path, body=b"x" * (LIMIT + 1), headers={"Content-Type": "application/json"})
        assert over.status == 413, f"{path}: {over.status}"
        assert over.json()["error"] == "too_large"  # nginx's own answer, not a replica's
        assert "upstream" not in over.json()


def test_websocket_upgrades_pass_through(stack):
    cookie = stack.cookie_for("service-2")

    async def talk(path: str, route: Optional[str]) -> str:
        headers = {"Cookie": f"lumo_route={route}"} if route else {}
        async with websockets.connect(f"ws://127.0.0.1:{stack.port}{path}", extra_headers=headers,
                                      open_timeout=10) as ws:
            hello = json.loads(await asyncio.wait_for(ws.recv(), 10))
            assert hello["path"] == path.split("?")[0]
            await asyncio.sleep(1.5)  # quiet for a moment: the tunnel stays open
            await ws.send("2probe")
            assert await asyncio.wait_for(ws.recv(), 10) == "2probe"
            return hello["upstream"]

    assert asyncio.run(talk("/socket.io/?EIO=4&transport=websocket", cookie)) == "service-2"
    assert asyncio.run(talk("/socket.io/?EIO=4&transport=websocket", None)) in NAMES
    assert asyncio.run(talk("/api/agent/ws", None)) in NAMES


def test_only_requests_that_are_safe_to_repeat_are_retried_elsewhere(stack):
    cookie = stack.cookie_for("service-2")
    # service-2 takes the request and drops the connection: a GET is repeated on service-1 ...
    assert stack.request("GET", "/__drop/service-2", route=cookie).upstream == "service-1"
    # ... a POST is not: service-2 may have acted on it.
    assert stack.request("POST", "/__drop/service-2", body=b"{}", route=cookie).status == 502
    # Two failures within fail_timeout took service-2 out for 10 s; then it is back.
    stack.cookie_for("service-2", seconds=20)


def test_failover_when_a_replica_is_down_and_failback_when_it_returns(stack):
    cookie = stack.cookie_for("service-2")
    stack.stop_upstream("service-2")
    try:
        for method in ("GET", "POST", "GET"):  # refused at connect: even a POST is safe to send elsewhere
            reply = stack.request(method, "/socket.io/?EIO=4&transport=polling", route=cookie,
                                  body=b"{}" if method == "POST" else None)
            assert reply.upstream == "service-1"
        for _ in range(20):
            assert stack.new_client()[1] == "service-1"
        assert stack.request("GET", "/editor").upstream == "service-1"
    finally:
        stack.start_upstream("service-2")
    # After fail_timeout (10 s) the replica gets its own clients back.
    deadline = time.monotonic() + 30
    while stack.request("GET", "/socket.io/?EIO=4&transport=polling", route=cookie).upstream != "service-2":
        assert time.monotonic() < deadline, "service-2 did not get its clients back after it returned"
        time.sleep(1)
    assert stack.nginx.alive()
    log = (stack.prefix / "logs" / "access.log").read_text(encoding="utf-8")
    assert "sid=" not in log and "lumo_route" not in log, "query strings or cookies in the access log"
