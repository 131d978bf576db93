"""Supervisor API: the insights, agents' capacity, the floor and moving chats, the audit log and per-visitor
erasure (docs/metrics.md, docs/security.md, docs/agent-api.md)."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any, Dict, List, Optional
from zoneinfo import ZoneInfo

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json, text

from liveagent import auditing, copy
from liveagent.auth import error
from liveagent.blueprints.agent_api import acted, agent_json, refusals_answered, target_agent
from liveagent.conversations import CHAT_ROLES
from liveagent.insights import BadPeriod, daily_csv, insights_json, parse_period
from liveagent.retention import ErasureFailed, erase
from liveagent.roles import Chat, Right, requires
from liveagent.store.agents import MAX_CAPACITY
from liveagent.store.audit import MAX_PAGE, AuditEntry
from liveagent.store.schema import REPORTING_ZONE
from liveagent.validation import row_id, storable

bp = Blueprint("supervisor_api", url_prefix="/api/agent")
ACTIVE_STATES = ("waiting", "assigned")
FORMATS = ("json", "csv")


@bp.get("/insights")
@requires(Right.SUPERVISE)
async def insights(request: Request) -> HTTPResponse:
    """The figures of docs/metrics.md for ``?from=YYYY-MM-DD&to=YYYY-MM-DD`` (conversations by the day the
    visitor first wrote) and the previous period of the same length; ``?format=csv``: the daily series."""
    args = request.get_args(keep_blank_values=True)
    query = {name: args.get(name) for name in ("from", "to", "format")}
    output = "json" if query["format"] is None else query["format"]
    if output not in FORMATS:
        return error(400, "bad_format")
    today = dt.datetime.now(ZoneInfo(REPORTING_ZONE)).date()
    try:
        period = parse_period(query, today)
    except BadPeriod as refused:
        return error(400, refused.code)
    store = request.app.ctx.store
    headers = {"Cache-Control": "no-store"}
    if output == "csv":
        current = await store.insights.period(period.first, period.last)
        filename = f"lumo-insights-{period.first.isoformat()}-{period.last.isoformat()}.csv"
        headers["Content-Disposition"] = f'attachment; filename="{filename}"'
        return text(daily_csv(current), headers=headers, content_type="text/csv; charset=utf-8")
    before = period.previous()
    # two connections: PostgreSQL answers the two periods on two cores (bench/insights.py)
    current, previous = await asyncio.gather(store.insights.period(period.first, period.last),
                                             store.insights.period(before.first, before.last))
    return json(insights_json(period, current, previous), headers=headers)


def entry_json(entry: AuditEntry) -> Dict[str, Any]:
    return {"id": entry.id, "created_at": entry.created_at.isoformat(),
            "actor": {"id": entry.actor_id, "username": entry.actor_username} if entry.actor_username else None,
            "action": entry.action, "target": entry.target, "detail": entry.detail or {},
            "client_address": entry.client_address}


def _int_arg(request: Request, name: str, default: Optional[int]) -> Optional[int]:
    raw = request.get_args(keep_blank_values=True).get(name)  # "?before=" answers 400, like "?before=x"
    if raw is None:
        return default
    value = int(raw)  # ValueError: the caller answers 400
    if not row_id(value):
        raise ValueError(name)
    return value


@bp.put("/agents/<agent_id:int>/capacity")
@requires(Right.SUPERVISE)
async def capacity(request: Request, agent_id: int) -> HTTPResponse:
    """How many chats the agent holds at once (0-20). More room is filled from the queue at once in
    automatic mode; less takes no chat away."""
    try:
        data = request.json if request.body else None
    except Exception:  # noqa: BLE001 - malformed JSON
        data = None
    value = data.get("capacity") if isinstance(data, dict) else None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_CAPACITY:
        return error(400, "capacity_invalid")
    agent = await request.app.ctx.store.agents.get(agent_id) if row_id(agent_id) else None
    if agent is None or agent.role not in CHAT_ROLES:
        return error(404, "agent_not_found")
    updated = await request.app.ctx.service.set_capacity(agent, value)
    await auditing.record(request, "agent.capacity", f"agent:{agent.id}", {"from": agent.capacity, "to": value})
    return json(agent_json(updated))


@bp.get("/floor")
@requires(Right.SUPERVISE)
async def floor(request: Request) -> HTTPResponse:
    """The floor (liveagent/floor.py): agents, their load and chats, the queue; the ``floor`` event keeps
    a console's copy current."""
    return json(await request.app.ctx.service.floor.snapshot(), headers={"Cache-Control": "no-store"})


@bp.post("/conversations/<conversation_id:str>/reassign")
@requires(Right.SUPERVISE, chat=Chat.MOVE)
@refusals_answered
async def reassign(request: Request, conversation_id: str) -> HTTPResponse:
    """A supervisor moves a chat (held by an agent, or waiting) to another agent who is online and has room."""
    to_agent = target_agent(request)
    if to_agent is None:
        return error(400, "bad_request")
    conversation = await request.app.ctx.service.reassign(request.ctx.conversation, request.ctx.agent, to_agent)
    return await acted(request, conversation, "conversation.reassign", {"to_agent_id": to_agent})


@bp.get("/audit")
@requires(Right.SUPERVISE)
async def audit(request: Request) -> HTTPResponse:
    """Newest first; ``?before=<id>`` continues after the last entry of the previous page."""
    try:
        limit = min(_int_arg(request, "limit", 50) or 50, MAX_PAGE)
        before = _int_arg(request, "before", None)
    except ValueError:
        return error(400, "bad_request")
    action = request.args.get("action") or None
    target = request.args.get("target") or None
    entries = await request.app.ctx.store.audit.entries(limit=limit, before_id=before, action=action, target=target)
    return json({"entries": [entry_json(e) for e in entries],
                 "next_before": entries[-1].id if len(entries) == limit else None})


def _subject(data: Dict[str, Any]) -> Optional[tuple]:
    """("conversation_id" | "customer_id", value) from a body with exactly one of them."""
    given = [(key, data.get(key)) for key in ("conversation_id", "customer_id") if data.get(key) is not None]
    if len(given) != 1:
        return None
    key, value = given[0]
    if not isinstance(value, str) or not value.strip() or len(value) > 128 or not storable(value):
        return None
    return key, value.strip()


@bp.post("/erasure")
@requires(Right.SUPERVISE)
async def erasure(request: Request) -> HTTPResponse:
    """Everything stored about one visitor, in the service and in Rasa's trackers."""
    try:
        data = request.json if request.body else None
    except Exception:  # noqa: BLE001 - malformed JSON
        data = None
    subject = _subject(data) if isinstance(data, dict) else None
    if subject is None:
        return error(400, "bad_request")
    kind, value = subject
    store = request.app.ctx.store
    if kind == "conversation_id":
        ids: List[str] = [value]
    else:
        ids = await store.retention.conversations_of_customer(value)
    for conversation_id in ids:
        found = await store.conversations.find(conversation_id)
        if found is not None and found.state in ACTIVE_STATES:
            return error(409, "erasure_active")
    detail: Dict[str, Any] = {"by": kind,
                              "subject": auditing.subject_digest(request.app.ctx.settings.session_secret, kind, value)}
    try:
        result = await erase(store, request.app.ctx.rasa, ids)
    except ErasureFailed:
        await auditing.record(request, "erasure", None, {**detail, "outcome": "rasa_unreachable"})
        return error(502, "erasure_rasa_failed")
    await auditing.record(request, "erasure", None,
                          {**detail, "outcome": "complete" if result.complete else "rasa_kept_text", **result.counts()})
    return json({"complete": result.complete,
                 "message": copy.text("erasure.done" if result.complete else "erasure.rasa_remaining"),
                 "deleted": result.counts(), "rasa_remaining": result.rasa_remaining})
