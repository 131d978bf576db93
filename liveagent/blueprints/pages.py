"""Pages and small public endpoints: the demo site, the consoles, availability, the API description,
demo tokens."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any, Dict

import yaml
from sanic import Blueprint, Request
from sanic.response import HTTPResponse, file, json

from liveagent.auth import error
from liveagent.roles import public
from lumo_shared.identity import issue_token

STATIC = Path(__file__).resolve().parent.parent / "static"
OPENAPI = Path(__file__).resolve().parent.parent / "openapi.yml"
bp = Blueprint("pages")
DEMO_CUSTOMERS = {f"LUMO-100{n}" for n in range(1, 7)}


@bp.get("/")
@public("the demo website")
async def index(request: Request) -> HTTPResponse:
    return await file(STATIC / "index.html", mime_type="text/html; charset=utf-8")


@bp.get("/agent")
@public("the console page; its data comes from the agent API, which checks the session")
async def agent_console(request: Request) -> HTTPResponse:
    return await file(STATIC / "agent.html", mime_type="text/html; charset=utf-8")


@bp.get("/editor")
@public("the editor page; its data comes from the editor API, which checks the session")
async def editor_view(request: Request) -> HTTPResponse:
    return await file(STATIC / "editor.html", mime_type="text/html; charset=utf-8")


@bp.get("/health")
@public("liveness for the load balancer; says nothing but ok")
async def health(request: Request) -> HTTPResponse:
    return json({"status": "ok"})


@bp.get("/api/availability")
@public("whether a human can take a chat now: what the widget may tell any visitor")
async def availability(request: Request) -> HTTPResponse:
    """Whether a human can take a chat now (used by the escalation action)."""
    result = await request.app.ctx.service.availability()
    return json(result.to_json())


@functools.lru_cache(maxsize=1)
def api_description() -> Dict[str, Any]:
    """liveagent/openapi.yml, read once: the checked-in description of every /api route."""
    return yaml.safe_load(OPENAPI.read_text(encoding="utf-8"))


@bp.get("/api/openapi.json")
@public("the API's description (liveagent/openapi.yml): the same for everyone, no data in it")
async def openapi(request: Request) -> HTTPResponse:
    return json(api_description())


@bp.post("/demo/token")
@public("demo mode only (404 otherwise): tokens for fictional demo customers")
async def demo_token(request: Request) -> HTTPResponse:
    """The demo website's login: a signed token for a FICTIONAL demo customer (demo mode only)."""
    settings = request.app.ctx.settings
    demo = settings.demo and settings.demo_token_endpoint
    identity = settings.identity
    if not demo or not identity.jwt_keys or not identity.jwt_algorithm.startswith("HS"):
        return error(404, "not_found")
    data = request.json if request.body else None
    customer = data.get("customer_id") if isinstance(data, dict) else None
    if customer not in DEMO_CUSTOMERS:
        return error(400, "bad_request")
    token = issue_token(customer, identity.jwt_keys[0], identity.jwt_algorithm, identity.jwt_audience,
                        identity.jwt_issuer)
    return json({"token": token})
