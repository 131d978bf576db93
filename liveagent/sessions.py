"""Visitor session ids issued and signed by the service.

A session token is ``<conversation id>.<HMAC-SHA256 signature>``. The conversation id is random
(128 bits), and only the service can sign it, so a client cannot join another visitor's
conversation by guessing an id or by presenting a bare id it saw somewhere: without the signature
the service hands out a fresh session instead.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from typing import Optional, Tuple


class SessionSigner:
    def __init__(self, secret: str) -> None:
        self._key = hashlib.sha256(("liveagent-session:" + secret).encode()).digest()

    def _sign(self, conversation_id: str) -> str:
        digest = hmac.new(self._key, conversation_id.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def issue(self) -> Tuple[str, str]:
        """A new (conversation id, session token)."""
        conversation_id = uuid.uuid4().hex
        return conversation_id, f"{conversation_id}.{self._sign(conversation_id)}"

    def verify(self, token: object) -> Optional[str]:
        """The conversation id of a genuine token, else None."""
        if not isinstance(token, str) or token.count(".") != 1 or len(token) > 200:
            return None
        conversation_id, signature = token.split(".")
        if len(conversation_id) != 32 or not all(c in "0123456789abcdef" for c in conversation_id):
            return None
        if not hmac.compare_digest(signature, self._sign(conversation_id)):
            return None
        return conversation_id
