"""Visitor channel: Rasa's Socket.IO protocol, with server-signed sessions and extensions.

Handlers stay thin: they check the session and the input, then call ConversationService.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Dict, Optional

import socketio

from liveagent import copy
from liveagent.addresses import environ_address
from liveagent.conversations import ConversationService
from liveagent.ratelimit import MemoryCounter, RateLimits
from liveagent.sessions import SessionSigner
from liveagent.settings import Settings
from liveagent.store import TransitionError
from liveagent.validation import storable

logger = logging.getLogger(__name__)
MAX_TOKEN_CHARS = 8192  # an identity JWT is a few hundred characters


class RateLimiter:
    """Token bucket per key: ``rate`` messages per second, bursts of ``burst``."""

    def __init__(self, rate: float = 1.0, burst: int = 8) -> None:
        self.rate, self.burst = rate, burst
        self._buckets: Dict[str, tuple] = {}

    def allow(self, key: str, now: Optional[float] = None) -> bool:
        now = time.monotonic() if now is None else now
        tokens, last = self._buckets.get(key, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - last) * self.rate)
        if tokens < 1:
            self._buckets[key] = (tokens, now)
            return False
        self._buckets[key] = (tokens - 1, now)
        return True


def register_visitor_handlers(sio: socketio.AsyncServer, service: ConversationService, settings: Settings,
                              limits: Optional[RateLimits] = None) -> None:
    signer = SessionSigner(settings.session_secret)
    limiter = RateLimiter()  # per visitor; ``limits`` are per client address
    limits = limits or RateLimits(settings, MemoryCounter())

    async def tell(sid: str, conversation_id: str, text: str) -> None:
        """The current status with ``text`` as its line, to this socket only."""
        await sio.emit("status", {**await service.status(conversation_id), "text": text}, to=sid)

    async def conversation_of(sid: str) -> Optional[str]:
        session = await sio.get_session(sid)
        return session.get("conversation_id") if session else None

    @sio.event
    async def connect(sid: str, environ: Dict[str, Any], auth: Any = None) -> None:
        address = environ_address(environ, settings.trusted_proxies)
        if not await limits.allow("connect", address):
            raise socketio.exceptions.ConnectionRefusedError(copy.text("status.too_many_connections"),
                                                             {"error": "rate_limited"})
        await sio.save_session(sid, {"address": address})

    @sio.event
    async def session_request(sid: str, data: Any = None) -> None:
        data = data if isinstance(data, dict) else {}
        token = data.get("session_id")
        conversation_id = signer.verify(token)
        if conversation_id is None:
            conversation_id, token = signer.issue()
        session = await sio.get_session(sid)
        await sio.save_session(sid, {**(session or {}), "conversation_id": conversation_id})
        await sio.enter_room(sid, conversation_id)
        await sio.emit("session_confirm", token, to=sid)
        try:
            after = int(data.get("last_seen_id") or 0)
        except (TypeError, ValueError):
            after = 0
        messages = await service.store.messages_after(conversation_id, after, visible_to="visitor")
        await sio.emit("history", {
            "messages": [await service.message_json(m) for m in messages],
            "status": await service.status(conversation_id),
        }, to=sid)

    @sio.event
    async def user_uttered(sid: str, data: Any = None) -> None:
        conversation_id = await conversation_of(sid)
        if conversation_id is None or not isinstance(data, dict):
            return
        # In line before anything can suspend (e.g. the Redis rate limit): a conversation's messages are
        # handled one at a time in the order they came (ConversationService.visitor_message).
        async with service.turns.hold(conversation_id):
            await handle_user_uttered(sid, conversation_id, data)

    async def handle_user_uttered(sid: str, conversation_id: str, data: Dict[str, Any]) -> None:
        claimed = data.get("session_id")
        if claimed is not None and signer.verify(claimed) != conversation_id:
            logger.info("user_uttered with a session id that is not this socket's; ignored")
            return
        text = data.get("message")
        if not isinstance(text, str) or not text.strip():
            return
        if len(text) > settings.max_message_chars:
            await tell(sid, conversation_id, copy.text("status.message_too_long", limit=settings.max_message_chars))
            return
        if not storable(text):
            await tell(sid, conversation_id, copy.text("status.message_invalid"))
            return
        if not limiter.allow(conversation_id):
            await tell(sid, conversation_id, copy.text("status.rate_limited"))
            return
        session = await sio.get_session(sid) or {}
        if not await limits.allow("message", session.get("address") or "unknown"):
            await tell(sid, conversation_id, copy.text("status.rate_limited_address"))
            return
        extra = data.get("customData") or data.get("metadata") or {}
        auth_token = extra.get("auth_token") if isinstance(extra, dict) else None
        if not isinstance(auth_token, str) or len(auth_token) > MAX_TOKEN_CHARS or not storable(auth_token):
            auth_token = None  # not a token; and a lone surrogate would break the JWT library's decode
        message = await service.visitor_message(conversation_id, text.strip(), auth_token)
        # Other tabs of the same visitor show the message too.
        await sio.emit("history", {"messages": [await service.message_json(message)]},
                       room=conversation_id, skip_sid=sid)

    @sio.event
    async def visitor_typing(sid: str, data: Any = None) -> None:
        conversation_id = await conversation_of(sid)
        if conversation_id is None:
            return
        conversation = await service.store.get_or_create_conversation(conversation_id)
        on = bool(data.get("on")) if isinstance(data, dict) else False
        service.hub.send(conversation.agent_id, {"type": "typing", "conversation_id": conversation_id, "on": on})

    @sio.event
    async def cancel_waiting(sid: str, data: Any = None) -> None:
        conversation_id = await conversation_of(sid)
        if conversation_id is None:
            return
        try:
            await service.cancel_waiting(conversation_id)
        except TransitionError:
            await sio.emit("status", await service.status(conversation_id), to=sid)

    @sio.event
    async def rating(sid: str, data: Any = None) -> None:
        conversation_id = await conversation_of(sid)
        score = data.get("score") if isinstance(data, dict) else None
        if conversation_id is None:
            return
        if not isinstance(score, int) or isinstance(score, bool) or not 1 <= score <= 5:
            await tell(sid, conversation_id, copy.text("errors.rating_invalid"))
            return
        await service.rate(conversation_id, score)

    @sio.event
    async def contact_request(sid: str, data: Any = None) -> None:
        conversation_id = await conversation_of(sid)
        if conversation_id is None:
            return
        data = data if isinstance(data, dict) else {}
        name, contact, message = (value if isinstance(value, str) and storable(value) else None
                                  for value in (data.get("name"), data.get("contact"), data.get("message")))
        await service.contact_request(conversation_id, name, contact, message)
