"""liveagent/http_client.py: keep-alive connections, answers as they come, and every way a request fails."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import subprocess
from pathlib import Path
from typing import AsyncIterator, Awaitable, Callable, List, Set, Tuple

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from liveagent.http_client import ConnectFailed, Disconnected, HttpClient, ProtocolError
from stack.processes import free_port

JSON = {"Content-Type": "application/json"}


def recording_app(peers: Set[Tuple[str, int]], bodies: List[bytes]) -> web.Application:
    async def echo(request: web.Request) -> web.Response:
        peers.add(request.transport.get_extra_info("peername"))
        bodies.append(await request.read())
        return web.json_response({"method": request.method, "path": request.path_qs,
                                  "auth": request.headers.get("Authorization")})

    async def slow(request: web.Request) -> web.Response:
        peers.add(request.transport.get_extra_info("peername"))
        await asyncio.sleep(float(request.query.get("seconds", "0.2")))
        return web.json_response([])

    async def closing(request: web.Request) -> web.Response:
        peers.add(request.transport.get_extra_info("peername"))
        return web.Response(text="bye", headers={"Connection": "close"})

    async def chunked(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        response.enable_chunked_encoding()
        await response.prepare(request)
        for part in (b'[{"text": "en', b"si", b'mm\\u00e4inen"}]'):
            await response.write(part)
        await response.write_eof()
        return response

    app = web.Application()
    app.router.add_route("*", "/echo", echo)
    app.router.add_get("/slow", slow)
    app.router.add_get("/closing", closing)
    app.router.add_get("/chunked", chunked)
    return app


@pytest.fixture
async def server() -> AsyncIterator[Tuple[str, Set[Tuple[str, int]], List[bytes]]]:
    peers: Set[Tuple[str, int]] = set()
    bodies: List[bytes] = []
    test_server = TestServer(recording_app(peers, bodies))
    await test_server.start_server()
    yield str(test_server.make_url("")).rstrip("/"), peers, bodies
    await test_server.close()


@pytest.fixture
async def client() -> AsyncIterator[HttpClient]:
    http = HttpClient()
    yield http
    await http.close()


async def test_requests_one_after_another_share_one_connection(server, client) -> None:
    base, peers, bodies = server
    for n in range(5):
        response = await client.request("POST", base, f"/echo?n={n}", {"Authorization": "Bearer t", **JSON},
                                        b'{"a": 1}', 5)
        assert response.status == 200
        assert response.body == f'{{"method": "POST", "path": "/echo?n={n}", "auth": "Bearer t"}}'.encode()
    assert len(peers) == 1
    assert bodies == [b'{"a": 1}'] * 5
    assert client.open_connections() == 1


async def test_requests_at_the_same_time_get_a_connection_each_and_then_reuse_them(server, client) -> None:
    base, peers, _ = server
    answers = await asyncio.gather(*(client.request("GET", base, "/slow?seconds=0.2", {}, None, 5) for _ in range(3)))
    assert [answer.body for answer in answers] == [b"[]"] * 3
    assert len(peers) == 3
    await asyncio.gather(*(client.request("GET", base, "/slow?seconds=0.1", {}, None, 5) for _ in range(3)))
    assert len(peers) == 3  # the three idle connections were used again
    assert client.open_connections() == 3


async def test_a_limit_queues_requests_beyond_it(server) -> None:
    base, peers, _ = server
    http = HttpClient(limit=2)
    try:
        await asyncio.gather(*(http.request("GET", base, "/slow?seconds=0.1", {}, None, 5) for _ in range(5)))
    finally:
        await http.close()
    assert len(peers) == 2


async def test_an_answer_with_connection_close_is_not_reused(server, client) -> None:
    base, peers, _ = server
    assert (await client.request("GET", base, "/closing", {}, None, 5)).body == b"bye"
    assert (await client.request("GET", base, "/closing", {}, None, 5)).body == b"bye"
    assert len(peers) == 2
    assert client.open_connections() == 0


async def test_a_chunked_answer_is_read_whole(server, client) -> None:
    base, _, _ = server
    response = await client.request("GET", base, "/chunked", {}, None, 5)
    assert response.body == b'[{"text": "ensimm\\u00e4inen"}]'


async def test_a_connection_idle_for_too_long_is_not_reused(server) -> None:
    base, peers, _ = server
    http = HttpClient(idle_seconds=0.05)
    try:
        await http.request("GET", base, "/echo", {}, None, 5)
        await asyncio.sleep(0.1)
        await http.request("GET", base, "/echo", {}, None, 5)
    finally:
        await http.close()
    assert len(peers) == 2


Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@contextlib.asynccontextmanager
async def raw_server(handle: Handler) -> AsyncIterator[str]:
    """A TCP server on a free local port that talks to each connection with ``handle``; its base URL."""
    listening = await asyncio.start_server(handle, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{listening.sockets[0].getsockname()[1]}"
    finally:
        listening.close()


async def read_request(reader: asyncio.StreamReader) -> bytes:
    return await reader.readuntil(b"\r\n\r\n")


async def test_a_reused_connection_the_server_closes_unanswered_is_replaced_once(client) -> None:
    """The server drops a kept-alive connection just as the next request arrives on it (its keep-alive
    time ran out in that instant): the request is sent again on a new connection, once."""
    requests: List[bytes] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        requests.append(await read_request(reader))
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        await writer.drain()
        requests.append(await read_request(reader))
        writer.close()  # the second request on a connection is dropped unanswered

    async with raw_server(handle) as base:
        assert (await client.request("GET", base, "/a", {}, None, 5)).body == b"ok"
        assert (await client.request("GET", base, "/b", {}, None, 5)).body == b"ok"
    assert [request.split(b" ")[1] for request in requests][:3] == [b"/a", b"/b", b"/b"]


async def test_a_timeout_closes_the_connection_and_the_next_request_gets_a_new_one(server, client) -> None:
    base, peers, _ = server
    with pytest.raises(asyncio.TimeoutError):
        await client.request("GET", base, "/slow?seconds=2", {}, None, 0.2)
    assert client.open_connections() == 0
    assert (await client.request("GET", base, "/echo", {}, None, 5)).status == 200
    assert len(peers) == 2


async def test_nothing_listening_is_connect_failed(client) -> None:
    with pytest.raises(ConnectFailed):
        await client.request("GET", f"http://127.0.0.1:{free_port()}", "/", {}, None, 5)


def answering(answer: bytes, then_close: bool) -> Handler:
    """A server's side that reads a request, writes ``answer`` and closes the connection if told to."""
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(answer)
        await writer.drain()
        if then_close:
            writer.close()

    return handle


@pytest.mark.parametrize("answer", [b"", b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort"])
async def test_a_server_closing_before_its_answer_is_complete_is_disconnected(client, answer: bytes) -> None:
    async with raw_server(answering(answer, then_close=True)) as base:
        with pytest.raises(Disconnected):
            await client.request("GET", base, "/", {}, None, 5)
    assert client.open_connections() == 0


async def test_an_answer_that_is_not_http_is_a_protocol_error(client) -> None:
    async with raw_server(answering(b"SSH-2.0-OpenSSH_9.2\r\n\r\n", then_close=False)) as base:
        with pytest.raises(ProtocolError):
            await client.request("GET", base, "/", {}, None, 5)
    assert client.open_connections() == 0


@pytest.mark.parametrize("method, target, headers", [
    ("GET", "/a\r\nX-Injected: 1", {}),
    ("GET", "/a b", {}),
    ("GET", "/ä", {}),
    ("GET\r\n", "/", {}),
    ("GET", "/", {"X-Value": "a\r\nX-Injected: 1"}),
    ("GET", "/", {"X Name": "a"}),
])
async def test_nothing_passed_in_can_add_a_header(server, client, method: str, target: str, headers) -> None:
    base, peers, _ = server
    with pytest.raises(ValueError):
        await client.request(method, base, target, headers, None, 5)
    assert not peers


@pytest.mark.parametrize("url", ["ftp://rasa:21", "http://rasa:5005/api", "http://user@rasa:5005", "rasa:5005"])
async def test_a_base_url_is_scheme_host_and_port(client, url: str) -> None:
    with pytest.raises(ValueError):
        await client.request("GET", url, "/", {}, None, 5)


async def test_https_with_a_trusted_certificate(tmp_path: Path) -> None:
    key, certificate = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key),
                    "-out", str(certificate), "-days", "1", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost"], check=True, capture_output=True)
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(str(certificate), str(key))
    peers: Set[Tuple[str, int]] = set()
    runner = web.AppRunner(recording_app(peers, []))
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "localhost", port, ssl_context=server_context).start()
    trusting = HttpClient(ssl_context=ssl.create_default_context(cafile=str(certificate)))
    untrusting = HttpClient()
    try:
        response = await trusting.request("GET", f"https://localhost:{port}", "/echo", {}, None, 5)
        assert response.status == 200 and b'"path": "/echo"' in response.body
        with pytest.raises(ConnectFailed):  # a certificate nobody vouches for
            await untrusting.request("GET", f"https://localhost:{port}", "/echo", {}, None, 5)
    finally:
        await trusting.close()
        await untrusting.close()
        await runner.cleanup()


async def test_connections_idle_too_long_are_let_go_when_another_is_given_back(server) -> None:
    """Only the most recently used connection is taken again; older idle ones are closed once they are
    too old, not kept open for good."""
    base, _, _ = server
    http = HttpClient(idle_seconds=0.2)
    try:
        await asyncio.gather(*(http.request("GET", base, "/slow?seconds=0.05", {}, None, 5) for _ in range(2)))
        assert http.open_connections() == 2
        for _ in range(3):  # one request at a time: always the same connection
            await asyncio.sleep(0.08)
            await http.request("GET", base, "/echo", {}, None, 5)
        assert http.open_connections() == 1  # the other one was idle too long and was closed
    finally:
        await http.close()


async def test_waiting_for_a_free_connection_counts_against_the_timeout(server) -> None:
    base, _, _ = server
    http = HttpClient(limit=1)
    try:
        slow = asyncio.ensure_future(http.request("GET", base, "/slow?seconds=1", {}, None, 5))
        await asyncio.sleep(0.05)
        with pytest.raises(asyncio.TimeoutError):  # the only slot is taken for a second
            await http.request("GET", base, "/echo", {}, None, 0.2)
        assert (await slow).status == 200
    finally:
        await http.close()
