"""Suggested answers (issue 16): the bot's best FAQ answers for the open chat, a reply sent from one,
and for content editors the topics whose answers agents sent after a handoff (docs/agent-api.md,
"Suggested answers"; docs/editor-api.md).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Dict, Optional, Union

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json

from liveagent.auth import error
from liveagent.roles import Chat, Right, requires
from liveagent.store.records import ReplySuggestion
from liveagent.suggestions import SuggestionsUnavailable
from liveagent.validation import row_id

bp = Blueprint("assist_api")
DEFAULT_DAYS, MAX_DAYS = 30, 366


@bp.get("/api/agent/conversations/<conversation_id:str>/suggestions")
@requires(Right.HANDLE_CHATS, chat=Chat.SEE)
async def suggestions(request: Request, conversation_id: str) -> HTTPResponse:
    """Up to three FAQ answers to the visitor's newest question, best first; 503 while Rasa is down."""
    try:
        found = await request.app.ctx.suggestions.for_conversation(conversation_id)
    except SuggestionsUnavailable:
        return error(503, "suggestions_unavailable")
    return json(found)


async def suggestion_of(request: Request, data: Dict[str, Any],
                        conversation_id: str) -> Union[None, ReplySuggestion, HTTPResponse]:
    """The suggestion a reply says it was sent from (``suggestion_id`` in its body): None without one,
    the error response when it names no suggestion shown in this conversation."""
    if "suggestion_id" not in data or data["suggestion_id"] is None:
        return None
    suggestion_id = data["suggestion_id"]
    if not row_id(suggestion_id):
        return error(400, "unknown_suggestion")
    found = await request.app.ctx.store.suggestions.find(suggestion_id, conversation_id)
    return found if found is not None else error(400, "unknown_suggestion")


def suggestion_payload(suggestion: Optional[ReplySuggestion]) -> Optional[Dict[str, Any]]:
    """What the reply's stored message carries of the suggestion it came from."""
    return None if suggestion is None else {"suggestion": {"id": suggestion.id, "topic": suggestion.topic}}


@bp.get("/api/editor/suggested-topics")
@requires(Right.EDIT_CONTENT)
async def suggested_topics(request: Request) -> HTTPResponse:
    """Topics the bot knew but the visitor still wanted a person for: an agent sent the topic's suggested
    answer after a handoff (``?days=`` 1-366, default 30). Counts only: no conversation's text."""
    raw = request.args.get("days", str(DEFAULT_DAYS))
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_DAYS:
        return error(400, "bad_days")
    days = int(raw)
    since = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=days)
    used = await request.app.ctx.store.suggestions.topics_used(since)
    titles = request.app.ctx.suggestions.titles
    described = await titles.describe([u.topic for u in used]) if titles else [{"title": u.topic} for u in used]
    return json({"days": days, "topics": [
        {"topic": u.topic, "title": d["title"], "conversations": u.conversations, "replies": u.replies,
         "edited": u.edited} for u, d in zip(used, described, strict=True)]})
