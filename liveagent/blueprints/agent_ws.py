"""Agent websocket: live queue, messages, typing and presence (docs/agent-api.md)."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
from typing import Any

from sanic import Blueprint, Request

from liveagent.auth import read_session, session_idle, touch_after
from liveagent.roles import Right, socket_requires
from liveagent.validation import zoned_time

logger = logging.getLogger(__name__)
bp = Blueprint("agent_ws", url_prefix="/api/agent")


@bp.websocket("/ws")
@socket_requires(Right.HANDLE_CHATS)  # the console's own origins only; editors get no agent events
async def agent_socket(request: Request, ws: Any) -> None:
    agent, session = request.ctx.agent, read_session(request)  # socket_requires checked both
    app = request.app
    client = app.ctx.hub.register(agent.id, ws, session["sid"])
    sender = asyncio.create_task(client.sender())
    idle = session_idle(app.ctx.settings)
    try:
        service = app.ctx.service
        waiting = await service.briefs(await app.ctx.store.conversations.queue())
        await ws.send(json.dumps({"type": "queue", "conversations": waiting}, default=str))
        while True:  # Sanic 21.12 websockets are not async-iterable
            raw = await ws.recv()
            if raw is None:
                break
            # every message: the session may have ended since the last one
            if not await app.ctx.store.sessions.check(session["sid"], agent.id, idle, touch_after(idle)):
                await client.close()
                break
            await handle(app, agent, raw, client)
    finally:
        sender.cancel()
        app.ctx.hub.unregister(client)


async def watch_sessions(app: Any) -> None:
    """Closes open agent sockets whose session ended without this replica seeing it happen: idle,
    past its lifetime, or ended by another process (``python -m liveagent deactivate`` ...)."""
    settings = app.ctx.settings
    while True:
        await asyncio.sleep(settings.session_check_seconds)
        try:
            open_sessions = app.ctx.hub.session_ids()
            if open_sessions:
                live = await app.ctx.store.sessions.live(open_sessions, session_idle(settings))
                app.ctx.hub.close_sessions(open_sessions - live)
        except Exception:  # noqa: BLE001 - the watch must survive a passing database error
            logger.exception("Checking the agent sockets' sessions failed")


async def handle(app: Any, agent: Any, raw: Any, client: Any) -> None:
    try:
        event = json.loads(raw)
    except (TypeError, ValueError):
        return
    if not isinstance(event, dict):
        return
    kind = event.get("type")
    store, service = app.ctx.store, app.ctx.service
    if kind == "ping":
        await store.agents.touch(agent.id, dt.datetime.now(dt.timezone.utc))
    elif kind == "typing" and isinstance(event.get("conversation_id"), str):
        conversation = await store.conversations.find(event["conversation_id"])
        if conversation is not None and conversation.agent_id == agent.id:
            await service.emit("typing", {"who": "agent", "on": bool(event.get("on"))}, conversation.id)
    elif kind == "resume" and isinstance(event.get("after_id"), int):
        # after_id: the newest message the console has; since (from a resync event): when this replica
        # lost the other replicas' events, so that a missed message older than the newest is sent too
        since = zoned_time(event.get("since"))
        for conversation in await store.conversations.assigned_to(agent.id):
            for message in await store.messages.after(conversation.id, event["after_id"], visible_to="agent",
                                                      since=since):
                app.ctx.hub.send(agent.id, {"type": "message", "conversation_id": conversation.id,
                                            "message": await service.message_json(message), "resumed": True})

