"""The operators' metrics: ``GET /metrics`` in Prometheus' text format (liveagent/metrics.py, docs/deploy.md).

Not public: only a request with ``Authorization: Bearer <LIVEAGENT_METRICS_TOKEN>`` gets an answer
(compared in constant time); anything else, and every request while the token is unset, gets 401.
"""

from __future__ import annotations

import datetime as dt
import hmac

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, raw, text

from liveagent.metrics import CONTENT_TYPE
from liveagent.roles import bearer_token

bp = Blueprint("metrics")
TOKEN_SETTING = "LIVEAGENT_METRICS_TOKEN"


def authorized(request: Request) -> bool:
    token = request.app.ctx.settings.metrics_token
    if not token:
        return False
    given = request.headers.get("authorization", "")
    return hmac.compare_digest(given.encode("utf-8", "surrogatepass"), f"Bearer {token}".encode())


@bp.get("/metrics")
@bearer_token(TOKEN_SETTING, "Prometheus scrapes it with a bearer token; it shows counts, never a conversation")
async def metrics(request: Request) -> HTTPResponse:
    if not authorized(request):
        return text("401 Unauthorized: send Authorization: Bearer <LIVEAGENT_METRICS_TOKEN>\n", status=401,
                    headers={"WWW-Authenticate": 'Bearer realm="lumo-metrics"'})
    ctx = request.app.ctx
    await ctx.metrics.refresh(ctx.store, ctx.visitor_sockets.total(), dt.datetime.now(dt.timezone.utc))
    return raw(ctx.metrics.exposition(), content_type=CONTENT_TYPE, headers={"Cache-Control": "no-store"})
