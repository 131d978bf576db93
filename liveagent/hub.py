"""Live connections of agents (websockets) and the fan-out of events to them.

Visitors are reached through Socket.IO rooms (one room per conversation); agents through this hub.
Bookkeeping only: no business logic, so it can be unit-tested with a fake socket.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass, field
from typing import Any, Dict, Optional, Protocol, Set

logger = logging.getLogger(__name__)


SESSION_ENDED = 4401  # close code: the console asks /me and shows the login form (agent.js)


class Socket(Protocol):
    async def send(self, data: str) -> None: ...

    async def close(self, code: int = 1000, reason: str = "") -> None: ...


@dataclass(eq=False)
class AgentClient:
    agent_id: int
    socket: Socket
    session_id: str = ""
    queue: "asyncio.Queue[str]" = field(default_factory=lambda: asyncio.Queue(maxsize=1000))
    closing: Optional["asyncio.Future[None]"] = None

    async def sender(self) -> None:
        """Deliver queued events in order; one slow socket never blocks the others."""
        while True:
            data = await self.queue.get()
            await self.socket.send(data)

    def close(self, code: int = SESSION_ENDED, reason: str = "session ended") -> "asyncio.Future[None]":
        """Closes the socket (once); the handler's receive loop then ends and unregisters it."""
        if self.closing is None:
            self.closing = asyncio.ensure_future(self.socket.close(code=code, reason=reason))
        return self.closing


class AgentHub:
    def __init__(self) -> None:
        self._clients: Dict[int, Set[AgentClient]] = {}

    def register(self, agent_id: int, socket: Socket, session_id: str = "") -> AgentClient:
        client = AgentClient(agent_id, socket, session_id)
        self._clients.setdefault(agent_id, set()).add(client)
        return client

    def unregister(self, client: AgentClient) -> None:
        clients = self._clients.get(client.agent_id)
        if clients is not None:
            clients.discard(client)
            if not clients:
                del self._clients[client.agent_id]

    def connected_agent_ids(self) -> Set[int]:
        return set(self._clients)

    def session_ids(self) -> Set[str]:
        return {c.session_id for clients in self._clients.values() for c in clients if c.session_id}

    def close_agent(self, agent_id: int) -> None:
        """Every session of the agent ended: close all of the agent's sockets."""
        for client in list(self._clients.get(agent_id, ())):
            client.close()

    def close_sessions(self, session_ids: Set[str]) -> None:
        """These sessions ended (idle, expired, or changed by another process): close their sockets."""
        for clients in list(self._clients.values()):
            for client in list(clients):
                if client.session_id in session_ids:
                    client.close()

    def _put(self, client: AgentClient, data: str) -> None:
        try:
            client.queue.put_nowait(data)
        except asyncio.QueueFull:
            logger.warning("Agent %s is not reading its socket; event dropped", client.agent_id)

    def send(self, agent_id: Optional[int], event: Dict[str, Any]) -> None:
        if agent_id is None:
            return
        data = json.dumps(event, default=str)
        for client in self._clients.get(agent_id, ()):
            self._put(client, data)

    def broadcast(self, event: Dict[str, Any], only: Optional[Set[int]] = None) -> None:
        data = json.dumps(event, default=str)
        for agent_id, clients in self._clients.items():
            if only is None or agent_id in only:
                for client in clients:
                    self._put(client, data)
