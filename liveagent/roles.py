"""Who may use what: one table of rights per role, and the declaration every route makes.

Every HTTP route and websocket of the app says what it needs, with ``requires(right)``,
``requires(right, chat=...)``, ``socket_requires(right)``, ``bearer_token(setting, reason)`` (machines:
the operators' metrics) or ``public(reason)``. The declaration is
recorded on the handler (``access_of`` reads it back from the router), and ``check_declared`` refuses
to build an app with a route that made no decision; tests/security/test_roles.py calls every route
as every kind of caller and compares the answers with the table below.

Rights of a role (``RIGHTS``)::

    agent       session, handle_chats
    supervisor  session, handle_chats, supervise, edit_content
    editor      session, edit_content

Conversations (``Chat``): agents see the queue and the conversations they hold or held (the
conversation's assignment events say who); a conversation waiting in the queue may be previewed and
claimed by every agent, and one in which a visitor left a contact request read by every agent
(contact requests are every agent's work, and the console links each to its conversation).
Supervisors see every conversation. Only the holder acts on a conversation: the state machine
(liveagent/conversations.py) refuses anybody else, supervisors too; a supervisor may only move a chat
to another agent (``Chat.MOVE``, the floor view).
"""

from __future__ import annotations

import enum
import functools
from dataclasses import dataclass
from typing import Any, Callable, Dict, FrozenSet, Mapping, Optional

from sanic import Request, Sanic
from sanic.response import HTTPResponse

from liveagent.auth import error, load_session, requires_agent
from liveagent.hub import SESSION_ENDED
from liveagent.store.state import ConversationState


class Right(str, enum.Enum):
    SESSION = "session"  # signed in with any role: who am I, log out
    HANDLE_CHATS = "handle_chats"  # queue, own chats, presence, contact requests, canned replies, the agent socket
    SUPERVISE = "supervise"  # every conversation, canned reply editing, the audit log, erasure
    EDIT_CONTENT = "edit_content"  # the content editor (/api/editor: personal data masked)


R = Right
RIGHTS: Mapping[str, FrozenSet[Right]] = {
    "agent": frozenset({R.SESSION, R.HANDLE_CHATS}),
    "supervisor": frozenset({R.SESSION, R.HANDLE_CHATS, R.SUPERVISE, R.EDIT_CONTENT}),
    "editor": frozenset({R.SESSION, R.EDIT_CONTENT}),
}

# The error code (liveagent/copy_fi.yml) of a 403 for a missing right.
REFUSALS: Mapping[Right, str] = {
    R.SESSION: "not_logged_in",
    R.HANDLE_CHATS: "agents_only",
    R.SUPERVISE: "supervisor_required",
    R.EDIT_CONTENT: "editor_only",
}
CHAT_REFUSAL = "not_your_conversation"


class Chat(str, enum.Enum):
    """What a route does to the conversation named in its path (``<conversation_id>``)."""

    SEE = "see"  # transcript, read marks: held now or before, waiting in the queue (a preview), or a contact request's
    CLAIM = "claim"  # waiting (or already assigned: the state machine answers 409), or held before
    ACT = "act"  # reply, note, transfer, return, close: held now or before (the state machine checks "now")
    MOVE = "move"  # a supervisor moves it to another agent (with SUPERVISE: any conversation that exists)


@dataclass(frozen=True)
class Access:
    """A route's declaration: the right it needs (None: public, with the reason why)."""

    right: Optional[Right]
    chat: Optional[Chat] = None
    reason: str = ""
    socket: bool = False
    token: str = ""  # no session: the setting whose bearer token the handler checks (bearer_token)


ATTRIBUTE = "__lumo_access__"


def rights_of(agent: Any) -> FrozenSet[Right]:
    """An unknown role has no rights (the database constrains roles; this fails closed anyway)."""
    return RIGHTS.get(getattr(agent, "role", None), frozenset())


def may(agent: Any, right: Right) -> bool:
    return right in rights_of(agent)


def _declare(handler: Callable, access: Access) -> Callable:
    setattr(handler, ATTRIBUTE, access)
    return handler


def public(reason: str) -> Callable[[Callable], Callable]:
    """A route anybody may call, no session needed; ``reason`` says why that is safe."""
    if not reason.strip():
        raise ValueError("a public route states why it is public")

    def decorate(handler: Callable) -> Callable:
        return _declare(handler, Access(None, reason=reason))

    return decorate


def bearer_token(setting: str, reason: str) -> Callable[[Callable], Callable]:
    """A route for a machine, not a signed-in person: the handler answers only a request carrying
    ``Authorization: Bearer`` with the value of the setting ``setting`` (and 401 to everybody when it is
    unset). Sessions give no access to it, whatever the role."""
    if not setting.strip() or not reason.strip():
        raise ValueError("a bearer-token route names its setting and says why it is not a session's")

    def decorate(handler: Callable) -> Callable:
        return _declare(handler, Access(None, reason=reason, token=setting))

    return decorate


def requires(right: Right, chat: Optional[Chat] = None) -> Callable[[Callable], Callable]:
    """A signed-in caller (CSRF-checked for changes, liveagent/auth.py) whose role holds ``right``;
    with ``chat``, also access to the conversation ``<conversation_id>`` of the path."""

    def decorate(handler: Callable) -> Callable:
        @functools.wraps(handler)
        async def check(request: Request, *args: Any, **kwargs: Any) -> HTTPResponse:
            agent = request.ctx.agent
            if right not in rights_of(agent):
                return error(403, REFUSALS[right])
            if chat is not None:
                refused = await chat_refusal(request, agent, chat, kwargs["conversation_id"])
                if refused is not None:
                    return refused
            return await handler(request, *args, **kwargs)

        return _declare(requires_agent(check), Access(right, chat))

    return decorate


async def chat_refusal(request: Request, agent: Any, chat: Chat, conversation_id: str) -> Optional[HTTPResponse]:
    """404 for a conversation that does not exist, 403 for one this agent may not ``chat``; else None."""
    store = request.app.ctx.store
    conversation = await store.conversations.find(conversation_id)
    if conversation is None:
        return error(404, "not_found")
    request.ctx.conversation = conversation  # the handler acts on this row (read once per request)
    if may(agent, R.SUPERVISE):
        return None
    if chat is Chat.MOVE:  # only supervisors move chats between agents (their route requires it anyway)
        return error(403, CHAT_REFUSAL)
    state = conversation.state
    if chat is Chat.SEE and state == ConversationState.WAITING.value:
        return None
    # Claiming an assigned conversation: the state machine answers 409 "already_claimed" (two agents
    # clicked at once; both had it in their queue), never with its content.
    if chat is Chat.CLAIM and state in (ConversationState.WAITING.value, ConversationState.ASSIGNED.value):
        return None
    if await store.conversations.ever_held(conversation_id, agent.id):
        return None
    if chat is Chat.SEE and await store.tickets.about(conversation_id):
        return None
    return error(403, CHAT_REFUSAL)


def socket_requires(right: Right) -> Callable[[Callable], Callable]:
    """A websocket for signed-in callers whose role holds ``right``, opened from a page of
    ``LIVEAGENT_CONSOLE_ORIGINS`` (not the widget's websites). Refusals close the socket:
    4403 for a foreign origin or a missing right, 4401 without a session. The handler gets
    ``request.ctx.agent``."""

    def decorate(handler: Callable) -> Callable:
        @functools.wraps(handler)
        async def check(request: Request, ws: Any, *args: Any, **kwargs: Any) -> None:
            origin = request.headers.get("origin")
            # Browsers always send Origin on websockets; a missing one is a non-browser client with the cookie.
            if origin is not None and origin not in request.app.ctx.settings.console_origins:
                await ws.close(code=4403, reason="origin not allowed")
                return
            session = await load_session(request)  # the session record, not only the cookie
            agent = await request.app.ctx.store.agents.get(session["agent_id"]) if session else None
            if agent is None:
                await ws.close(code=SESSION_ENDED, reason="not logged in")
                return
            if right not in rights_of(agent):
                await ws.close(code=4403, reason="role not allowed")
                return
            request.ctx.agent = agent
            await handler(request, ws, *args, **kwargs)

        return _declare(check, Access(right, socket=True))

    return decorate


def declare_public(app: Sanic, path: str, reason: str) -> None:
    """A route the app gets from a library (Socket.IO, static files): declared by its router path."""
    if not hasattr(app.ctx, "route_access"):
        app.ctx.route_access = {}
    app.ctx.route_access[path] = Access(None, reason=reason)


def access_of(app: Sanic, route: Any) -> Optional[Access]:
    """The declaration of a router entry, or None when the route made no decision."""
    handler = route.handler
    candidates = [handler]
    if isinstance(handler, functools.partial):  # Sanic wraps websocket handlers in a partial
        candidates += [handler.func, *handler.args]
    for candidate in candidates:
        access = getattr(candidate, ATTRIBUTE, None)
        if isinstance(access, Access):
            return access
    return getattr(app.ctx, "route_access", {}).get(route.path)


def undeclared(app: Sanic) -> Dict[str, str]:
    """Routes without a usable declaration: path -> what is wrong."""
    found = {}
    for route in app.router.routes:
        access = access_of(app, route)
        if access is None:
            found[f"/{route.path}"] = f"{route.name} declares nobody"
        elif access.chat is not None and "<conversation_id" not in route.path:
            found[f"/{route.path}"] = f"{route.name} declares a conversation check without <conversation_id>"
        elif access.socket != bool(route.ctx.websocket):
            found[f"/{route.path}"] = f"{route.name}: socket_requires is for websockets, requires for HTTP"
    return found


def check_declared(app: Sanic) -> None:
    """Every route decided who may use it, or the app is not built (liveagent/app.py calls this)."""
    missing = undeclared(app)
    if missing:
        listed = "; ".join(f"{path}: {what}" for path, what in sorted(missing.items()))
        raise RuntimeError(f"routes without a valid access declaration (liveagent/roles.py): {listed}")
