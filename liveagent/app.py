"""create_app(settings) -> Sanic: the live-agent service, wired together in one place.

Everything is registered when the app is built: routes, the visitor's Socket.IO handlers (they reach
the service through ``app.ctx`` when an event comes), middleware and error handlers. Only what needs the
running loop opens in ``before_server_start`` and closes in ``after_server_stop``: the database, the
HTTP session to Rasa, Redis, and the services built on them. Nothing connects at import time.

The store, the Rasa client and the agent hub can be passed in (tests pass fakes, or real ones they
open themselves); what is passed in is the caller's to open and close.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from pathlib import Path
from typing import Any, Optional

import socketio
from sanic import Sanic
from sanic.exceptions import InvalidUsage, MethodNotSupported, NotFound, PayloadTooLarge
from sanic.handlers import ErrorHandler
from sanic.response import HTTPResponse

from liveagent.auth import error, session_middleware
from liveagent.blueprints import (
    agent_api,
    agent_ws,
    assist_api,
    editor_api,
    metrics,
    pages,
    supervisor_api,
    transcripts,
)
from liveagent.conversations import ConversationService
from liveagent.editor import EditorService
from liveagent.fanout import RedisAgentHub, RedisLease, RedisSocketManager, fanout_key
from liveagent.hours import ServiceCalendar
from liveagent.hub import AgentHub
from liveagent.login_backoff import LoginBackoff
from liveagent.metrics import ServiceMetrics
from liveagent.rasa_client import RasaClient
from liveagent.ratelimit import RateLimits
from liveagent.retention import RetentionSchedule
from liveagent.roles import check_declared, declare_public
from liveagent.settings import Settings
from liveagent.store import Store
from liveagent.suggestions import SuggestedAnswers
from liveagent.visitor import register_visitor_handlers

logger = logging.getLogger(__name__)
STATIC = Path(__file__).resolve().parent / "static"
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")


def create_app(settings: Settings, name: str = "liveagent", store: Optional[Store] = None,
               rasa: Optional[RasaClient] = None, hub: Optional[AgentHub] = None) -> Sanic:
    # The process configures logging once (liveagent/__main__.py configure_logging): Sanic's own
    # dictConfig would add a second handler per Sanic logger (every error line twice) and set them to INFO.
    app = Sanic(name, error_handler=ClientGoneErrors(), configure_logging=False)
    app.config.REQUEST_MAX_SIZE = settings.request_max_bytes
    app.config.WEBSOCKET_MAX_SIZE = settings.request_max_bytes
    app.ctx.settings = settings
    # Several replicas share visitor and agent events through Redis (liveagent/fanout.py).
    # Payloads there are signed with a key derived from LIVEAGENT_SECRET; others are dropped.
    key = fanout_key(settings.session_secret)
    manager = RedisSocketManager(settings.redis_url, key) if settings.redis_url else None
    own_hub = hub is None
    app.ctx.hub = hub or (RedisAgentHub(settings.redis_url, key) if settings.redis_url else AgentHub())
    sio = socketio.AsyncServer(async_mode="sanic", cors_allowed_origins=list(settings.allowed_origins),
                               max_http_buffer_size=settings.request_max_bytes, client_manager=manager)
    attach_socketio(app, sio)
    app.ctx.sio = sio
    app.ctx.metrics = service_metrics = ServiceMetrics()  # this replica's, in a registry of its own
    # app.ctx.service and .limits exist once started
    app.ctx.visitor_sockets = register_visitor_handlers(
        sio, app.ctx, settings, on_error=lambda event: service_metrics.socketio_errors.labels(event).inc())

    async def emit(event: str, data: Any, room: str) -> None:
        await sio.emit(event, data, room=room)

    app.blueprint(pages.bp)
    app.blueprint(agent_api.bp)
    app.blueprint(agent_ws.bp)
    app.blueprint(editor_api.bp)
    app.blueprint(supervisor_api.bp)
    app.blueprint(metrics.bp)
    app.blueprint(assist_api.bp)
    app.blueprint(transcripts.bp)
    app.static("/static", str(STATIC), name="static")
    declare_public(app, "socket.io", "the visitor channel: origin-checked, rate-limited, identity from verified tokens")
    declare_public(app, "static/<__file_uri__:path>", "the pages' scripts and styles")
    check_declared(app)  # every route decided who may use it (liveagent/roles.py)

    @app.before_server_start
    async def open_resources(app: Sanic, _loop: Any) -> None:
        app.ctx.store = store or await Store.open(settings.database_url)
        app.ctx.limits = RateLimits.for_settings(settings)
        app.ctx.login_backoff = LoginBackoff(app.ctx.store.logins, settings.session_secret)
        if manager is not None:
            sio.manager_initialized = True  # now, not at the first visitor: emits must fan out from the start
            manager.initialize()
            if own_hub:
                app.ctx.hub.start()
        if rasa is None:
            rasa_urls = settings.rasa_urls or (settings.rasa_url,)
            app.ctx.rasa = RasaClient(rasa_urls, settings.rasa_jwt_secret, settings.rasa_timeout_seconds,
                                      on_error=service_metrics.rasa_failed)
            await app.ctx.rasa.open()
        else:
            app.ctx.rasa = rasa
        app.ctx.retention = RetentionSchedule(app.ctx.store, app.ctx.rasa, settings.retention_days,
                                              audit_retention_days=settings.audit_retention_days)
        calendar = ServiceCalendar(settings.service_hours, settings.always_open)
        app.ctx.service = ConversationService(app.ctx.store, app.ctx.rasa, emit, app.ctx.hub, calendar, settings,
                                              service_metrics)
        app.ctx.suggestions = SuggestedAnswers(app.ctx.store, app.ctx.rasa, app.ctx.service.views.topics)
        if settings.demo and settings.demo_password:
            await ensure_demo_agents(app.ctx.store, settings.demo_password)
        recovered = await app.ctx.store.conversations.recover_on_start(dt.datetime.now(dt.timezone.utc))
        if recovered:
            logger.info("Returned %d chats of offline agents to the queue", recovered)
        await app.ctx.service.assign_waiting()  # automatic mode: agents online from before get waiting chats
        app.ctx.editor = EditorService(app.ctx.store, app.ctx.rasa, Path(settings.content_root),
                                       settings.harvest_idle_seconds)
        if settings.content_replica:  # publish runs cut off by a restart are this replica's own
            await app.ctx.editor.start()
        app.ctx.lease = RedisLease(settings.redis_url, "lumo:sweep") if settings.redis_url else None
        app.ctx.sweeper = asyncio.create_task(sweep(app))
        app.ctx.session_watch = asyncio.create_task(agent_ws.watch_sessions(app))

    @app.before_server_stop
    async def stop_socketio(app: Sanic, _loop: Any) -> None:
        await sio.shutdown()  # its background task ends before the server goes (python-socketio's advice)

    @app.after_server_stop
    async def close_resources(app: Sanic, _loop: Any) -> None:
        for task in (app.ctx.sweeper, app.ctx.session_watch):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await app.ctx.editor.stop()
        await app.ctx.service.floor.close()
        if app.ctx.lease is not None:
            await app.ctx.lease.close()
        if rasa is None:
            await app.ctx.rasa.close()
        await app.ctx.limits.close()
        if manager is not None:
            if own_hub:
                await app.ctx.hub.stop()
            await manager.close()
        if store is None:
            await app.ctx.store.close()

    app.register_middleware(session_middleware, "request")  # every request: is its agent session still live?

    @app.on_request
    async def editing_only_on_the_content_replica(request: Any) -> Optional[HTTPResponse]:
        if not settings.content_replica and request.path.startswith("/api/editor"):
            return error(503, "not_content_replica")
        return None

    @app.exception(PayloadTooLarge)
    async def too_large(request: Any, exception: Exception) -> HTTPResponse:
        return error(413, "too_large")

    @app.exception(NotFound, MethodNotSupported, InvalidUsage)
    async def api_errors(request: Any, exception: Exception) -> HTTPResponse:
        """The router's own refusals (no such path, a path parameter of the wrong type, another method,
        a body that is not JSON) answer the API's clients in the API's error shape (liveagent/openapi.yml)."""
        if not request.path.startswith("/api/"):
            return app.error_handler.default(request, exception)
        if isinstance(exception, NotFound):
            return error(404, "no_such_route")
        if isinstance(exception, MethodNotSupported):
            return error(405, "method_not_allowed")
        return error(400, "bad_request")

    @app.on_response
    async def count_response(request: Any, response: HTTPResponse) -> None:
        service_metrics.responded(response.status)  # the operators' lumo_http_* (errors too: Sanic's 500s)

    @app.on_response
    async def security_headers(request: Any, response: HTTPResponse) -> None:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if (response.content_type or "").startswith("text/html"):
            response.headers.setdefault("Content-Security-Policy", CSP)

    return app


def attach_socketio(app: Sanic, sio: socketio.AsyncServer) -> None:
    """The visitor channel's route: what ``sio.attach`` adds, without a failed answer per visitor socket.

    python-engineio's Sanic driver answers a websocket that has ended with an HTTP 200 as well. Sanic then
    writes that answer to a connection that is no longer HTTP, fails, and runs its error handler: once
    for every visitor socket that closed (about 3 % of the service's CPU per visitor message in
    bench/load.py, and a log line each). Here a websocket's route returns nothing once the socket has
    ended, as Sanic's own websocket routes do; long-polling and refused upgrades get engine.io's answer."""

    async def socketio_endpoint(request: Any) -> Optional[HTTPResponse]:
        protocol = request.transport.get_protocol()  # the connection's (the transport forgets it once closed)
        response = await sio.handle_request(request)
        if getattr(protocol, "websocket", None) is not None:
            return None  # the socket has ended; its closing handshake was its answer
        return response

    socketio_endpoint.is_websocket = True  # type: ignore[attr-defined] - Sanic: returning None is no error
    app.enable_websocket()
    app.add_route(socketio_endpoint, "/socket.io/", methods=["GET", "POST", "OPTIONS"])


class ClientGoneErrors(ErrorHandler):
    """Sanic's error handler, but a client that left while being answered is no server error.

    Sanic 21.12 raises from its own response writer when the connection closed under it (a visitor's
    websocket upgrade abandoned mid-handshake: ``'NoneType' object has no attribute 'is_closing'``)
    and logged it with a traceback, as if the service had failed. It is a line at INFO now; every other
    error is logged as Sanic logs it."""

    @staticmethod
    def log(request: Any, exception: Exception) -> None:
        transport = getattr(request, "transport", None)
        if transport is not None and transport.is_closing():
            logger.info("%s %s: the client left before its answer was sent (%s)", request.method, request.path,
                        type(exception).__name__)
            return
        ErrorHandler.log(request, exception)


DEMO_AGENTS = (("aino", "Aino", "agent"), ("ville", "Ville", "supervisor"), ("eeva", "Eeva", "editor"))


async def ensure_demo_agents(store: Store, password: str) -> None:
    """Demo mode: the three demo accounts exist (password from LIVEAGENT_DEMO_PASSWORD)."""
    existing = {agent.username for agent in await store.agents.list()}
    for username, name, role in DEMO_AGENTS:
        if username not in existing:
            with contextlib.suppress(ValueError):  # another replica, starting at the same time, made it
                await store.agents.create(username, name, password, role)


async def sweep(app: Sanic) -> None:
    """Periodic: auto-away for idle agents, the response-time limit, requeue of abandoned chats and
    automatic assignment (also a safety net for a replica that stopped between a change and its
    assignment), harvest of missed messages, the daily retention purge."""
    while True:
        await asyncio.sleep(app.ctx.settings.sweep_seconds)
        lease = app.ctx.lease  # several replicas: one sweeps at a time
        if lease is not None and not await lease.hold(app.ctx.settings.sweep_seconds * 3):
            continue
        try:
            now = dt.datetime.now(dt.timezone.utc)
            idle = dt.timedelta(seconds=app.ctx.settings.auto_away_seconds)
            for agent in await app.ctx.store.agents.list(online_only=True):
                if agent.last_seen_at is not None and now - agent.last_seen_at > idle:
                    await app.ctx.service.set_presence(agent, "away")
            await app.ctx.service.response_limit_sweep(now)  # before the requeue: it may set an agent away
            await app.ctx.service.requeue_sweep(now)  # then, in automatic mode, waiting chats to agents with room
            await app.ctx.editor.harvest_sweep(now)
            await app.ctx.retention.run_if_due(now)  # at most once a day
            await app.ctx.store.sessions.prune(now)
            await app.ctx.login_backoff.prune(now)
        except Exception:  # noqa: BLE001 - the sweeper must survive a passing database error
            logger.exception("Sweep failed")
