"""Who is on the other end: the client address of an HTTP request or a Socket.IO connection.

The address is the socket peer. Only when that peer is a proxy listed in LIVEAGENT_TRUSTED_PROXIES
is X-Forwarded-For read, from the right: each trusted proxy vouches for the entry it appended, so
the first entry that is not a trusted proxy is the client. Anything further left was written by the
client itself and is never believed. With no trusted proxies the header is ignored entirely.
"""

from __future__ import annotations

import functools
import ipaddress
from typing import Any, Iterable, Mapping, Optional, Tuple, Union

IPAddress = Union[ipaddress.IPv4Address, ipaddress.IPv6Address]
Network = Union[ipaddress.IPv4Network, ipaddress.IPv6Network]
UNKNOWN = "unknown"


@functools.lru_cache(maxsize=16)
def _networks(trusted: Tuple[str, ...]) -> Tuple[Network, ...]:
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in trusted)


def parse(value: Optional[str]) -> Optional[IPAddress]:
    """An address from a peer or a forwarded-for entry ("203.0.113.9", "[2001:db8::1]:443"), or None."""
    if not value:
        return None
    value = value.strip()
    if value.startswith("[") and "]" in value:  # [v6]:port
        value = value[1:value.index("]")]
    elif value.count(":") == 1:  # v4:port
        value = value.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def client_address(peer: Optional[str], forwarded_for: Iterable[str], trusted: Tuple[str, ...]) -> str:
    """The client's address, as text; ``forwarded_for`` are the X-Forwarded-For header values in order."""
    address = parse(peer)
    if address is None:
        return UNKNOWN
    networks = _networks(tuple(trusted))
    entries = [entry for header in forwarded_for for entry in header.split(",")]
    while entries and any(address in network for network in networks):
        forwarded = parse(entries.pop())
        if forwarded is None:
            break  # a trusted proxy wrote something that is not an address: stop at the proxy
        address = forwarded
    return str(address)


def request_address(request: Any) -> str:
    """The client address of a Sanic request (HTTP or websocket)."""
    trusted = request.app.ctx.settings.trusted_proxies
    forwarded = request.headers.getall("x-forwarded-for", []) if trusted else []
    return client_address(request.ip, forwarded, trusted)


def environ_address(environ: Mapping[str, Any], trusted: Tuple[str, ...]) -> str:
    """The client address of a Socket.IO connection (python-engineio's WSGI-like environ)."""
    request = environ.get("sanic.request")
    if request is not None:
        forwarded = request.headers.getall("x-forwarded-for", []) if trusted else []
        return client_address(request.ip, forwarded, trusted)
    forwarded = [environ["HTTP_X_FORWARDED_FOR"]] if trusted and environ.get("HTTP_X_FORWARDED_FOR") else []
    return client_address(environ.get("REMOTE_ADDR"), forwarded, trusted)


def limit_key(address: str) -> str:
    """What a per-address limit counts: the address, or its /64 for IPv6 (one subscriber's block)."""
    parsed = parse(address)
    if isinstance(parsed, ipaddress.IPv6Address):
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return address
