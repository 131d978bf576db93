"""Escalation asks the live-agent service first and never promises a human who cannot come."""

from __future__ import annotations

from aiohttp import web

from actions import handoff
from actions.clients.liveagent import human_availability
from actions.handoff import ActionEscalate
from lumo_shared.handoff import Availability
from tests.conftest import make_tracker, user_event


async def test_no_human_available_means_no_promise_and_no_pause(dispatcher, domain, test_settings, monkeypatch):
    async def closed(_url):
        return Availability(False, "closed", "Asiakaspalvelijamme palvelevat arkisin klo 8.00–18.00.")

    monkeypatch.setattr(handoff, "human_availability", closed)
    events = await ActionEscalate().run(dispatcher, make_tracker([user_event("ihminen", "request_human")]), domain)
    assert events == []
    assert dispatcher.messages[0]["text"] == "Asiakaspalvelijamme palvelevat arkisin klo 8.00–18.00."
    assert dispatcher.messages[1]["custom"] == {"contact_request_offer": {"reason": "closed"}}
    assert not any("handoff" in (m.get("custom") or {}) for m in dispatcher.messages)


async def serve(handler):
    app = web.Application()
    app.router.add_get("/api/availability", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    return runner, f"http://127.0.0.1:{port}"


async def test_availability_is_read_from_the_service():
    async def handler(request):
        return web.json_response({"available": False, "reason": "no_agents", "text": "Ei ketään paikalla."})

    runner, url = await serve(handler)
    try:
        assert await human_availability(url) == Availability(False, "no_agents", "Ei ketään paikalla.")
    finally:
        await runner.cleanup()


async def test_broken_or_missing_service_counts_as_available():
    async def handler(request):
        return web.Response(status=500, text="boom")

    runner, url = await serve(handler)
    try:
        assert (await human_availability(url)).available is True
    finally:
        await runner.cleanup()
    assert (await human_availability("http://127.0.0.1:9")).available is True
    assert (await human_availability(None)).available is True
