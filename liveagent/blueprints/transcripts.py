"""Transcripts (issue 16): a conversation as a Finnish text or HTML file (liveagent/transcripts.py).

- Agents and supervisors: ``GET /api/agent/conversations/{id}/transcript?format=html|text``, for any
  conversation they may see (liveagent/roles.py ``Chat.SEE``), audited.
- The visitor: ``POST /api/visitor/transcript`` with their signed session token in the JSON body (never
  in the address, and never a bare conversation id), plus the website's identity token when the session
  is a logged-in customer's: the same rules as the widget's ``session_request`` (liveagent/sessions.py).
  The widget runs on the websites of ``LIVEAGENT_ALLOWED_ORIGINS``, so the route answers their CORS
  preflight; another origin is refused.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Dict, Optional, Sequence

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, empty, text

from liveagent import auditing, transcripts
from liveagent.addresses import request_address
from liveagent.auth import error
from liveagent.roles import Chat, Right, public, requires
from liveagent.sessions import ANONYMOUS, SessionSigner
from liveagent.store import Message
from liveagent.visitor import identity_token
from lumo_shared.identity import verify_token

bp = Blueprint("transcripts")
VISITOR_PATH = "/api/visitor/transcript"


def _format(value: Any) -> Optional[str]:
    value = "html" if value is None else value
    return value if value in transcripts.FORMATS else None


async def _agent_names(request: Request, messages: Sequence[Message]) -> Dict[int, str]:
    views = request.app.ctx.service.views
    names = {}
    for agent_id in {m.agent_id for m in messages if m.sender == "agent" and m.agent_id is not None}:
        name = await views.agent_name(agent_id)
        if name:
            names[agent_id] = name
    return names


async def _file(request: Request, conversation_id: str, kind: str, *, for_visitor: bool) -> HTTPResponse:
    now = dt.datetime.now(dt.timezone.utc)
    messages = await request.app.ctx.store.messages.transcript(conversation_id, visible_to="visitor")
    body = transcripts.render(messages, await _agent_names(request, messages), kind, for_visitor=for_visitor,
                              conversation_id=None if for_visitor else conversation_id, now=now)
    extension, content_type = transcripts.FORMATS[kind]
    name = transcripts.filename(messages, extension, now)
    return text(body, content_type=content_type, headers={
        "Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})


@bp.get("/api/agent/conversations/<conversation_id:str>/transcript")
@requires(Right.HANDLE_CHATS, chat=Chat.SEE)
async def agent_transcript(request: Request, conversation_id: str) -> HTTPResponse:
    kind = _format(request.args.get("format"))
    if kind is None:
        return error(400, "transcript_format")
    await auditing.record(request, "conversation.transcript", f"conversation:{conversation_id}", {"format": kind})
    return await _file(request, conversation_id, kind, for_visitor=False)


def _cors(request: Request, response: HTTPResponse) -> HTTPResponse:
    origin = request.headers.get("origin")
    if origin is not None:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Expose-Headers"] = "Content-Disposition"
    response.headers["Vary"] = "Origin"
    return response


def _origin_allowed(request: Request) -> bool:
    """A browser's Origin is one of the websites the widget may run on (tools send none)."""
    origin = request.headers.get("origin")
    return origin is None or origin.rstrip("/") in request.app.ctx.settings.allowed_origins


@bp.options(VISITOR_PATH)
@public("the CORS preflight of the visitor's transcript: answers only the widget's allowed origins")
async def visitor_transcript_preflight(request: Request) -> HTTPResponse:
    if not _origin_allowed(request):
        return error(403, "widget_origin_not_allowed")
    response = empty()
    response.headers.update({"Access-Control-Allow-Methods": "POST", "Access-Control-Allow-Headers": "Content-Type",
                             "Access-Control-Max-Age": "600"})
    return _cors(request, response)


@bp.post(VISITOR_PATH)
@public("the visitor's own conversation: identified only by their signed session token (and the identity "
        "token of a logged-in customer), rate-limited per address, notes never included")
async def visitor_transcript(request: Request) -> HTTPResponse:
    if not _origin_allowed(request):
        return error(403, "widget_origin_not_allowed")
    if not await request.app.ctx.limits.allow("session", request_address(request)):
        return _cors(request, error(429, "too_many_requests"))
    try:
        data = request.json if request.body else None
    except Exception:  # noqa: BLE001 - malformed JSON
        data = None
    if not isinstance(data, dict):
        return _cors(request, error(400, "bad_request"))
    kind = _format(data.get("format"))
    if kind is None:
        return _cors(request, error(400, "transcript_format"))
    settings = request.app.ctx.settings
    signer = SessionSigner(settings.session_secret, settings.visitor_session_hours * 3600)
    session = signer.read(data.get("session_id"))
    if session is None:
        return _cors(request, error(404, "transcript_session"))
    if session.binding != ANONYMOUS:  # a logged-in customer's chat: only with that customer's own token
        token = identity_token(data.get("auth_token"))
        identity = verify_token(token, settings.identity) if token else None
        if identity is None or signer.verify(data.get("session_id"), identity.customer_id) is None:
            return _cors(request, error(404, "transcript_session"))
    if await request.app.ctx.store.conversations.find(session.conversation_id) is None:
        return _cors(request, error(404, "transcript_empty"))
    return _cors(request, await _file(request, session.conversation_id, kind, for_visitor=True))
