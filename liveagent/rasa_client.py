"""Thin client for the Rasa server: the REST channel and the tracker events API.

Rasa's HTTP API is called with a short-lived JWT in the Authorization header (Rasa runs with
``--jwt-secret``), never with a token in the URL. Every call is bounded by a timeout; failures
raise ``RasaUnavailable`` so the caller can tell the visitor and offer the queue.

In production there are several Rasa replicas sharing the tracker store (PostgreSQL) and the lock
store (Redis), so any of them can serve any conversation. Each conversation prefers one replica
(its id's hash: warm caches, even spread) and moves to the next when that one cannot be reached
or drops the connection. A timeout is not retried elsewhere: that Rasa may still be answering.
A new model is loaded into every replica.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import zlib
from typing import Any, Callable, Dict, List, Optional, Sequence, Union
from urllib.parse import quote

import jwt

from liveagent.http_client import ConnectFailed, Disconnected, HttpClient, HttpError

logger = logging.getLogger(__name__)


class RasaUnavailable(Exception):
    """Rasa (or its action server) did not answer in time or answered with an error."""

    def __init__(self, message: str, status: Optional[int] = None) -> None:
        super().__init__(message)
        self.status = status  # Rasa's HTTP status when it answered with an error, else None


# Rasa answers these to DELETE .../tracker when it cannot delete the conversation: 501 from
# rasa_runtime/erasure.py (a tracker store it cannot delete from), 405 from a Rasa without it.
_CANNOT_DELETE = (405, 501)


# The replica did not get (or could not finish) the request: safe to try another one.
_FAILOVER_ERRORS = (ConnectFailed, Disconnected)


class RasaClient:
    def __init__(self, base_url: Union[str, Sequence[str]], jwt_secret: str, timeout_seconds: float,
                 on_error: Optional[Callable[[RasaUnavailable], None]] = None) -> None:
        urls = [base_url] if isinstance(base_url, str) else list(base_url)
        self._on_error = on_error  # told of every failed call to a replica (the operators' metrics)
        self._bases = [url.rstrip("/") for url in urls]
        self._secret = jwt_secret
        self._timeout = timeout_seconds
        self._http: Optional[HttpClient] = None
        self._token: Optional[str] = None
        self._token_renew_at = dt.datetime.min.replace(tzinfo=dt.timezone.utc)

    async def open(self) -> None:
        # One pool of keep-alive connections for the process (liveagent/http_client.py).
        self._http = HttpClient()

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
            self._http = None

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

    def replicas(self, conversation_id: Optional[str] = None) -> List[str]:
        """The replicas in the order to try them: the conversation's own first."""
        start = zlib.crc32(conversation_id.encode()) % len(self._bases) if conversation_id else 0
        return self._bases[start:] + self._bases[:start]

    async def _post(self, path: str, body: Any, conversation_id: Optional[str] = None) -> Any:
        return await self._request("POST", path, body, conversation_id=conversation_id)

    async def _request(self, method: str, path: str, body: Any = None,
                       timeout: Optional[float] = None,
                       conversation_id: Optional[str] = None) -> Any:
        error: Optional[BaseException] = None
        for base in self.replicas(conversation_id):
            try:
                return await self._request_one(base, method, path, body, timeout)
            except RasaUnavailable as failure:
                error = failure
                if not isinstance(failure.__cause__, _FAILOVER_ERRORS):
                    break
                logger.warning("Rasa replica %s unreachable (%s); trying the next one",
                               base, type(failure.__cause__).__name__)
        assert error is not None
        raise error

    async def _request_one(self, base: str, method: str, path: str, body: Any,
                           timeout: Optional[float]) -> Any:
        try:
            return await self._call(base, method, path, body, timeout)
        except RasaUnavailable as error:
            expected = method == "DELETE" and error.status in _CANNOT_DELETE  # erase_tracker's fallback
            if self._on_error is not None and not expected:
                self._on_error(error)
            raise

    async def _call(self, base: str, method: str, path: str, body: Any, timeout: Optional[float]) -> Any:
        assert self._http is not None, "RasaClient.open() was not called"
        # Accept: Rasa's GET /domain answers 406 to anything but JSON or YAML (every other route is JSON)
        headers = {**self._auth(), "Accept": "application/json"}
        data = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            data = json.dumps(body).encode()
        try:
            response = await self._http.request(method, base, path, headers, data, timeout or self._timeout)
        except (HttpError, asyncio.TimeoutError) as error:
            raise RasaUnavailable(f"Rasa unreachable: {type(error).__name__}") from error
        if response.status >= 400:
            raise RasaUnavailable(f"Rasa answered {response.status} to {method} {path.split('/')[1]}",
                                  response.status)
        if response.status == 204 or not response.body:
            return None
        try:
            return json.loads(response.body)
        except ValueError as error:
            raise RasaUnavailable(f"Rasa answered {method} {path.split('/')[1]} with no JSON") from error

    async def tracker_events(self, conversation_id: str) -> List[Dict[str, Any]]:
        """Every event of the conversation (what the bot understood, with confidences)."""
        tracker = await self._request("GET", f"/conversations/{quote(conversation_id, safe='')}/tracker",
                                      conversation_id=conversation_id)
        return list((tracker or {}).get("events") or [])

    async def parse(self, text: str, conversation_id: Optional[str] = None) -> Dict[str, Any]:
        """What the loaded model makes of ``text`` (``POST /model/parse``): intent ranking and the FAQ
        topics' ranking (``response_selector``). Nothing is stored in any conversation."""
        return dict(await self._post("/model/parse", {"text": text}, conversation_id) or {})

    async def domain(self) -> Dict[str, Any]:
        """The loaded model's domain (``GET /domain``): its responses are the bot's answers."""
        return dict(await self._request("GET", "/domain") or {})

    async def load_model(self, model_path: str, timeout_seconds: float = 300.0) -> None:
        """Have every Rasa replica answer with the model file at ``model_path`` (a path on Rasa's machine).

        Rasa keeps answering with the old model until the new one is loaded (rasa_runtime/model_loading.py).
        The replicas load one after the other, so at least one keeps serving at full speed.
        """
        for base in self._bases:
            await self._request_one(base, "PUT", "/model", {"model_file": model_path}, timeout_seconds)

    async def send(self, conversation_id: str, text: str, metadata: Dict[str, Any]) -> List[Dict[str, Any]]:
        """A visitor message through the REST channel; returns Rasa's bot messages."""
        messages = await self._post(
            "/webhooks/rest/webhook", {"sender": conversation_id, "message": text, "metadata": metadata},
            conversation_id,
        )
        return list(messages or [])

    async def append_events(self, conversation_id: str, events: List[Dict[str, Any]]) -> None:
        await self._post(f"/conversations/{quote(conversation_id, safe='')}/tracker/events", events, conversation_id)

    async def erase_tracker(self, conversation_id: str) -> bool:
        """Erasure: delete everything Rasa stores about the conversation (``DELETE .../tracker``,
        rasa_runtime/erasure.py; the conversation's replica first). True when Rasa deleted it.

        A Rasa that cannot delete from its tracker store answers 501 (one without rasa_runtime: 405).
        Then the tracker's events are replaced with none instead (``PUT .../tracker/events``), which
        empties Rasa's in-memory, Redis and DynamoDB stores but not its SQL or Mongo ones, and False
        is returned: the caller reads the tracker back (liveagent/retention.py).
        """
        path = f"/conversations/{quote(conversation_id, safe='')}/tracker"
        try:
            await self._request("DELETE", path, conversation_id=conversation_id)
            return True
        except RasaUnavailable as error:
            if error.status not in _CANNOT_DELETE:
                raise
        await self._request("PUT", f"{path}/events", [], conversation_id=conversation_id)
        return False

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
        # Rasa cannot build a user event without parse_data; no intent: nobody parsed it.
        parse_data = {"text": text, "intent": {}, "entities": []}
        await self.append_events(
            conversation_id, [{"event": "user", "text": text, "parse_data": parse_data, "metadata": metadata}]
        )

    async def record_agent_message(self, conversation_id: str, text: str, agent_name: str) -> None:
        """Keep the Rasa transcript whole: the agent's reply as a bot event marked as human."""
        await self.append_events(
            conversation_id, [{"event": "bot", "text": text, "metadata": {"human_agent": agent_name}}]
        )
