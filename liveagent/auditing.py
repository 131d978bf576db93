"""Agents' and editors' actions into the audit log, from the HTTP handlers that perform them.

The handler knows who acted (the session's agent), from where (the client address) and on what;
``Store.audit`` writes it with personal data masked. Every action has a name listed in ACTIONS,
so the log stays searchable and docs/security.md can say what each one means.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any, Dict, Optional

from liveagent.addresses import request_address
from liveagent.store.audit import Digest

ACTIONS: Dict[str, str] = {
    "login.success": "an agent logged in",
    "login.failure": "wrong username or password (actor set only when the username exists)",
    "login.delayed": "a login attempt refused unchecked: too many recent failures (liveagent/login_backoff.py)",
    "logout": "an agent logged out (presence goes offline; every session of the agent ends)",
    "agent.password": "an operator set an agent's password (every session of the agent ended)",
    "agent.role": "an operator changed an agent's role (every session of the agent ended)",
    "agent.deactivated": "an operator deactivated an agent (every session ended, logins refused)",
    "agent.activated": "an operator allowed a deactivated agent to log in again",
    "presence": "an agent changed their own presence",
    "agent.capacity": "a supervisor set how many chats an agent holds at once (before and after)",
    "conversation.claim": "an agent took a waiting conversation",
    "conversation.transfer": "the holder handed the conversation to another agent",
    "conversation.reassign": "a supervisor moved a conversation (held or waiting) to another agent (the floor)",
    "conversation.return": "the holder returned the conversation to the bot",
    "conversation.close": "an agent closed the conversation",
    "conversation.note": "an agent wrote an internal note (its length only)",
    "conversation.transcript": "an agent or supervisor downloaded a conversation's transcript (its format)",
    "canned.create": "a supervisor created a canned reply",
    "canned.update": "a supervisor changed a canned reply",
    "canned.delete": "a supervisor deleted a canned reply",
    "ticket.handled": "an agent marked a contact request handled",
    "content.answer": "an editor changed a topic's answer",
    "content.examples_added": "an editor added examples to a topic",
    "content.example_removed": "an editor removed an example",
    "content.topic_created": "an editor created a topic",
    "missed.added": "inbox messages were resolved by adding them to a topic",
    "missed.dismissed": "inbox messages were dismissed",
    "publish": "an editor started publishing the content",
    "rollback": "an editor started a rollback to the previous model",
    "erasure": "a supervisor erased a visitor's data (no identifier, only a keyed digest and counts)",
    "retention": "the daily retention purge ran (counts)",
}


async def record(request: Any, action: str, target: Optional[str] = None,
                 detail: Optional[Dict[str, Any]] = None, *, agent: Any = None) -> None:
    """One entry for ``action`` by the request's agent (or ``agent``), from the request's client address."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}; add it to liveagent.auditing.ACTIONS")
    agent = agent if agent is not None else getattr(request.ctx, "agent", None)
    await request.app.ctx.store.audit.record(
        action,
        actor_id=agent.id if agent is not None else None,
        actor_username=agent.username if agent is not None else None,
        target=target,
        detail=detail,
        client_address=request_address(request),
    )


def subject_digest(secret: str, kind: str, value: str) -> Digest:
    """Names an erased visitor in the log without keeping who it was: whoever knows the identifier
    (and the service secret) can check that its erasure was done; the log alone reveals nothing."""
    key = hashlib.sha256(("liveagent-audit:" + secret).encode()).digest()
    return Digest(hmac.new(key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()[:32])
