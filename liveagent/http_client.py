"""A keep-alive HTTP/1.1 client for the service's calls to Rasa's API, on asyncio and httptools.

Every visitor message the bot answers is one POST to Rasa, so this client is on the path of every
answer. aiohttp (3.9, which Rasa 3.6 pins) spent 400-600 µs of CPU per such call (measured against
the same local server: this client ~100 µs), about a tenth of the service's CPU per visitor message
(bench/REPORT.md, Load), and it wrote each request's headers and body in two system calls, each
waking Rasa. Here a request is one write, and the response is parsed by httptools (the C parser,
llhttp, that Sanic itself uses; pinned in requirements.txt).

What it does, and no more, because Rasa's HTTP API needs no more:
- one pool of keep-alive connections per origin (``http://`` or ``https://`` host and port): an
  idle connection is reused, others are opened while all are busy (at most ``limit`` requests at a
  time per client; more wait their turn). A connection idle for longer than ``idle_seconds`` is
  closed rather than reused: servers close idle connections themselves (Sanic after 5 s), and one
  closing just as a request is written would fail that request.
- JSON request bodies (the caller's bytes), responses with Content-Length or chunked bodies;
- a total timeout per request, connecting included; the connection of a request that timed out or
  failed is closed, never reused.

Errors say whether the request reached the server: `ConnectFailed` (nothing was sent: another
replica can take it) and `Disconnected` (the server closed the connection before answering) are
what RasaClient fails over on; `ProtocolError` (not HTTP) and `asyncio.TimeoutError` are not.
A reused connection that the server had closed before the request reached it (no byte of an answer)
is retried once on a new connection, as browsers do.
"""

from __future__ import annotations

import asyncio
import re
import ssl
import time
from dataclasses import dataclass
from typing import Dict, List, Mapping, Optional, Tuple
from urllib.parse import urlsplit

import async_timeout
import httptools


class HttpError(OSError):
    """The request did not get a complete HTTP answer."""


class ConnectFailed(HttpError):
    """No connection to the server (refused, unreachable, name unknown, TLS handshake failed)."""


class Disconnected(HttpError):
    """The server closed the connection before its answer was complete."""


class ProtocolError(HttpError):
    """The server's answer was not valid HTTP/1.1."""


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes


# A request target of printable ASCII without spaces: nothing a caller passes can add a header.
_TARGET = re.compile(r"/[!-~]*")
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_VALUE = re.compile(r"[\t -~]*")


@dataclass(frozen=True)
class Origin:
    scheme: str
    host: str
    port: int

    @classmethod
    def of(cls, url: str) -> "Origin":
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http:// or https:// URL: {url!r}")
        if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
            raise ValueError(f"a base URL is scheme, host and port only: {url!r}")
        return cls(parts.scheme, parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return host if self.port == default else f"{host}:{self.port}"


class _Connection(asyncio.Protocol):
    """One TCP connection: writes a request, parses its answer with httptools."""

    def __init__(self) -> None:
        self.transport: Optional[asyncio.Transport] = None
        self._parser = httptools.HttpResponseParser(self)
        self._answer: Optional[asyncio.Future] = None
        self._body: List[bytes] = []
        self._received = False  # any byte of the current answer
        self.closed = False
        self.idle_since = 0.0

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        if self._answer is None:  # nothing asked: a server must not talk first
            self.close()
            return
        self._received = True
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as error:
            self._fail(ProtocolError(f"invalid HTTP answer: {error}"))

    def connection_lost(self, exc: Optional[Exception]) -> None:
        self.closed = True
        self._fail(Disconnected("the server closed the connection before answering"))

    # httptools callbacks
    def on_body(self, body: bytes) -> None:
        self._body.append(body)

    def on_message_complete(self) -> None:
        answer, self._answer = self._answer, None
        body, self._body = b"".join(self._body), []
        if not self._parser.should_keep_alive():
            self.close()
        if answer is not None and not answer.done():
            answer.set_result(Response(self._parser.get_status_code(), body))

    # the pool's side
    def request(self, data: bytes) -> asyncio.Future:
        assert self._answer is None and self.transport is not None, "one request at a time per connection"
        self._received = False
        self._answer = asyncio.get_running_loop().create_future()
        self.transport.write(data)
        return self._answer

    @property
    def answered_nothing(self) -> bool:
        return not self._received

    def _fail(self, error: HttpError) -> None:
        answer, self._answer = self._answer, None
        self._body = []
        if answer is not None and not answer.done():
            answer.set_exception(error)
        self.close()

    def close(self) -> None:
        self.closed = True
        if self.transport is not None and not self.transport.is_closing():
            self.transport.close()


class HttpClient:
    """Keep-alive connections per origin; ``request`` sends one request and returns its `Response`."""

    def __init__(self, limit: int = 100, idle_seconds: float = 3.0,
                 ssl_context: Optional[ssl.SSLContext] = None) -> None:
        self._idle: Dict[Origin, List[_Connection]] = {}
        self._busy: set = set()
        self._slots = asyncio.Semaphore(limit)
        self._idle_seconds = idle_seconds
        self._ssl_context = ssl_context
        self._origins: Dict[str, Origin] = {}
        self._closed = False

    async def request(self, method: str, base_url: str, target: str, headers: Mapping[str, str],
                      body: Optional[bytes], timeout: float) -> Response:
        """``method`` ``target`` (a path with its query, already quoted) at ``base_url``, with ``headers``
        and ``body`` (sent with Content-Length); the whole exchange within ``timeout`` seconds."""
        if self._closed:
            raise RuntimeError("HttpClient is closed")
        origin = self._origins.get(base_url) or self._origins.setdefault(base_url, Origin.of(base_url))
        data = _encode(method, origin, target, headers, body)
        async with async_timeout.timeout(timeout), self._slots:  # waiting for a slot counts too
            connection, reused = await self._connection(origin)
            try:
                response = await self._exchange(connection, data)
            except Disconnected:
                if not (reused and connection.answered_nothing):
                    raise
                connection, reused = await self._connection(origin, fresh=True)  # closed while idle: once more
                response = await self._exchange(connection, data)
            self._release(origin, connection)
            return response

    async def _exchange(self, connection: _Connection, data: bytes) -> Response:
        self._busy.add(connection)
        try:
            return await connection.request(data)
        except BaseException:  # timed out, cancelled or failed: its state is unknown, never reused
            connection.close()
            raise
        finally:
            self._busy.discard(connection)

    async def _connection(self, origin: Origin, fresh: bool = False) -> Tuple[_Connection, bool]:
        idle = self._idle.get(origin)
        now = time.monotonic()
        while idle and not fresh:
            connection = idle.pop()  # the most recently used
            if not connection.closed and now - connection.idle_since < self._idle_seconds:
                return connection, True
            connection.close()
        loop = asyncio.get_running_loop()
        secure = origin.scheme == "https"
        if secure and self._ssl_context is None:
            self._ssl_context = ssl.create_default_context()
        try:
            _, connection = await loop.create_connection(
                _Connection, origin.host, origin.port, ssl=self._ssl_context if secure else None)
        except (OSError, ssl.SSLError) as error:  # refused, unreachable, unknown host, bad certificate
            raise ConnectFailed(f"cannot connect to {origin.host_header}: {type(error).__name__}") from error
        return connection, False

    def _release(self, origin: Origin, connection: _Connection) -> None:
        if connection.closed or self._closed:
            connection.close()
            return
        now = connection.idle_since = time.monotonic()
        pool = self._idle.setdefault(origin, [])
        # The least recently used come first: those the server closed, or idle too long, are let go.
        while pool and (pool[0].closed or now - pool[0].idle_since >= self._idle_seconds):
            pool.pop(0).close()
        pool.append(connection)

    def open_connections(self) -> int:
        """Connections open now, idle or busy (for tests and diagnostics)."""
        idle = sum(1 for pool in self._idle.values() for connection in pool if not connection.closed)
        return idle + len(self._busy)

    async def close(self) -> None:
        """Closes idle connections now; busy ones close when their request ends."""
        self._closed = True
        for pool in self._idle.values():
            for connection in pool:
                connection.close()
        self._idle.clear()


def _encode(method: str, origin: Origin, target: str, headers: Mapping[str, str], body: Optional[bytes]) -> bytes:
    if not _TOKEN.fullmatch(method) or not _TARGET.fullmatch(target):
        raise ValueError(f"not a request line: {method!r} {target!r}")
    lines = [f"{method} {target} HTTP/1.1", f"Host: {origin.host_header}"]
    for name, value in headers.items():
        if not _TOKEN.fullmatch(name) or not _VALUE.fullmatch(value):
            raise ValueError(f"not a header: {name!r}")
        lines.append(f"{name}: {value}")
    if body is not None:
        lines.append(f"Content-Length: {len(body)}")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("ascii")
    return head + body if body else head
