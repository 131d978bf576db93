"""Agent sessions: a signed, HTTP-only cookie plus a CSRF token for every state-changing request.

The cookie names a session recorded in the database (``Store.sessions``), checked on every request
and socket message, so a session ends when the service says so, not only when the cookie expires.
"""

from __future__ import annotations

import datetime as dt
import secrets
from functools import wraps
from typing import Any, Callable, Dict, Optional

import jwt
from sanic import Request
from sanic.response import HTTPResponse, json

from liveagent import copy

COOKIE = "lumo_agent"


def error(status: int, code: str) -> HTTPResponse:
    return json({"error": code, "message": copy.text(f"errors.{code}")}, status=status)


def issue_session(secret: str, agent_id: int, session_id: str, lifetime: dt.timedelta) -> Dict[str, str]:
    """The cookie of a session that ``start_session`` recorded, and its CSRF token."""
    csrf = secrets.token_urlsafe(24)
    now = dt.datetime.now(dt.timezone.utc)
    cookie = jwt.encode(
        {"agent_id": agent_id, "sid": session_id, "csrf": csrf, "iat": now, "exp": now + lifetime},
        secret, algorithm="HS256",
    )
    return {"cookie": cookie, "csrf": csrf}


def read_session(request: Request) -> Optional[Dict[str, Any]]:
    """The request's live session (claims ``agent_id``, ``sid``, ``csrf``), as ``load_session`` found it.

    None without a cookie, for a forged or expired one, and for a session that has ended
    (logout, password or role change, deactivation, idle timeout, absolute lifetime).
    """
    return getattr(request.ctx, "session", None)


async def load_session(request: Request) -> Optional[Dict[str, Any]]:
    """Request middleware (and the agent socket): checks the cookie against its session record.

    Runs once per request, before any route; ``read_session`` then answers from what it found.
    Every use marks the session used (for the idle timeout), written at most once per ``touch_after``.
    """
    if getattr(request.ctx, "session_loaded", False):
        return read_session(request)
    request.ctx.session_loaded = True
    request.ctx.session = None
    raw = request.cookies.get(COOKIE)
    if not raw or not request.path.startswith("/api/"):
        return None
    settings = request.app.ctx.settings
    try:
        claims = jwt.decode(raw, settings.session_secret, algorithms=["HS256"],
                            options={"require": ["exp", "agent_id", "sid", "csrf"]})
    except jwt.PyJWTError:
        return None
    if not isinstance(claims["sid"], str) or not isinstance(claims["agent_id"], int):
        return None
    idle = session_idle(settings)
    if not await request.app.ctx.store.sessions.check(claims["sid"], claims["agent_id"], idle, touch_after(idle)):
        return None
    request.ctx.session = claims
    return claims


async def session_middleware(request: Request) -> None:
    """Registered by create_app: ``load_session`` before every route (returns nothing, as Sanic wants)."""
    await load_session(request)


def session_idle(settings: Any) -> dt.timedelta:
    return dt.timedelta(minutes=settings.session_idle_minutes)


def touch_after(idle: dt.timedelta) -> dt.timedelta:
    """How often a session in use is written down as used: a write per request would be wasted."""
    return min(dt.timedelta(minutes=1), idle / 4)


async def start_session(request: Request, agent_id: int) -> Dict[str, str]:
    """Records a new session of the agent; its cookie and CSRF token."""
    settings = request.app.ctx.settings
    lifetime = dt.timedelta(hours=settings.session_max_hours)
    session_id = await request.app.ctx.store.sessions.start(agent_id, lifetime)
    return issue_session(settings.session_secret, agent_id, session_id, lifetime)


async def end_sessions(app: Any, agent_id: int, reason: str) -> int:
    """Ends every session of the agent at once: HTTP at the next request, open sockets now (every replica)."""
    ended = await app.ctx.store.sessions.end_agent(agent_id, reason)
    app.ctx.hub.close_agent(agent_id)
    return ended


def set_cookie(response: HTTPResponse, request: Request, value: str) -> None:
    response.cookies[COOKIE] = value
    cookie = response.cookies[COOKIE]
    cookie["httponly"] = True
    cookie["samesite"] = "Strict"
    cookie["path"] = "/"
    cookie["max-age"] = int(request.app.ctx.settings.session_max_hours * 3600)
    if not (request.app.ctx.settings.demo and request.app.ctx.settings.insecure_cookies):
        cookie["secure"] = True


def requires_agent(handler: Callable) -> Callable:
    """Loads ``request.ctx.agent``; checks the CSRF header on every non-GET request."""

    @wraps(handler)
    async def wrapper(request: Request, *args: Any, **kwargs: Any) -> HTTPResponse:
        session = read_session(request)
        if session is None:
            return error(401, "not_logged_in")
        if request.method not in ("GET", "HEAD") and not secrets.compare_digest(
            request.headers.get("X-CSRF-Token", ""), session["csrf"]
        ):
            return error(403, "csrf")
        agent = await request.app.ctx.store.agents.get(int(session["agent_id"]))
        if agent is None:
            return error(401, "not_logged_in")
        request.ctx.agent = agent
        request.ctx.csrf = session["csrf"]
        return await handler(request, *args, **kwargs)

    return wrapper
