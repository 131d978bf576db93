"""Agent sessions: a signed, HTTP-only cookie plus a CSRF token for every state-changing request."""

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
SESSION_HOURS = 10


def error(status: int, code: str) -> HTTPResponse:
    return json({"error": code, "message": copy.text(f"errors.{code}")}, status=status)


def issue_session(secret: str, agent_id: int) -> Dict[str, str]:
    csrf = secrets.token_urlsafe(24)
    now = dt.datetime.now(dt.timezone.utc)
    cookie = jwt.encode(
        {"agent_id": agent_id, "csrf": csrf, "iat": now, "exp": now + dt.timedelta(hours=SESSION_HOURS)},
        secret, algorithm="HS256",
    )
    return {"cookie": cookie, "csrf": csrf}


def read_session(request: Request) -> Optional[Dict[str, Any]]:
    raw = request.cookies.get(COOKIE)
    if not raw:
        return None
    try:
        return jwt.decode(raw, request.app.ctx.settings.session_secret, algorithms=["HS256"],
                          options={"require": ["exp", "agent_id", "csrf"]})
    except jwt.PyJWTError:
        return None


def set_cookie(response: HTTPResponse, request: Request, value: str) -> None:
    response.cookies[COOKIE] = value
    cookie = response.cookies[COOKIE]
    cookie["httponly"] = True
    cookie["samesite"] = "Strict"
    cookie["path"] = "/"
    cookie["max-age"] = SESSION_HOURS * 3600
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
        agent = await request.app.ctx.store.get_agent(int(session["agent_id"]))
        if agent is None:
            return error(401, "not_logged_in")
        request.ctx.agent = agent
        request.ctx.csrf = session["csrf"]
        return await handler(request, *args, **kwargs)

    return wrapper


def requires_supervisor(handler: Callable) -> Callable:
    """Like requires_agent, and the agent must be a supervisor."""

    @wraps(handler)
    async def check_role(request: Request, *args: Any, **kwargs: Any) -> HTTPResponse:
        if request.ctx.agent.role != "supervisor":
            return error(403, "supervisor_only")
        return await handler(request, *args, **kwargs)

    return requires_agent(check_role)


EDITOR_ROLES = ("editor", "supervisor")


def requires_editor(handler: Callable) -> Callable:
    """Like requires_agent, and the agent may change content (editor or supervisor)."""

    @wraps(handler)
    async def check_role(request: Request, *args: Any, **kwargs: Any) -> HTTPResponse:
        if request.ctx.agent.role not in EDITOR_ROLES:
            return error(403, "editor_only")
        return await handler(request, *args, **kwargs)

    return requires_agent(check_role)
