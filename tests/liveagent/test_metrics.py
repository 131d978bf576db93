"""The operators' metrics (issue 17, item 5; docs/deploy.md): GET /metrics on the service's own port,
only with the bearer token, names starting with lumo_, and figures that follow what happens."""

from __future__ import annotations

import asyncio
from typing import Any, Dict, Optional, Tuple

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.liveagent.conftest import escalated, eventually

TOKEN = "metrics-token-for-tests-0123456789-abcdef"
Samples = Dict[Tuple[str, Tuple[Tuple[str, str], ...]], float]


@pytest.fixture
def service_env():
    # not the content replica: its editor API answers 503, a server error the metrics count
    return {"LIVEAGENT_METRICS_TOKEN": TOKEN, "LIVEAGENT_CONTENT_REPLICA": "0", "LIVEAGENT_SWEEP_SECONDS": "3600"}


async def scrape(service: Any, authorization: Optional[str] = f"Bearer {TOKEN}") -> Tuple[int, str, Any]:
    headers = {"Authorization": authorization} if authorization is not None else {}
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{service.url}/metrics", headers=headers) as response:
            return response.status, await response.text(), response.headers


async def samples(service: Any) -> Samples:
    status, body, _headers = await scrape(service)
    assert status == 200, body
    found: Samples = {}
    for family in text_string_to_metric_families(body):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(found: Samples, name: str, **labels: str) -> float:
    return found[(name, tuple(sorted(labels.items())))]


async def test_without_the_token_the_answer_is_401(service):
    for authorization in (None, "Bearer wrong-token", f"Basic {TOKEN}", f"Bearer {TOKEN}x", "Bearer "):
        status, body, headers = await scrape(service, authorization)
        assert status == 401, authorization
        assert headers["WWW-Authenticate"] == 'Bearer realm="lumo-metrics"'
        assert "lumo_" not in body


async def test_every_name_starts_with_lumo_and_the_live_queue_shows(service, visitors, make_agent):
    status, body, headers = await scrape(service)
    assert status == 200 and headers["Content-Type"].startswith("text/plain; version=")
    families = {family.name for family in text_string_to_metric_families(body)}
    assert families and all(name.startswith("lumo_") for name in families)
    assert {"lumo_visitors_connected", "lumo_conversations", "lumo_queue_length", "lumo_queue_oldest_wait_seconds",
            "lumo_agents_online", "lumo_bot_answer_seconds", "lumo_rasa_errors", "lumo_socketio_errors",
            "lumo_http_errors"} <= families
    before = await samples(service)
    assert value(before, "lumo_queue_length") == 0 and value(before, "lumo_queue_oldest_wait_seconds") == 0
    assert value(before, "lumo_rasa_errors_total", kind="timeout") == 0

    aino = await make_agent("aino")
    first, first_id = await escalated(visitors)
    await asyncio.sleep(0.3)
    second, _second_id = await escalated(visitors)
    live = await samples(service)
    assert value(live, "lumo_visitors_connected") == 2
    assert value(live, "lumo_queue_length") == 2
    assert value(live, "lumo_conversations", state="waiting") == 2
    assert value(live, "lumo_queue_oldest_wait_seconds") >= 0.3
    assert value(live, "lumo_agents_online") == 1 and value(live, "lumo_agents", presence="online") == 1
    assert value(live, "lumo_bot_answer_seconds_count") == 2  # each visitor's message was answered by Rasa

    assert (await aino.call("POST", f"/conversations/{first_id}/claim")).status == 200
    await second.close()
    for _ in range(50):  # the service sees the closed socket a moment later (later still on a busy machine)
        after = await samples(service)
        if value(after, "lumo_visitors_connected") == 1:
            break
        await asyncio.sleep(0.1)
    assert value(after, "lumo_queue_length") == 1 and value(after, "lumo_conversations", state="assigned") == 1
    assert value(after, "lumo_visitors_connected") == 1


async def test_rasa_failures_empty_answers_socket_and_http_errors_are_counted(service, visitors):
    visitor = await visitors()
    await visitor.connect()
    await visitor.say("tyhjä vastaus")  # Rasa answers nothing: a custom action failed
    await visitor.wait_for("bot_uttered", lambda d: d["sender"] == "system")
    await visitor.say("hiljaa")  # Rasa does not answer within LIVEAGENT_RASA_TIMEOUT_SECONDS
    await visitor.wait_for("bot_uttered", lambda d: d["sender"] == "system" and "botti ei juuri nyt" in d["text"])
    await service.fake_rasa.stop()  # Rasa is gone: the connection is refused
    before = len(visitor.events)  # not the apology above (it was the last event while the machine was busy)
    await visitor.say("oletko siellä")
    await visitor.wait_for("bot_uttered", lambda d: d["sender"] == "system" and "botti ei juuri nyt" in d["text"],
                           since=before)

    def failing(*_args: Any) -> None:
        raise RuntimeError("a handler that fails")

    service.app.ctx.service.visitor_typing = failing
    await visitor.client.emit("visitor_typing", {"on": True})
    async with aiohttp.ClientSession(headers={"Origin": service.url}) as session:
        async with session.get(f"{service.url}/api/editor/topics") as response:
            assert response.status == 503

    async def counted() -> Optional[Samples]:
        found = await samples(service)
        return found if value(found, "lumo_socketio_errors_total", event="visitor_typing") == 1 else None

    found = await eventually(counted)
    assert value(found, "lumo_bot_empty_answers_total") == 1
    assert value(found, "lumo_rasa_errors_total", kind="timeout") == 1
    assert value(found, "lumo_rasa_errors_total", kind="unreachable") >= 1
    assert value(found, "lumo_rasa_errors_total", kind="status") == 0
    assert value(found, "lumo_bot_answer_seconds_count") == 1  # only the empty answer came back
    assert value(found, "lumo_http_errors_total", status="503") >= 1
    assert value(found, "lumo_http_responses_total", status_class="5xx") == value(
        found, "lumo_http_errors_total", status="503")
    again = await samples(service)  # a scrape's own 200 is counted once it has been answered
    assert value(again, "lumo_http_responses_total", status_class="2xx") > value(
        found, "lumo_http_responses_total", status_class="2xx")


async def test_a_visitor_socket_that_ends_is_no_server_error(service, visitors):
    """Visitors who chat and leave are no HTTP errors: not counted as 5xx, nothing logged about them.
    (python-engineio's Sanic driver answered every ended websocket with an HTTP response as well, which Sanic
    could not send on the upgraded connection: a 500 counted, and an error handled, per visitor socket.)"""
    for text in ("moi", "miten kirjaudun"):
        visitor = await visitors()
        await visitor.connect()
        await visitor.say(text)
        await visitor.wait_for("bot_uttered", lambda d: d["sender"] == "bot")
        await visitor.client.disconnect()
    await eventually(lambda: service.app.ctx.sio.eio.sockets == {})  # the service saw both sockets end
    await asyncio.sleep(1)  # an answer that is not sent announces nothing: give one time to be tried
    found = await samples(service)
    assert found.get(("lumo_http_responses_total", (("status_class", "5xx"),)), 0) == 0
    assert not [key for key in found if key[0] == "lumo_http_errors_total"]
    assert "left before its answer" not in (service.tmp / "service.log").read_text(encoding="utf-8")
