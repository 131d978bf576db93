"""Visitor session tokens issued and signed by the service.

A session token is ``<conversation id>.<expiry>.<customer binding>.<HMAC-SHA256 signature>``:

- the conversation id is random (128 bits), and only the service can sign it, so a client cannot
  join another visitor's conversation by guessing an id or by presenting a bare id it saw somewhere:
  without the signature the service hands out a fresh session instead;
- the expiry (Unix seconds, base 36) ends the session ``lifetime`` after it was issued; the service
  issues a renewed token at every connection, so only a visitor who stays away that long starts over;
- the binding is a keyed digest of the verified customer id (``-`` for a visitor who is not logged
  in): a token is honoured only for the same customer, so when the logged-in customer changes or logs
  out, the old conversation's history is not replayed to whoever holds the browser now.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
import uuid
from dataclasses import dataclass
from typing import Callable, Optional, Tuple

ANONYMOUS = "-"
_HEX = frozenset("0123456789abcdef")


def _b64(digest: bytes) -> str:
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


@dataclass(frozen=True)
class VisitorSession:
    conversation_id: str
    binding: str  # ANONYMOUS or the keyed digest of the customer id
    expires_at: int


class SessionSigner:
    def __init__(self, secret: str, lifetime_seconds: float = 24 * 3600,
                 clock: Callable[[], float] = time.time) -> None:
        self._key = hashlib.sha256(("liveagent-session:" + secret).encode()).digest()
        self._customer_key = hashlib.sha256(("liveagent-session-customer:" + secret).encode()).digest()
        self._lifetime = lifetime_seconds
        self._clock = clock

    def _sign(self, body: str) -> str:
        return _b64(hmac.new(self._key, body.encode(), hashlib.sha256).digest())

    def binding(self, customer_id: Optional[str]) -> str:
        """What a token records of the customer: a keyed digest, never the id itself."""
        if not customer_id:
            return ANONYMOUS
        return _b64(hmac.new(self._customer_key, customer_id.encode(), hashlib.sha256).digest()[:12])

    def issue(self, customer_id: Optional[str] = None, conversation_id: Optional[str] = None) -> Tuple[str, str]:
        """A (conversation id, session token): a new conversation, or a renewed token for ``conversation_id``."""
        conversation_id = conversation_id or uuid.uuid4().hex
        expires = int(self._clock() + self._lifetime)
        body = f"{conversation_id}.{_base36(expires)}.{self.binding(customer_id)}"
        return conversation_id, f"{body}.{self._sign(body)}"

    def renew(self, token: str, session: VisitorSession, customer_id: Optional[str]) -> str:
        """``token`` while it has more than half its lifetime left, else a renewed one.

        Renewing only then keeps a conversation's token stable across reconnects and tabs (the widget
        shares it between tabs), yet a visitor who keeps coming back never sees it expire.
        """
        if session.expires_at - self._clock() > self._lifetime / 2:
            return token
        return self.issue(customer_id, session.conversation_id)[1]

    def read(self, token: object) -> Optional[VisitorSession]:
        """The session of a genuine, unexpired token, else None."""
        if not isinstance(token, str) or len(token) > 200 or token.count(".") != 3:
            return None
        conversation_id, expires, binding, signature = token.split(".")
        if len(conversation_id) != 32 or not set(conversation_id) <= _HEX:
            return None
        if not hmac.compare_digest(signature, self._sign(f"{conversation_id}.{expires}.{binding}")):
            return None
        expires_at = int(expires, 36)
        if expires_at <= self._clock():
            return None
        return VisitorSession(conversation_id, binding, expires_at)

    def verify(self, token: object, customer_id: Optional[str] = None) -> Optional[str]:
        """The conversation id of a genuine, unexpired token bound to ``customer_id``, else None."""
        session = self.read(token)
        if session is None or not hmac.compare_digest(session.binding, self.binding(customer_id)):
            return None
        return session.conversation_id


def _base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        number, rest = divmod(number, 36)
        out = digits[rest] + out
        if number == 0:
            return out
