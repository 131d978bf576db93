"""Agent API: everything the console does (docs/agent-api.md)."""

from __future__ import annotations

import datetime as dt
import functools
import math
from typing import Any, Awaitable, Callable, Dict, Optional

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, empty, json

from liveagent import auditing
from liveagent.addresses import request_address
from liveagent.auth import end_sessions, error, set_cookie, start_session
from liveagent.blueprints import assist_api
from liveagent.roles import Chat, Right, public, requires, rights_of
from liveagent.store import Agent, CannedReply, Conversation, TransitionError
from liveagent.suggestions import edited
from liveagent.validation import row_id, storable

bp = Blueprint("agent_api", url_prefix="/api/agent")

PRESENCE = {"online", "away", "offline"}
TICKET_PAGE, MAX_TICKET_PAGE = 50, 100
MAX_CANNED_TITLE = 200  # the column's length
TRANSITION_STATUS = {"already_claimed": 409, "not_waiting": 409, "not_assigned": 409, "not_allowed": 409,
                     "not_yours": 403, "agent_not_online": 409, "at_capacity": 409, "agent_full": 409,
                     "not_movable": 409}


def agent_json(agent: Agent) -> Dict[str, Any]:
    return {"id": agent.id, "username": agent.username, "display_name": agent.display_name,
            "role": agent.role, "rights": sorted(right.value for right in rights_of(agent)),
            "presence": agent.presence, "capacity": agent.capacity}


def body(request: Request) -> Dict[str, Any]:
    data = request.json if request.body else None
    return data if isinstance(data, dict) else {}


def transition_error(exc: TransitionError) -> HTTPResponse:
    code = exc.code if exc.code in TRANSITION_STATUS else "not_allowed"
    if code == "not_allowed":
        return error(409, "not_waiting")
    return error(TRANSITION_STATUS[code], code)


def now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


async def _known_agent(request: Request, username: str) -> Any:
    """The agent with this username, for the audit log (None: the typed name is not recorded)."""
    return next((a for a in await request.app.ctx.store.agents.list() if a.username == username), None)


def _json_body(request: Request) -> bool:
    """A JSON body: a cross-site form or a ``text/plain`` fetch cannot send one without CORS' consent."""
    return (request.headers.get("content-type") or "").split(";")[0].strip().lower() == "application/json"


def _from_the_console(request: Request) -> bool:
    """The Origin, when a browser sends it, is one of the console's own (LIVEAGENT_CONSOLE_ORIGINS).

    Browsers send Origin with every POST from a page; scripts and tools send none and cannot carry
    another person's browser anyway. Without Origin, Sec-Fetch-Site (sent by current browsers)
    must not say the request comes from another site.
    """
    origin = request.headers.get("origin")
    if origin is not None:
        return origin.rstrip("/") in request.app.ctx.settings.console_origins
    return request.headers.get("sec-fetch-site", "same-origin") in ("same-origin", "none")


@bp.post("/login")
@public("creates the session: JSON only, from the console's origins, rate-limited, backoff per account")
async def login(request: Request) -> HTTPResponse:
    limits = request.app.ctx.limits
    address = request_address(request)
    if not await limits.allow("login", address):
        response = error(429, "too_many_requests")
        response.headers["Retry-After"] = str(limits.retry_after("login"))
        return response
    if not _json_body(request):
        return error(415, "json_required")
    if not _from_the_console(request):
        return error(403, "origin_not_allowed")
    try:
        data = body(request)
    except Exception:  # noqa: BLE001 - malformed JSON
        return error(400, "bad_request")
    username, password = data.get("username"), data.get("password")
    if not isinstance(username, str) or not isinstance(password, str) or not username or not password:
        return error(400, "bad_request")
    if len(username) > 64 or not storable(username) or not storable(password):
        return error(400, "bad_request")
    backoff = request.app.ctx.login_backoff
    wait = await backoff.wait(username, address, now())
    if wait is not None:  # the password is not even checked: a right guess must not get through
        await auditing.record(request, "login.delayed", detail={"seconds": math.ceil(wait.total_seconds())},
                              agent=await _known_agent(request, username))
        response = error(429, "login_delayed")
        response.headers["Retry-After"] = str(math.ceil(wait.total_seconds()))
        return response
    agent = await request.app.ctx.store.agents.verify_login(username, password)
    if agent is None:
        await backoff.failed(username, address, now())
        known = await _known_agent(request, username)
        await auditing.record(request, "login.failure", detail={"known_user": known is not None}, agent=known)
        return error(401, "invalid_credentials")
    await backoff.succeeded(username, address, now())
    await auditing.record(request, "login.success", agent=agent)
    session = await start_session(request, agent.id)
    response = json({"agent": agent_json(agent), "csrf_token": session["csrf"]})
    set_cookie(response, request, session["cookie"])
    return response


@bp.post("/logout")
@requires(Right.SESSION)
async def logout(request: Request) -> HTTPResponse:
    """Ends every session of the agent (other tabs and devices too) and closes their sockets."""
    await request.app.ctx.service.set_presence(request.ctx.agent, "offline")
    ended = await end_sessions(request.app, request.ctx.agent.id, "logout")
    await auditing.record(request, "logout", detail={"presence_before": request.ctx.agent.presence,
                                                     "sessions_ended": ended})
    response = empty()
    set_cookie(response, request, "")
    response.cookies["lumo_agent"]["max-age"] = 0
    return response


@bp.get("/me")
@requires(Right.SESSION)
async def me(request: Request) -> HTTPResponse:
    return json({"agent": agent_json(request.ctx.agent), "csrf_token": request.ctx.csrf})


@bp.put("/presence")
@requires(Right.HANDLE_CHATS)
async def presence(request: Request) -> HTTPResponse:
    value = body(request).get("presence")
    if value not in PRESENCE:
        return error(400, "bad_request")
    agent = await request.app.ctx.service.set_presence(request.ctx.agent, value)
    if request.ctx.agent.presence != value:
        await auditing.record(request, "presence", detail={"from": request.ctx.agent.presence, "to": value})
    return json(agent_json(agent))


@bp.get("/queue")
@requires(Right.HANDLE_CHATS)
async def queue(request: Request) -> HTTPResponse:
    waiting = await request.app.ctx.store.conversations.queue()
    return json({"conversations": await request.app.ctx.service.briefs(waiting)})


@bp.get("/conversations")
@requires(Right.HANDLE_CHATS)
async def mine(request: Request) -> HTTPResponse:
    service, agent = request.app.ctx.service, request.ctx.agent
    conversations = await request.app.ctx.store.conversations.assigned_to(agent.id)
    return json({"conversations": await service.briefs(conversations, agent.id)})


@bp.get("/conversations/<conversation_id:str>")
@requires(Right.HANDLE_CHATS, chat=Chat.SEE)
async def conversation(request: Request, conversation_id: str) -> HTTPResponse:
    store, service = request.app.ctx.store, request.app.ctx.service
    messages = await store.messages.after(conversation_id, 0, visible_to="agent")
    return json({"conversation": await service.brief(request.ctx.conversation, request.ctx.agent.id),
                 "messages": [await service.message_json(m) for m in messages]})


def refusals_answered(handler: Callable[..., Awaitable[HTTPResponse]]) -> Callable[..., Awaitable[HTTPResponse]]:
    """A refused transition (``TransitionError``) becomes its HTTP status (``TRANSITION_STATUS``)."""

    @functools.wraps(handler)
    async def answer(request: Request, *args: Any, **kwargs: Any) -> HTTPResponse:
        try:
            return await handler(request, *args, **kwargs)
        except TransitionError as exc:
            return transition_error(exc)

    return answer


async def acted(request: Request, conversation: Conversation, action: str,
                detail: Optional[Dict[str, Any]] = None) -> HTTPResponse:
    """Audits an agent's action on a conversation and answers with the conversation after it."""
    await auditing.record(request, action, f"conversation:{conversation.id}", detail)
    return json(await request.app.ctx.service.brief(conversation, request.ctx.agent.id))


# ``request.ctx.conversation``: the row the access check read (roles.requires with ``chat``).


@bp.post("/conversations/<conversation_id:str>/claim")
@requires(Right.HANDLE_CHATS, chat=Chat.CLAIM)
@refusals_answered
async def claim(request: Request, conversation_id: str) -> HTTPResponse:
    conversation = await request.app.ctx.service.claim(request.ctx.conversation, request.ctx.agent)
    return await acted(request, conversation, "conversation.claim")


@bp.post("/conversations/<conversation_id:str>/return")
@requires(Right.HANDLE_CHATS, chat=Chat.ACT)
@refusals_answered
async def return_to_bot(request: Request, conversation_id: str) -> HTTPResponse:
    conversation = await request.app.ctx.service.return_to_bot(request.ctx.conversation, request.ctx.agent)
    return await acted(request, conversation, "conversation.return")


@bp.post("/conversations/<conversation_id:str>/close")
@requires(Right.HANDLE_CHATS, chat=Chat.ACT)
@refusals_answered
async def close(request: Request, conversation_id: str) -> HTTPResponse:
    conversation = await request.app.ctx.service.close(request.ctx.conversation, request.ctx.agent)
    return await acted(request, conversation, "conversation.close")


@bp.post("/conversations/<conversation_id:str>/transfer")
@requires(Right.HANDLE_CHATS, chat=Chat.ACT)
@refusals_answered
async def transfer(request: Request, conversation_id: str) -> HTTPResponse:
    to_agent = target_agent(request)
    if to_agent is None:
        return error(400, "bad_request")
    conversation = await request.app.ctx.service.transfer(request.ctx.conversation, request.ctx.agent, to_agent)
    return await acted(request, conversation, "conversation.transfer", {"to_agent_id": to_agent})


def target_agent(request: Request) -> Optional[int]:
    """The agent a chat is to move to (``agent_id`` in the JSON body); None when it is not a row id."""
    to_agent = body(request).get("agent_id")
    return to_agent if row_id(to_agent) else None


async def _text(request: Request) -> Any:
    text = body(request).get("text")
    if not isinstance(text, str) or not text.strip():
        return error(400, "empty")
    if len(text) > request.app.ctx.settings.max_message_chars:
        return error(400, "too_long")
    if not storable(text):
        return error(400, "invalid_characters")
    return text.strip()


@bp.post("/conversations/<conversation_id:str>/messages")
@requires(Right.HANDLE_CHATS, chat=Chat.ACT)
@refusals_answered
async def reply(request: Request, conversation_id: str) -> HTTPResponse:
    text = await _text(request)
    if isinstance(text, HTTPResponse):
        return text
    suggestion = await assist_api.suggestion_of(request, body(request), conversation_id)  # sent from one?
    if isinstance(suggestion, HTTPResponse):
        return suggestion
    service = request.app.ctx.service
    message = await service.agent_message(request.ctx.conversation, request.ctx.agent, text,
                                          payload=assist_api.suggestion_payload(suggestion))
    if suggestion is not None:
        await request.app.ctx.store.suggestions.mark_used(suggestion.id, message.id, edited(text, suggestion.text))
    return json(await service.message_json(message), status=201)


@bp.post("/conversations/<conversation_id:str>/notes")
@requires(Right.HANDLE_CHATS, chat=Chat.ACT)
@refusals_answered
async def note(request: Request, conversation_id: str) -> HTTPResponse:
    text = await _text(request)
    if isinstance(text, HTTPResponse):
        return text
    service = request.app.ctx.service
    message = await service.note(request.ctx.conversation, request.ctx.agent, text)
    await auditing.record(request, "conversation.note", f"conversation:{conversation_id}",
                          {"message_id": message.id, "chars": len(text)})
    return json(await service.message_json(message), status=201)


@bp.post("/conversations/<conversation_id:str>/read")
@requires(Right.HANDLE_CHATS, chat=Chat.SEE)
async def read(request: Request, conversation_id: str) -> HTTPResponse:
    message_id = body(request).get("message_id")
    if not row_id(message_id):
        return error(400, "bad_request")
    await request.app.ctx.store.messages.mark_read(request.ctx.agent.id, conversation_id, message_id)
    return empty()


@bp.get("/agents")
@requires(Right.HANDLE_CHATS)
async def agents(request: Request) -> HTTPResponse:
    return json({"agents": [agent_json(a) for a in await request.app.ctx.store.agents.list()]})


def canned_json(item: CannedReply) -> Dict[str, Any]:
    return {"id": item.id, "title": item.title, "text": item.text}


@bp.get("/canned")
@requires(Right.HANDLE_CHATS)
async def canned(request: Request) -> HTTPResponse:
    items = await request.app.ctx.store.canned.list()
    return json({"canned": [canned_json(c) for c in items]})


async def _canned_changed(request: Request) -> None:
    """Every open console gets the whole list at once (the ``canned`` event): pickers update without a reload."""
    items = await request.app.ctx.store.canned.list()
    request.app.ctx.hub.broadcast({"type": "canned", "canned": [canned_json(c) for c in items]})


def _canned_input(request: Request) -> Any:
    """(title, text), or the error response: empty, too long (never cut) or unstorable."""
    data = body(request)
    title, text = data.get("title"), data.get("text")
    if not isinstance(title, str) or not isinstance(text, str) or not title.strip() or not text.strip():
        return error(400, "bad_request")
    if not storable(title) or not storable(text):
        return error(400, "invalid_characters")
    # A canned reply is inserted into an agent's reply: it may be as long as a reply, no longer. Measured
    # as sent, like the API description's maxLength, before surrounding whitespace is trimmed.
    if len(title) > MAX_CANNED_TITLE or len(text) > request.app.ctx.settings.max_message_chars:
        return error(400, "too_long")
    return title.strip(), text.strip()


@bp.post("/canned")
@requires(Right.SUPERVISE)
async def canned_create(request: Request) -> HTTPResponse:
    values = _canned_input(request)
    if isinstance(values, HTTPResponse):
        return values
    item = await request.app.ctx.store.canned.create(*values, updated_by=request.ctx.agent.id)
    await auditing.record(request, "canned.create", f"canned:{item.id}", {"title": item.title})
    await _canned_changed(request)
    return json(canned_json(item), status=201)


@bp.put("/canned/<canned_id:int>")
@requires(Right.SUPERVISE)
async def canned_update(request: Request, canned_id: int) -> HTTPResponse:
    values = _canned_input(request)
    if isinstance(values, HTTPResponse):
        return values
    if not row_id(canned_id):
        return error(404, "not_found")
    item = await request.app.ctx.store.canned.update(canned_id, *values, updated_by=request.ctx.agent.id)
    if item is None:
        return error(404, "not_found")
    await auditing.record(request, "canned.update", f"canned:{item.id}", {"title": item.title})
    await _canned_changed(request)
    return json(canned_json(item))


@bp.delete("/canned/<canned_id:int>")
@requires(Right.SUPERVISE)
async def canned_delete(request: Request, canned_id: int) -> HTTPResponse:
    if not row_id(canned_id) or not await request.app.ctx.store.canned.delete(canned_id):
        return error(404, "not_found")
    await auditing.record(request, "canned.delete", f"canned:{canned_id}")
    await _canned_changed(request)
    return empty()


@bp.get("/tickets")
@requires(Right.HANDLE_CHATS)
async def tickets(request: Request) -> HTTPResponse:
    # One page, newest first: ?limit=1..100 (50), ?before=<id> continues, ?unhandled=1 only open ones.
    args = request.get_args(keep_blank_values=True)  # "?before=" is a mistake to answer, not "no before"
    try:
        limit = int(args.get("limit", TICKET_PAGE))
        before = int(args.get("before")) if "before" in args else None
    except ValueError:
        return error(400, "bad_request")
    unhandled = args.get("unhandled", "0")
    if before is not None and not row_id(before):
        return error(400, "bad_request")
    if not 1 <= limit <= MAX_TICKET_PAGE or unhandled not in ("0", "1"):
        return error(400, "bad_request")
    store = request.app.ctx.store
    items, next_before = await store.tickets.page(limit, before, unhandled_only=unhandled == "1")
    return json({"tickets": [
        {"id": t.id, "conversation_id": t.conversation_id, "name": t.name, "contact": t.contact,
         "message": t.message, "created_at": t.created_at.isoformat(), "customer_id": t.customer_id,
         "handled": t.handled_at is not None} for t in items],
        "next_before": next_before, "unhandled": await store.tickets.count_unhandled()})


@bp.post("/tickets/<ticket_id:int>/handled")
@requires(Right.HANDLE_CHATS)
async def ticket_handled(request: Request, ticket_id: int) -> HTTPResponse:
    store = request.app.ctx.store
    if not row_id(ticket_id) or not await store.tickets.mark_handled(ticket_id, request.ctx.agent.id, now()):
        return error(404, "not_found")
    await auditing.record(request, "ticket.handled", f"ticket:{ticket_id}")
    return json({"id": ticket_id, "handled": True})
