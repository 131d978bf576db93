"""Small units of the service: signed sessions, service hours, rate limits, the agent hub."""

from __future__ import annotations

import asyncio
import datetime as dt
import json

from liveagent.hours import ServiceCalendar
from liveagent.hub import AgentHub
from liveagent.ratelimit import Bucket, TokenBuckets
from liveagent.sessions import SessionSigner
from liveagent.settings import ServiceHours, Settings, SettingsError
from tests.liveagent.conftest import eventually

HELSINKI = dt.timezone(dt.timedelta(hours=2))  # winter time


def test_session_tokens_verify_only_when_signed_by_this_service():
    signer = SessionSigner("a" * 40)
    conversation_id, token = signer.issue()
    assert signer.verify(token) == conversation_id
    assert signer.verify(conversation_id) is None
    assert signer.verify(token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    assert SessionSigner("b" * 40).verify(token) is None
    for junk in (None, 42, "", "x.y", "." * 3, token + ".x"):
        assert signer.verify(junk) is None
    assert signer.issue()[0] != conversation_id


def test_service_hours_weekdays_and_finnish_holidays():
    calendar = ServiceCalendar(ServiceHours())
    assert calendar.is_open(dt.datetime(2026, 11, 23, 10, 0, tzinfo=HELSINKI))  # Monday
    assert not calendar.is_open(dt.datetime(2026, 11, 23, 18, 30, tzinfo=HELSINKI))  # after hours
    assert not calendar.is_open(dt.datetime(2026, 11, 22, 10, 0, tzinfo=HELSINKI))  # Sunday
    assert not calendar.is_open(dt.datetime(2026, 12, 24, 10, 0, tzinfo=HELSINKI))  # Christmas Eve
    friday_night = dt.datetime(2026, 12, 4, 19, 0, tzinfo=HELSINKI)
    # Monday 7.12. is a normal day; Independence Day (6.12.) is a Sunday in 2026.
    assert calendar.describe_next_open(friday_night) == "maanantaina 7.12. klo 8.00"
    christmas = dt.datetime(2026, 12, 23, 19, 0, tzinfo=HELSINKI)
    assert calendar.describe_next_open(christmas) == "maanantaina 28.12. klo 8.00"
    assert calendar.describe_hours() == "arkisin klo 8.00–18.00"
    assert ServiceCalendar(ServiceHours(), always_open=True).is_open(friday_night)


def test_settings_need_a_secret_and_read_service_hours():
    try:
        Settings.from_env({})
    except SettingsError as error:
        assert "LIVEAGENT_SECRET" in str(error)
    else:
        raise AssertionError("a missing secret must be refused")
    settings = Settings.from_env({"LUMO_ENV": "demo", "LIVEAGENT_SECRET": "s" * 40,
                                  "LIVEAGENT_SERVICE_HOURS": "mon-sat 09:00-15:30",
                                  "LIVEAGENT_ALLOWED_ORIGINS": "https://lumo.example, https://www.lumo.example"})
    assert settings.service_hours.weekdays == (0, 1, 2, 3, 4, 5)
    assert settings.service_hours.closes == dt.time(15, 30)
    assert settings.allowed_origins == ("https://lumo.example", "https://www.lumo.example")


def test_token_buckets_allow_bursts_then_refill():
    now = [0.0]
    buckets, bucket = TokenBuckets(clock=lambda: now[0]), Bucket(rate=1.0, burst=3)
    assert [buckets.allow("v", bucket) for _ in range(4)] == [True, True, True, False]
    now[0] = 1.1
    assert buckets.allow("v", bucket)
    assert buckets.allow("other", bucket)


class FakeSocket:
    def __init__(self) -> None:
        self.sent = []

    async def send(self, data: str) -> None:
        self.sent.append(json.loads(data))


async def test_hub_delivers_in_order_to_every_socket_of_an_agent():
    hub = AgentHub()
    first, second, other = FakeSocket(), FakeSocket(), FakeSocket()
    clients = [hub.register(1, first), hub.register(1, second), hub.register(2, other)]
    tasks = [asyncio.create_task(client.sender()) for client in clients]
    hub.send(1, {"n": 1})
    hub.send(1, {"n": 2})
    hub.broadcast({"n": 3}, only={2})
    await eventually(lambda: len(first.sent) == len(second.sent) == 2 and len(other.sent) == 1)
    assert first.sent == second.sent == [{"n": 1}, {"n": 2}]
    assert other.sent == [{"n": 3}]
    hub.unregister(clients[0])
    hub.unregister(clients[1])
    assert hub.connected_agent_ids() == {2}
    for task in tasks:
        task.cancel()


def test_a_client_that_left_mid_answer_is_logged_in_a_line_and_real_errors_with_their_traceback(caplog):
    """Sanic raises from its response writer when the connection closed under it (a websocket upgrade
    abandoned mid-handshake); that is no server error (once a traceback in the log under load)."""
    import logging
    from types import SimpleNamespace

    from liveagent.app import ClientGoneErrors

    class Transport:
        def __init__(self, closing: bool) -> None:
            self.closing = closing

        def is_closing(self) -> bool:
            return self.closing

    def request(closing: bool) -> SimpleNamespace:
        return SimpleNamespace(method="GET", path="/socket.io/", url="ws://127.0.0.1/socket.io/",
                               transport=Transport(closing), app=SimpleNamespace(config=SimpleNamespace()))

    def raised(error: Exception) -> Exception:
        try:
            raise error
        except Exception as caught:  # noqa: BLE001 - logged inside an except block, as Sanic does
            ClientGoneErrors.log(current, caught)
            return caught

    caplog.set_level(logging.INFO)
    current = request(closing=True)
    raised(AttributeError("'NoneType' object has no attribute 'is_closing'"))
    [gone] = caplog.records
    assert gone.levelno == logging.INFO and gone.exc_info is None and "left before its answer" in gone.getMessage()
    caplog.clear()
    current = request(closing=False)
    raised(RuntimeError("a real failure"))
    [failed] = caplog.records
    assert failed.levelno == logging.ERROR and failed.exc_info is not None
