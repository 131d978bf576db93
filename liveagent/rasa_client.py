"""Thin client for the Rasa server: the REST channel and the tracker events API.

Rasa's HTTP API is called with a short-lived JWT in the Authorization header (Rasa runs with
``--jwt-secret``), never with a token in the URL. Every call is bounded by a timeout; failures
raise ``RasaUnavailable`` so the caller can tell the visitor and offer the queue.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import Any, Dict, List, Optional
from urllib.parse import quote

import aiohttp
import jwt

logger = logging.getLogger(__name__)


class RasaUnavailable(Exception):
    """Rasa (or its action server) did not answer in time or answered with an error."""


class RasaClient:
    def __init__(self, base_url: str, jwt_secret: str, timeout_seconds: float) -> None:
        self._base = base_url.rstrip("/")
        self._secret = jwt_secret
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self._session: Optional[aiohttp.ClientSession] = None
        self._token: Optional[str] = None
        self._token_renew_at = dt.datetime.min.replace(tzinfo=dt.timezone.utc)

    async def open(self) -> None:
        # One keep-alive connection pool for the process.
        self._session = aiohttp.ClientSession(timeout=self._timeout)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _auth(self) -> Dict[str, str]:
        if not self._secret:
            return {}
        now = dt.datetime.now(dt.timezone.utc)
        if self._token is None or now >= self._token_renew_at:  # not one signature per request
            self._token = jwt.encode(
                {"user": {"username": "liveagent", "role": "admin"}, "exp": now + dt.timedelta(minutes=5)},
                self._secret,
                algorithm="HS256",
            )
            self._token_renew_at = now + dt.timedelta(minutes=4)
        return {"Authorization": f"Bearer {self._token}"}

    async def _post(self, path: str, body: Any) -> Any:
        return await self._request("POST", path, body)

    async def _request(self, method: str, path: str, body: Any = None,
                       timeout: Optional[aiohttp.ClientTimeout] = None) -> Any:
        assert self._session is not None, "RasaClient.open() was not called"
        try:
            async with self._session.request(method, f"{self._base}{path}", json=body, headers=self._auth(),
                                             timeout=timeout or self._timeout) as response:
                if response.status >= 400:
                    raise RasaUnavailable(f"Rasa answered {response.status} to {method} {path.split('/')[1]}")
                return await response.json(content_type=None) if response.status != 204 else None
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as error:
            raise RasaUnavailable(f"Rasa unreachable: {type(error).__name__}") from error

    async def tracker_events(self, conversation_id: str) -> List[Dict[str, Any]]:
        """Every event of the conversation (what the bot understood, with confidences)."""
        tracker = await self._request("GET", f"/conversations/{quote(conversation_id, safe='')}/tracker")
        return list((tracker or {}).get("events") or [])

    async def load_model(self, model_path: str, timeout_seconds: float = 300.0) -> None:
        """Have Rasa answer with the model file at ``model_path`` (a path on Rasa's machine).

        Rasa keeps answering with the old model until the new one is loaded (scripts/rasa_server.py).
        """
        await self._request("PUT", "/model", {"model_file": model_path},
                            timeout=aiohttp.ClientTimeout(total=timeout_seconds))

    async def send(self, conversation_id: str, text: str, metadata: Dict[str, Any]) -> List[Dict[str, Any]]:
        """A visitor message through the REST channel; returns Rasa's bot messages."""
        messages = await self._post(
            "/webhooks/rest/webhook", {"sender": conversation_id, "message": text, "metadata": metadata}
        )
        return list(messages or [])

    async def append_events(self, conversation_id: str, events: List[Dict[str, Any]]) -> None:
        await self._post(f"/conversations/{conversation_id}/tracker/events", events)

    async def resume(self, conversation_id: str) -> None:
        """Un-pause the bot for this conversation (ConversationResumed).

        While paused, Rasa records visitor messages without running any action, so the tracker
        would end on the escalation action and no rule would match the next message. An
        ``action_listen`` puts the dialogue back at "waiting for the visitor".
        """
        await self.append_events(
            conversation_id, [{"event": "resume"}, {"event": "action", "name": "action_listen"}]
        )

    async def record_visitor_message(self, conversation_id: str, text: str, metadata: Dict[str, Any]) -> None:
        """Keep the Rasa transcript whole while an agent holds the chat: the visitor's message as a
        user event, without running the NLU on it (nobody acts on its intent while the bot is paused)."""
        await self.append_events(conversation_id, [{"event": "user", "text": text, "metadata": metadata}])

    async def record_agent_message(self, conversation_id: str, text: str, agent_name: str) -> None:
        """Keep the Rasa transcript whole: the agent's reply as a bot event marked as human."""
        await self.append_events(
            conversation_id, [{"event": "bot", "text": text, "metadata": {"human_agent": agent_name}}]
        )
