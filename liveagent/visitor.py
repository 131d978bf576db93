"""Visitor channel: Rasa's Socket.IO protocol, with server-signed sessions and extensions.

Handlers stay thin: they check the limits, the session and the input, then call ConversationService.
Every event is first held to its limits, in this order and before any lock or database work: the
connection's own token bucket (synchronous, in this process), then the client address's counter
(in Redis when configured). A refused event is told to the visitor in Finnish (at most once every
few seconds per connection, so a flood does not get a flood back) and changes nothing stored.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Dict, Optional, Protocol, cast

import socketio
from socketio.async_pubsub_manager import AsyncPubSubManager

from liveagent import copy
from liveagent.addresses import environ_address
from liveagent.conversations import ConversationService
from liveagent.ratelimit import RateLimits, SocketCounts, SocketLimits
from liveagent.sessions import ANONYMOUS, SessionSigner
from liveagent.settings import Settings
from liveagent.store import TransitionError
from liveagent.validation import storable
from lumo_shared.identity import verify_token

logger = logging.getLogger(__name__)
MAX_TOKEN_CHARS = 8192  # an identity JWT is a few hundred characters

# event -> (the per-address limit it counts against, the Finnish line a refused visitor sees)
REFUSALS = {
    "session": ("session", "status.too_many_session_requests"),
    "message": ("message", "status.rate_limited"),
    "typing": ("visitor_event", "status.too_many_events"),
    "rating": ("visitor_event", "status.too_many_events"),
    "cancel": ("visitor_event", "status.too_many_events"),
    "feedback": ("visitor_event", "status.too_many_feedback"),
    "end": ("visitor_event", "status.too_many_events"),
    "contact": ("contact", "status.too_many_contact_requests"),
}


@dataclass
class Connection:
    """What the service knows about one visitor connection (kept here, read without suspending)."""

    address: str
    conversation_id: Optional[str] = None
    binding: str = ANONYMOUS  # whose session this is (SessionSigner.binding)
    customer_id: Optional[str] = None  # the customer whose identity token this connection verified


def identity_token(value: Any) -> Optional[str]:
    """``value`` if it can be an identity JWT at all; a lone surrogate would break the JWT library."""
    if not isinstance(value, str) or not value or len(value) > MAX_TOKEN_CHARS or not storable(value):
        return None
    return value


def others_may_listen(sio: socketio.AsyncServer, room: str, sid: str) -> bool:
    """Whether an event to ``room`` but not to ``sid`` can reach anyone (python-socketio builds and encodes
    the packet before it looks for recipients). With replicas (a pub/sub manager) other replicas may hold
    sockets of the room; otherwise only this process's sockets count."""
    if isinstance(sio.manager, AsyncPubSubManager):
        return True
    return any(other != sid for other, _ in sio.manager.get_participants("/", room))


class VisitorContext(Protocol):
    """Where the handlers find the conversation service and the shared limits when an event comes
    (the app's ``app.ctx``: both are made when the server starts, after the handlers are registered)."""

    service: ConversationService
    limits: RateLimits


class _AtCallTime:
    """``ctx.<name>``, looked up at each use: the handlers can be registered before it exists."""

    def __init__(self, ctx: VisitorContext, name: str) -> None:
        self._ctx, self._name = ctx, name

    def __getattr__(self, attribute: str) -> Any:
        return getattr(getattr(self._ctx, self._name), attribute)


def register_visitor_handlers(sio: socketio.AsyncServer, ctx: VisitorContext, settings: Settings,
                              per_socket: Optional[SocketLimits] = None,
                              on_error: Optional[Callable[[str], None]] = None) -> SocketCounts:
    """Installs the handlers; returns the count of open connections per address (for tests and the
    operators' metrics). ``on_error(event)`` is told of every handler that fails (before the exception
    goes on to python-socketio, which logs it); a refused connection is no failure."""
    def event(handler: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        """``@sio.event``, with failures told to ``on_error``."""
        name = handler.__name__

        @functools.wraps(handler)
        async def observed(*args: Any) -> Any:
            try:
                return await handler(*args)
            except socketio.exceptions.ConnectionRefusedError:
                raise
            except Exception:
                if on_error is not None:
                    on_error(name)
                raise

        sio.event(observed)  # registered under its name, which functools.wraps kept
        return handler

    signer = SessionSigner(settings.session_secret, settings.visitor_session_hours * 3600)
    service = cast(ConversationService, _AtCallTime(ctx, "service"))
    limits = cast(RateLimits, _AtCallTime(ctx, "limits"))
    per_socket = per_socket or SocketLimits()
    sockets = SocketCounts(settings.max_sockets_per_address)
    connections: Dict[str, Connection] = {}

    def customer_of(auth_token: Any) -> Optional[str]:
        token = identity_token(auth_token)
        identity = verify_token(token, settings.identity) if token else None
        return identity.customer_id if identity else None

    def confirmation(token: str) -> Dict[str, Any]:
        """session_confirm's payload: the session token (`session_id`, as Rasa webchat clients read it) and
        the limits the widget enforces before sending, so it never allows what the service refuses."""
        return {"session_id": token, "max_message_chars": settings.max_message_chars,
                "max_comment_chars": settings.max_comment_chars}

    async def notice(sid: str, event: str, text: str) -> None:
        """A status line for this connection only, without the conversation's state (no database read):
        the widget keeps the state it has and shows the line."""
        await sio.emit("status", {"text": text, "notice": event}, to=sid)

    async def refuse(sid: str, event: str, key: str) -> None:
        if per_socket.notify(event, sid):
            await notice(sid, event, copy.text(key))

    async def admitted(sid: str, connection: Connection, event: str) -> bool:
        """The connection's own limit, then its address's; a refusal is told (throttled) and False."""
        address_limit, key = REFUSALS[event]
        if not per_socket.allow(event, sid, connection.conversation_id if event == "message" else None):
            await refuse(sid, event, key)
            return False
        if not await limits.allow(address_limit, connection.address):
            await refuse(sid, event, "status.rate_limited_address" if event == "message" else key)
            return False
        return True

    async def in_chat(sid: str, event: str) -> Optional[Connection]:
        """The connection of ``sid`` when it is in a conversation and ``event`` is within its limits."""
        connection = connections.get(sid)
        if connection is None or connection.conversation_id is None:
            return None
        return connection if await admitted(sid, connection, event) else None

    @event
    async def connect(sid: str, environ: Dict[str, Any], auth: Any = None) -> None:
        address = environ_address(environ, settings.trusted_proxies)
        if not sockets.open(address):  # synchronous: two connections arriving together cannot both slip in
            raise socketio.exceptions.ConnectionRefusedError(copy.text("status.too_many_sockets"),
                                                             {"error": "rate_limited"})
        try:
            allowed = await limits.allow("connect", address)
        except BaseException:
            sockets.close(address)
            raise
        if not allowed:
            sockets.close(address)
            raise socketio.exceptions.ConnectionRefusedError(copy.text("status.too_many_connections"),
                                                             {"error": "rate_limited"})
        if not sio.manager.is_connected(sid, "/"):  # gone while Redis answered: its disconnect has run
            sockets.close(address)
            return
        connections[sid] = Connection(address)

    @event
    async def disconnect(sid: str, *_reason: Any) -> None:
        connection = connections.pop(sid, None)
        if connection is not None:
            sockets.close(connection.address)
        per_socket.forget(sid)

    @event
    async def session_request(sid: str, data: Any = None) -> None:
        connection = connections.get(sid)
        if connection is None or not await admitted(sid, connection, "session"):
            return
        data = data if isinstance(data, dict) else {}
        customer = customer_of(data.get("auth_token"))
        binding = signer.binding(customer)
        presented = signer.read(data.get("session_id"))
        conversation_id: Optional[str] = None
        if presented is not None and presented.binding == binding:
            conversation_id = presented.conversation_id
        elif (presented is not None and presented.binding == ANONYMOUS and customer is not None
              and connection.conversation_id == presented.conversation_id):
            # The visitor logged in during the chat, on this very connection: the chat becomes theirs.
            conversation_id = presented.conversation_id
        # Otherwise (another customer, logged out, expired, forged): a fresh session, nothing replayed.
        if presented is not None and conversation_id is not None and presented.binding == binding:
            token = signer.renew(data["session_id"], presented, customer)
        else:
            conversation_id, token = signer.issue(customer, conversation_id)
        if connection.conversation_id is not None and connection.conversation_id != conversation_id:
            await sio.leave_room(sid, connection.conversation_id)  # no more live events of the old chat
        connection.conversation_id, connection.binding = conversation_id, binding
        connection.customer_id = customer
        await sio.enter_room(sid, conversation_id)
        if presented is None or presented.conversation_id != conversation_id:
            history: Dict[str, Any] = {"messages": [], "status": service.new_status()}  # new: nothing to read
        else:
            try:
                after = int(data.get("last_seen_id") or 0)
            except (TypeError, ValueError):
                after = 0
            history = {"messages": await service.history(conversation_id, after),
                       "status": await service.status(conversation_id)}
        await sio.emit("session_confirm", confirmation(token), to=sid)  # the token and its history back to back
        await sio.emit("history", history, to=sid)

    @event
    async def user_uttered(sid: str, data: Any = None) -> None:
        connection = connections.get(sid)
        if connection is None or connection.conversation_id is None or not isinstance(data, dict):
            return
        conversation_id = connection.conversation_id
        if not per_socket.allow("message", sid, conversation_id):
            await refuse(sid, "message", REFUSALS["message"][1])
            return
        claimed = data.get("session_id")
        if claimed is not None and getattr(signer.read(claimed), "conversation_id", None) != conversation_id:
            logger.info("user_uttered with a session id that is not this socket's; ignored")
            return
        text = data.get("message")
        if not isinstance(text, str) or not text.strip():
            return
        if len(text) > settings.max_message_chars:  # refused whole, never cut: the widget keeps the text
            await notice(sid, "message", copy.text("status.message_too_long", length=copy.count(len(text)),
                                                   limit=copy.count(settings.max_message_chars)))
            return
        if not storable(text):
            await notice(sid, "message", copy.text("status.message_invalid"))
            return
        # A place in the conversation's line now, before anything can suspend, so the conversation's
        # messages are handled in the order they came (ConversationService.visitor_message) even though
        # the address's limit below may wait for Redis.
        place = service.turns.line_up(conversation_id)
        try:
            allowed = await limits.allow("message", connection.address)
        except BaseException:
            place.leave()
            raise
        if not allowed:
            place.leave()
            await refuse(sid, "message", "status.rate_limited_address")
            return
        async with place.hold():
            await handle_user_uttered(sid, connection, conversation_id, text.strip(), data)

    async def handle_user_uttered(sid: str, connection: Connection, conversation_id: str, text: str,
                                  data: Dict[str, Any]) -> None:
        extra = data.get("customData") or data.get("metadata") or {}
        auth_token = identity_token(extra.get("auth_token") if isinstance(extra, dict) else None)
        if auth_token is not None and connection.binding == ANONYMOUS:
            customer = customer_of(auth_token)
            if customer is not None:
                # Logged in during the chat: the session is now this customer's; the token the widget
                # keeps says so (the anonymous one it had no longer replays the chat to anyone else).
                _, token = signer.issue(customer, conversation_id)
                connection.binding = signer.binding(customer)
                connection.customer_id = customer
                await sio.emit("session_confirm", confirmation(token), to=sid)
        message = await service.visitor_message(conversation_id, text, auth_token)
        if others_may_listen(sio, conversation_id, sid):  # other tabs of the same visitor show it too
            await sio.emit("history", {"messages": [await service.message_json(message)]},
                           room=conversation_id, skip_sid=sid)

    @event
    async def visitor_typing(sid: str, data: Any = None) -> None:
        connection = await in_chat(sid, "typing")
        if connection is None:
            return
        on = bool(data.get("on")) if isinstance(data, dict) else False
        await service.visitor_typing(connection.conversation_id, on)

    @event
    async def cancel_waiting(sid: str, data: Any = None) -> None:
        connection = await in_chat(sid, "cancel")
        if connection is None:
            return
        try:
            await service.cancel_waiting(connection.conversation_id)
        except TransitionError:
            await sio.emit("status", await service.status(connection.conversation_id), to=sid)

    @event
    async def rating(sid: str, data: Any = None) -> None:
        connection = await in_chat(sid, "rating")
        if connection is None:
            return
        score = data.get("score") if isinstance(data, dict) else None
        if not isinstance(score, int) or isinstance(score, bool) or not 1 <= score <= 5:
            await notice(sid, "rating", copy.text("errors.rating_invalid"))
            return
        comment = data.get("comment")
        if comment is not None and not isinstance(comment, str):
            await notice(sid, "rating", copy.text("errors.rating_comment_invalid"))
            return
        comment = (comment or "").strip() or None
        if comment is not None and len(comment) > settings.max_comment_chars:  # refused whole, never cut
            await notice(sid, "rating", copy.text("errors.rating_comment_too_long", length=copy.count(len(comment)),
                                                  limit=copy.count(settings.max_comment_chars)))
            return
        if comment is not None and not storable(comment):
            await notice(sid, "rating", copy.text("errors.rating_comment_invalid"))
            return
        if not await service.rate(connection.conversation_id, score, comment):
            await notice(sid, "rating", copy.text("errors.rating_invalid"))

    @event
    async def answer_feedback(sid: str, data: Any = None) -> None:
        connection = await in_chat(sid, "feedback")
        if connection is None:
            return
        data = data if isinstance(data, dict) else {}
        message_id, helpful = data.get("message_id"), data.get("helpful")
        valid = (isinstance(message_id, int) and not isinstance(message_id, bool) and 0 < message_id < 2**31
                 and isinstance(helpful, bool))
        if not valid or not await service.answer_feedback(connection.conversation_id, message_id, helpful):
            await notice(sid, "feedback", copy.text("errors.feedback_invalid"))
            return
        await sio.emit("feedback_saved", {"message_id": message_id, "helpful": helpful},
                       room=connection.conversation_id)  # every tab of the visitor shows the choice

    @event
    async def end_conversation(sid: str, data: Any = None) -> None:
        connection = await in_chat(sid, "end")
        if connection is None:
            return
        try:
            await service.end(connection.conversation_id)
        except TransitionError:
            await notice(sid, "end", copy.text("status.end_not_possible"))

    @event
    async def contact_request(sid: str, data: Any = None) -> None:
        connection = await in_chat(sid, "contact")
        if connection is None:
            return
        data = data if isinstance(data, dict) else {}
        name, contact, message = (value if isinstance(value, str) and storable(value) else None
                                  for value in (data.get("name"), data.get("contact"), data.get("message")))
        await service.contact_request(connection.conversation_id, name, contact, message, connection.customer_id)

    return sockets
