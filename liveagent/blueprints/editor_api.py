"""Editor API: topics, examples and answers, the change log, the missed-messages inbox, publishing.

Every route needs the right edit_content (editors and supervisors, liveagent/roles.py); changes need
the CSRF header. Content errors come back as 400/404/409 with a Finnish ``message`` (and the ``field``
it is about).
"""

from __future__ import annotations

import asyncio
from functools import wraps
from typing import Any, Callable, Dict, List, Optional

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json

from content.repository import ContentError, Topic, TopicNotFound, VersionConflict
from liveagent import auditing
from liveagent.auth import error
from liveagent.editor import MISSED_ORDERS, USAGE_DAYS, RunInProgress, run_json
from liveagent.roles import Right, requires
from liveagent.validation import row_id
from lumo_shared.privacy import mask_personal_data

bp = Blueprint("editor_api", url_prefix="/api/editor")
MAX_IDS = 1000


def body(request: Request) -> Dict[str, Any]:
    try:
        data = request.json if request.body else None
    except Exception:  # noqa: BLE001 - malformed JSON
        return {}
    return data if isinstance(data, dict) else {}


def content_errors(handler: Callable) -> Callable:
    """ContentError -> JSON with the editor's Finnish message; bad field types -> 400."""

    @wraps(handler)
    async def wrapper(request: Request, *args: Any, **kwargs: Any) -> HTTPResponse:
        try:
            return await handler(request, *args, **kwargs)
        except (TypeError, KeyError):
            return error(400, "bad_request")
        except ContentError as failure:
            status = 404 if isinstance(failure, TopicNotFound) else 409 if isinstance(failure, VersionConflict) else 400
            return json({"error": "content", "message": failure.message, "field": failure.field}, status=status)

    return wrapper


def topic_json(topic: Topic, full: bool = True) -> Dict[str, Any]:
    data = {"name": topic.name, "title": topic.title, "path": topic.path, "examples_count": len(topic.examples),
            "answer": topic.answer}
    if full:
        data.update(examples=topic.examples, example_question=topic.example_question, comment=topic.comment,
                    buttons=topic.buttons, version=topic.version)
    return data


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError("expected text")
    return value


def _texts(value: Any) -> List[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise TypeError("expected a list of texts")
    return value


def _ids(value: Any) -> List[int]:
    """A list of row ids (null, 0 or "" are not an empty list: the client sent something else)."""
    if not isinstance(value, list) or len(value) > MAX_IDS or not all(
        row_id(v) for v in value
    ):
        raise TypeError("expected a list of ids")
    return value


@bp.get("/topics")
@requires(Right.EDIT_CONTENT)
async def topics(request: Request) -> HTTPResponse:
    """The topics, each with its bot answers and the visitors' feedback on them in the last 30 days."""
    editor = request.app.ctx.editor
    listed = await asyncio.to_thread(editor.repository.topics)
    usage = await editor.topic_usage()
    empty = {"answers": 0, "rated": 0, "helpful": 0, "helpful_rate": None}
    return json({"topics": [{**topic_json(t, full=False), "last_30_days": usage.get(t.name, empty)} for t in listed],
                 "usage_days": USAGE_DAYS})


@bp.get("/topics/<name>")
@requires(Right.EDIT_CONTENT)
@content_errors
async def topic(request: Request, name: str) -> HTTPResponse:
    editor = request.app.ctx.editor
    found = await asyncio.to_thread(editor.repository.topic, name)
    return json({"topic": topic_json(found), "changes": await named_changes(request, topic=name, limit=20)})


@bp.put("/topics/<name>/answer")
@requires(Right.EDIT_CONTENT)
@content_errors
async def update_answer(request: Request, name: str) -> HTTPResponse:
    data = body(request)
    title = data.get("title")
    result = await request.app.ctx.editor.update_answer(
        request.ctx.agent, name, _text(data["text"]), _text(data["version"]),
        _text(title) if title is not None else None)
    await auditing.record(request, "content.answer", f"topic:{name}", {"summary": result["summary"]})
    return json(result)


@bp.post("/topics/<name>/examples")
@requires(Right.EDIT_CONTENT)
@content_errors
async def add_examples(request: Request, name: str) -> HTTPResponse:
    data = body(request)
    examples, missed_ids = _texts(data["examples"]), _ids(data.get("missed_ids", []))
    result = await request.app.ctx.editor.add_examples(
        request.ctx.agent, name, examples, _text(data["version"]), missed_ids)
    await auditing.record(request, "content.examples_added", f"topic:{name}",
                          {"count": len(examples), "summary": result["summary"]})
    await _missed_added(request, name, missed_ids)
    return json(result)


@bp.post("/topics/<name>/examples/remove")
@requires(Right.EDIT_CONTENT)
@content_errors
async def remove_example(request: Request, name: str) -> HTTPResponse:
    data = body(request)
    result = await request.app.ctx.editor.remove_example(
        request.ctx.agent, name, _text(data["example"]), _text(data["version"]))
    await auditing.record(request, "content.example_removed", f"topic:{name}", {"summary": result["summary"]})
    return json(result)


@bp.post("/topics")
@requires(Right.EDIT_CONTENT)
@content_errors
async def create_topic(request: Request) -> HTTPResponse:
    data = body(request)
    name, missed_ids = _text(data["name"]), _ids(data.get("missed_ids", []))
    result = await request.app.ctx.editor.create_topic(
        request.ctx.agent, name, _text(data["title"]), _text(data["answer"]), _texts(data["examples"]), missed_ids)
    await auditing.record(request, "content.topic_created", f"topic:{name}", {"summary": result["summary"]})
    await _missed_added(request, name, missed_ids)
    return json(result, status=201)


async def _missed_added(request: Request, topic: str, missed_ids: List[int]) -> None:
    if missed_ids:
        await auditing.record(request, "missed.added", f"topic:{topic}", {"ids": missed_ids[:100],
                                                                         "count": len(missed_ids)})


def change_json(change: Any) -> Dict[str, Any]:
    return {"id": change.id, "topic": change.topic, "path": change.path, "summary": change.summary,
            "diff": change.diff, "agent_id": change.agent_id, "created_at": change.created_at.isoformat()}


async def named_changes(request: Request, topic: Optional[str] = None, limit: int = 100) -> List[Dict[str, Any]]:
    store = request.app.ctx.store
    names = {agent.id: agent.display_name for agent in await store.agents.list()}
    listed = await store.content.changes(topic=topic, limit=limit)
    return [{**change_json(c), "agent_name": names.get(c.agent_id)} for c in listed]


@bp.get("/changes")
@requires(Right.EDIT_CONTENT)
async def changes(request: Request) -> HTTPResponse:
    return json({"changes": await named_changes(request)})


@bp.get("/findings")
@requires(Right.EDIT_CONTENT)
async def findings(request: Request) -> HTTPResponse:
    return json({"findings": await request.app.ctx.editor.findings()})


@bp.get("/missed")
@requires(Right.EDIT_CONTENT)
async def missed(request: Request) -> HTTPResponse:
    """Open missed messages in groups of similar ones; ``?sort=frequent`` (the default: the most often
    missed first) or ``newest`` (the group missed most recently first)."""
    order = request.get_args(keep_blank_values=True).get("sort", "frequent")  # "?sort=" is refused, not the default
    if order not in MISSED_ORDERS:
        return error(400, "bad_sort")
    groups = await request.app.ctx.editor.missed_groups(order)
    for group in groups:  # stored masked already; masked again here so no path can skip it
        group["representative"] = mask_personal_data(group["representative"])
        group["texts"] = [mask_personal_data(text) for text in group["texts"]]
    return json({"groups": groups})


@bp.post("/missed/dismiss")
@requires(Right.EDIT_CONTENT)
@content_errors
async def dismiss(request: Request) -> HTTPResponse:
    ids = _ids(body(request)["ids"])
    count = await request.app.ctx.editor.dismiss(request.ctx.agent, ids)
    await auditing.record(request, "missed.dismissed", None, {"ids": ids[:100], "count": count})
    return json({"dismissed": count})


@bp.get("/answered")
@requires(Right.EDIT_CONTENT)
async def answered(request: Request) -> HTTPResponse:
    """Closed agent chats: the visitor's question and the agent's answer, to start a draft topic from.

    Editors see them with personal data masked; the agents who handled the chat saw the real text."""
    found = await request.app.ctx.store.content.answered_questions()
    return json({"answered": [{"conversation_id": a.conversation_id, "question": mask_personal_data(a.question),
                               "answer": mask_personal_data(a.answer), "closed_at": a.closed_at.isoformat()}
                              for a in found]})


@bp.get("/runs")
@requires(Right.EDIT_CONTENT)
async def runs(request: Request) -> HTTPResponse:
    return json(await request.app.ctx.editor.runs())


async def _start(request: Request, kind: str) -> HTTPResponse:
    try:
        run = await request.app.ctx.editor.start_publish(request.ctx.agent, kind)
    except RunInProgress:
        return error(409, "run_in_progress")
    await auditing.record(request, kind, f"run:{run.id}")
    return json({"run": run_json(run)}, status=202)


@bp.post("/publish")
@requires(Right.EDIT_CONTENT)
async def publish(request: Request) -> HTTPResponse:
    return await _start(request, "publish")


@bp.post("/rollback")
@requires(Right.EDIT_CONTENT)
async def rollback(request: Request) -> HTTPResponse:
    return await _start(request, "rollback")
