"""Every visitor event limited (issue 13, item 4) and visitor sessions that end and belong to one customer
(item 6), tried against the real service on SQLite and PostgreSQL; the counters and tokens as units.

A refused event is told in Finnish as a ``status`` notice (``{"text", "notice"}``, no state) and changes
nothing stored; the conversation row appears only with the visitor's first message.
"""

from __future__ import annotations

import asyncio
import time
from types import SimpleNamespace
from typing import Any, Dict, List, Optional, Set

import aiohttp
import pytest
import socketio
import sqlalchemy as sa

from liveagent.conversations import ConversationLocks, ConversationService
from liveagent.hours import ServiceCalendar
from liveagent.hub import AgentHub
from liveagent.ratelimit import MemoryCounter, RateLimits, SocketLimits
from liveagent.sessions import SessionSigner
from liveagent.settings import Settings
from liveagent.store import Store
from liveagent.store.engine import Repository
from liveagent.store.migrate import sync_url
from liveagent.visitor import register_visitor_handlers
from lumo_shared.settings import IdentitySettings
from tests.conftest import TEST_KEY, make_token
from tests.liveagent.conftest import SECRET, RecordingClient, escalated, eventually
from tests.liveagent.databases import postgres_database

TOO_MANY_SESSIONS = "Chat-yhteyttä avataan uudelleen liian usein. Odota hetki ja yritä uudelleen."
TOO_MANY_EVENTS = "Chatissa tapahtuu juuri nyt liian paljon liian nopeasti. Odota hetki ja yritä uudelleen."
TOO_MANY_CONTACTS = "Yhteydenottopyyntöjä on lähetetty juuri nyt liian monta. Odota hetki ja yritä uudelleen."
TOO_MANY_SOCKETS = ("Samasta verkosta on juuri nyt auki liian monta chat-yhteyttä. Sulje ylimääräiset välilehdet "
                    "tai odota hetki.")
TOO_FAST = "Lähetät viestejä liian nopeasti. Odota hetki ja yritä uudelleen."


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path}/visitor-limits.sqlite"
    else:
        with postgres_database("visitor_limits") as url:
            yield url


@pytest.fixture
def limits_env() -> Dict[str, str]:
    return {}


@pytest.fixture
def service_env(database, limits_env):
    return {"LIVEAGENT_DATABASE_URL": database, **limits_env}


def count(database: str, query: str) -> Any:
    engine = sa.create_engine(sync_url(database), poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as connection:
            return connection.execute(sa.text(query)).scalar()
    finally:
        engine.dispose()


class Raw(RecordingClient):
    """A raw Socket.IO visitor that records every event and can call events with an acknowledgement."""

    def __init__(self, service) -> None:
        super().__init__(("session_confirm", "history", "status", "bot_uttered", "typing"))
        self.service = service

    async def connect(self) -> "Raw":
        await self.client.connect(self.service.url, headers={"Origin": self.service.url}, transports=["websocket"],
                                  wait_timeout=5)
        return self

    async def call(self, event: str, data: Any = None) -> None:
        await self.client.call(event, data, timeout=15)  # returns when the handler has

    async def session(self, token: Optional[str] = None, auth: Optional[str] = None,
                      last_seen_id: int = 0) -> Dict[str, Any]:
        mark = len(self.events)
        await self.call("session_request", {"session_id": token, "auth_token": auth, "last_seen_id": last_seen_id})
        confirmed = await self.next("session_confirm", mark)
        return {"token": confirmed["session_id"], "history": await self.next("history", mark)}

    def received(self, name: str) -> List[Any]:
        return [data for event, data in self.events if event == name]

    def notices(self) -> List[str]:
        return [data["text"] for data in self.received("status") if "state" not in data]


# ---- session_request: no conversation until the first message; a flood refused ------------------------


async def test_100_session_requests_from_one_socket_create_no_conversation(service, database):
    visitor = await Raw(service).connect()
    for _ in range(100):
        await visitor.call("session_request", {"session_id": None})
    confirms = visitor.received("session_confirm")
    assert 1 <= len(confirms) <= 6  # a burst of 5 (plus what refilled meanwhile, 1 per 10 s)
    assert TOO_MANY_SESSIONS in visitor.notices()
    assert count(database, "SELECT count(*) FROM conversations") == 0  # asking for a session stores nothing
    # The session it was last given still works, and the first message creates the one conversation.
    token = confirms[-1]["session_id"]
    mark = len(visitor.events)
    await visitor.call("user_uttered", {"message": "moi", "session_id": token})
    await visitor.next("bot_uttered", mark)
    assert count(database, "SELECT count(*) FROM conversations") == 1
    assert count(database, "SELECT count(*) FROM messages WHERE sender = 'visitor'") == 1
    await visitor.client.disconnect()


@pytest.mark.parametrize("limits_env", [{"LIVEAGENT_LIMIT_SESSION_REQUESTS": "4"}])
async def test_session_requests_per_address_across_sockets(service, database):
    sockets = [await Raw(service).connect() for _ in range(3)]
    for visitor in sockets:
        for _ in range(2):
            await visitor.call("session_request", {})
    confirmed = sum(len(v.received("session_confirm")) for v in sockets)
    assert confirmed == 4  # each socket is within its own burst: the address's limit refused two
    assert TOO_MANY_SESSIONS in sockets[2].notices()
    assert count(database, "SELECT count(*) FROM conversations") == 0
    for visitor in sockets:
        await visitor.client.disconnect()


# ---- contact requests -------------------------------------------------------------------------------------


@pytest.mark.parametrize("limits_env", [{"LIVEAGENT_LIMIT_CONTACT_REQUESTS": "3"}])
async def test_a_contact_request_flood_is_limited_per_socket_and_per_address(service, database, make_agent):
    aino = await make_agent("aino")
    broadcasts: List[Any] = []
    ws = await aino.session.ws_connect(f"{service.url.replace('http', 'ws')}/api/agent/ws",
                                       headers={"Origin": service.url})

    async def read_console() -> None:
        async for frame in ws:
            if frame.type == aiohttp.WSMsgType.TEXT and '"tickets"' in frame.data:
                broadcasts.append(frame.data)

    reader = asyncio.create_task(read_console())
    first = await Raw(service).connect()
    await first.session()
    form = {"name": "Matti", "contact": "040 123 4567", "message": "Soittakaa"}
    for _ in range(10):
        await first.call("contact_request", form)
    assert count(database, "SELECT count(*) FROM tickets") == 2  # the socket's burst
    assert TOO_MANY_CONTACTS in first.notices()
    others = [await Raw(service).connect() for _ in range(2)]
    for visitor in others:
        await visitor.session()
        for _ in range(2):
            await visitor.call("contact_request", form)
    assert count(database, "SELECT count(*) FROM tickets") == 3  # the address's limit
    assert TOO_MANY_CONTACTS in others[-1].notices()
    response = await aino.call("GET", "/tickets")
    assert len((await response.json())["tickets"]) == 3
    reader.cancel()
    await ws.close()
    assert len(broadcasts) <= 3  # consoles hear of stored tickets only
    for visitor in [first, *others]:
        await visitor.client.disconnect()


# ---- typing and rating -----------------------------------------------------------------------------------


async def test_typing_and_rating_floods_are_limited_and_keep_the_stored_rating(service, database, visitors,
                                                                              make_agent):
    aino = await make_agent("aino")
    visitor, conversation_id = await escalated(visitors)
    assert (await aino.call("POST", f"/conversations/{conversation_id}/claim")).status == 200
    ws = await aino.session.ws_connect(f"{service.url.replace('http', 'ws')}/api/agent/ws",
                                       headers={"Origin": service.url})
    typing: List[str] = []

    async def read_console() -> None:
        async for frame in ws:
            if frame.type == aiohttp.WSMsgType.TEXT and '"typing"' in frame.data:
                typing.append(frame.data)

    reader = asyncio.create_task(read_console())
    for n in range(60):
        await visitor.client.call("visitor_typing", {"on": n % 2 == 0}, timeout=15)
    await visitor.wait_for("status", lambda d: d.get("text") == TOO_MANY_EVENTS)
    assert (await aino.call("POST", f"/conversations/{conversation_id}/close")).status == 200
    await visitor.wait_for("status", lambda d: d.get("ask_rating"))
    # a fresh connection of the same visitor: its own buckets; three ratings pass, the flood does not
    await visitor.close()
    await visitor.connect(token=visitor.token)
    for score in (5, 4, 3):
        await visitor.client.call("rating", {"score": score}, timeout=15)
    for _ in range(30):
        await visitor.client.call("rating", {"score": 1}, timeout=15)
    await visitor.wait_for("status", lambda d: d.get("text") == TOO_MANY_EVENTS)
    assert count(database, f"SELECT rating FROM conversations WHERE id = '{conversation_id}'") == 3
    reader.cancel()
    await ws.close()
    assert 1 <= len(typing) <= 12  # a burst of 10 (plus a refill of 1 per second)


@pytest.mark.parametrize("limits_env", [{"LIVEAGENT_LIMIT_VISITOR_EVENTS": "5"}])
async def test_typing_per_address_across_sockets(service, database):
    sockets = [await Raw(service).connect() for _ in range(3)]
    for visitor in sockets:
        await visitor.session()
        for _ in range(3):
            await visitor.call("visitor_typing", {"on": True})
    assert TOO_MANY_EVENTS in sockets[-1].notices() or TOO_MANY_EVENTS in sockets[-2].notices()
    assert sum(TOO_MANY_EVENTS in v.notices() for v in sockets) >= 1
    for visitor in sockets:
        await visitor.client.disconnect()


# ---- messages: refused before any lock or database work ---------------------------------------------------


async def test_a_user_uttered_flood_from_one_socket_is_refused_and_nothing_stored_is_lost(service, database):
    visitor = await Raw(service).connect()
    token = (await visitor.session())["token"]
    for n in range(100):
        await visitor.call("user_uttered", {"message": f"viesti {n}", "session_id": token})
    stored = count(database, "SELECT count(*) FROM messages WHERE sender = 'visitor'")
    assert 1 <= stored <= 10  # a burst of 8 (plus a refill of 1 per second)
    assert len(service.rasa_log()["log"][token.split(".")[0]]) == stored  # Rasa got only what was stored
    notices = visitor.notices()
    assert TOO_FAST in notices and len(notices) < 20  # told, but not once for every refused message
    history = (await visitor.session(token))["history"]
    texts = [m["text"] for m in history["messages"] if m["sender"] == "visitor"]
    assert texts == [f"viesti {n}" for n in range(stored)]  # the first ones, in order, none lost
    await visitor.client.disconnect()


@pytest.mark.parametrize("limits_env", [{"LIVEAGENT_MAX_MESSAGE_CHARS": "1200"}])
async def test_an_over_long_message_is_refused_whole_with_a_finnish_note(service, database):
    """The limit comes from the settings and is told to the widget; a longer message is neither cut nor
    stored nor sent to Rasa, and the visitor reads why (with both lengths) and what to do."""
    visitor = await Raw(service).connect()
    token = (await visitor.session())["token"]
    assert visitor.received("session_confirm")[-1]["max_message_chars"] == 1200
    await visitor.call("user_uttered", {"message": "ä" * 1439, "session_id": token})
    assert visitor.notices() == ["Viesti on liian pitkä (1\u00a0439 / 1\u00a0200 merkkiä), eikä sitä lähetetty. "
                                 "Lyhennä viestiä tai jaa se osiin."]
    assert count(database, "SELECT count(*) FROM messages") == 0
    assert service.rasa_log()["log"] == {}
    mark = len(visitor.events)
    await visitor.call("user_uttered", {"message": "ä" * 1200, "session_id": token})  # exactly the limit: sent
    await visitor.next("bot_uttered", mark)
    assert count(database, "SELECT length(text) FROM messages WHERE sender = 'visitor'") == 1200
    await visitor.client.disconnect()


async def test_a_conversations_messages_keep_their_order_while_the_address_limit_is_checked():
    """Each message takes its place in line on arrival; the address's limit (Redis) may answer the
    second message first, yet the first is handled first, and a refused one holds nobody up."""
    locks, handled = ConversationLocks(), []

    async def message(n: int, limit_answers_after: float, refused: bool = False) -> None:
        place = locks.line_up("c")
        await asyncio.sleep(limit_answers_after)
        if refused:
            place.leave()
            return
        async with place.hold():
            handled.append(n)

    await asyncio.gather(message(1, 0.05), message(2, 0), message(3, 0.02, refused=True), message(4, 0))
    assert handled == [1, 2, 4]
    assert len(locks) == 0 and locks._tails == {}


class FakeManager:
    def __init__(self) -> None:
        self.rooms: Dict[str, Set[str]] = {}

    def is_connected(self, sid: str, namespace: str) -> bool:
        return True

    def get_participants(self, namespace: str, room: str):
        return [(sid, sid) for sid in self.rooms.get(room, ())]


class FakeSio:
    """Just enough of python-socketio's server to call the visitor handlers directly."""

    def __init__(self) -> None:
        self.handlers: Dict[str, Any] = {}
        self.emitted: List[tuple] = []
        self.manager = FakeManager()

    def event(self, handler):
        self.handlers[handler.__name__] = handler
        return handler

    async def emit(self, event: str, data: Any = None, to: Optional[str] = None, room: Optional[str] = None,
                   skip_sid: Optional[str] = None) -> None:
        self.emitted.append((event, data, to or room))

    async def enter_room(self, sid: str, room: str) -> None:
        self.manager.rooms.setdefault(room, set()).add(sid)

    async def leave_room(self, sid: str, room: str) -> None:
        self.manager.rooms.get(room, set()).discard(sid)


class CountingStore:
    """The real Store, counting every call the service makes to it or its repositories ("messages.add")."""

    def __init__(self, store: Any, calls: Optional[List[str]] = None, prefix: str = "") -> None:
        self._store = store
        self._prefix = prefix
        self.calls: List[str] = [] if calls is None else calls

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._store, name)
        if isinstance(attribute, Repository):
            return CountingStore(attribute, self.calls, f"{self._prefix}{name}.")
        if not callable(attribute):
            return attribute

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls.append(self._prefix + name)
            return attribute(*args, **kwargs)
        return counted


class SilentRasa:
    async def send(self, conversation_id: str, text: str, metadata: Any) -> List[Dict[str, Any]]:
        return [{"text": f"Botti: {text}"}]


async def test_refused_events_make_no_store_call_and_take_no_lock(tmp_path):
    settings = Settings(session_secret=SECRET, identity=IdentitySettings(jwt_keys=(TEST_KEY,)), always_open=True)
    store = CountingStore(await Store.open(f"sqlite+aiosqlite:///{tmp_path}/units.sqlite"))
    sio = FakeSio()
    service = ConversationService(store, SilentRasa(), sio.emit, AgentHub(),  # type: ignore[arg-type]
                                  ServiceCalendar(settings.service_hours, True), settings)
    register_visitor_handlers(sio, SimpleNamespace(service=service, limits=RateLimits(settings, MemoryCounter())),  # type: ignore[arg-type]
                              settings)
    on = sio.handlers
    try:
        await on["connect"]("sid-1", {"REMOTE_ADDR": "203.0.113.9"})
        await on["session_request"]("sid-1", {})
        token = next(data["session_id"] for event, data, _ in sio.emitted if event == "session_confirm")
        assert store.calls == []  # a new session reads and writes nothing
        for _ in range(8):
            await on["user_uttered"]("sid-1", {"message": "moi", "session_id": token})
        accepted = list(store.calls)
        assert accepted.count("messages.add") == 16  # eight messages and their answers
        for _ in range(500):
            await on["user_uttered"]("sid-1", {"message": "tulva", "session_id": token})
            await on["visitor_typing"]("sid-1", {"on": True})
            await on["rating"]("sid-1", {"score": 5})
            await on["contact_request"]("sid-1", {"name": "a", "contact": "b", "message": "c"})
            await on["session_request"]("sid-1", {"session_id": token})
        flood_calls = store.calls[len(accepted):]
        # the buckets' bursts pass (10 typing, 3 ratings, 2 contact requests, 4 more sessions); 2,490 events do not
        assert len(flood_calls) <= 40, flood_calls
        assert "messages.add" not in flood_calls  # not one of the 500 messages
        assert len(service.turns) == 0 and service.turns._tails == {}  # no lock or place in line left behind
        notices = [data for event, data, _ in sio.emitted if event == "status" and "state" not in data]
        assert 1 <= len(notices) <= 25  # told once, then at most every few seconds per event
        await on["disconnect"]("sid-1")
    finally:
        await store.close()


# ---- concurrent sockets per address -----------------------------------------------------------------------


@pytest.mark.parametrize("limits_env", [{"LIVEAGENT_MAX_SOCKETS_PER_ADDRESS": "3"}])
async def test_open_sockets_per_address_are_capped_and_a_closed_one_frees_its_place(service):
    kept = [await Raw(service).connect() for _ in range(3)]
    refused = socketio.AsyncClient(reconnection=False)
    errors: List[Any] = []
    refused.on("connect_error", lambda data=None: errors.append(data))
    with pytest.raises(socketio.exceptions.ConnectionError):
        await refused.connect(service.url, headers={"Origin": service.url}, transports=["websocket"],
                              wait_timeout=5)
    assert errors == [{"message": TOO_MANY_SOCKETS, "data": {"error": "rate_limited"}}]
    await kept.pop().client.disconnect()
    async def reconnected() -> Optional[Raw]:  # the service learns of the closed socket a moment later
        again = Raw(service)
        try:
            return await again.connect()
        except socketio.exceptions.ConnectionError:
            return None

    kept.append(await eventually(reconnected, timeout=5))  # else a closed socket's place was never freed
    for visitor in kept:
        await visitor.client.disconnect()


# ---- tickets, paginated ------------------------------------------------------------------------------------


async def test_tickets_come_in_pages_newest_first(service, database, make_agent):
    store = await Store.open(database)
    try:
        created = [await store.tickets.create(None, f"Asiakas {n}", "040 000", "Soittakaa") for n in range(7)]
    finally:
        await store.close()
    aino = await make_agent("aino")
    pages, before = [], None
    while True:
        path = "/tickets?limit=3" + (f"&before={before}" if before else "")
        data = await (await aino.call("GET", path)).json()
        pages.append([t["name"] for t in data["tickets"]])
        assert data["unhandled"] == 7
        before = data["next_before"]
        if before is None:
            break
    assert pages == [["Asiakas 6", "Asiakas 5", "Asiakas 4"], ["Asiakas 3", "Asiakas 2", "Asiakas 1"], ["Asiakas 0"]]
    default = await (await aino.call("GET", "/tickets")).json()
    assert len(default["tickets"]) == 7 and default["next_before"] is None
    assert (await aino.call("POST", f"/tickets/{created[6].id}/handled")).status == 200
    open_only = await (await aino.call("GET", "/tickets?unhandled=1&limit=2")).json()
    assert [t["name"] for t in open_only["tickets"]] == ["Asiakas 5", "Asiakas 4"] and open_only["unhandled"] == 6
    for bad in ("limit=0", "limit=101", "limit=x", "before=x", "before=0", f"before={10**30}", "unhandled=yes"):
        response = await aino.call("GET", f"/tickets?{bad}")
        assert response.status == 400 and (await response.json())["error"] == "bad_request"


def test_the_console_reads_tickets_one_page_at_a_time():
    from tests.conftest import ROOT

    console = (ROOT / "liveagent" / "static" / "agent" / "tickets.js").read_text(encoding="utf-8")
    assert "api('GET', '/tickets')" not in console  # never the whole list
    assert "limit: String(TICKET_PAGE)" in console


# ---- the in-process counters ----------------------------------------------------------------------------


async def test_counters_are_evicted_oldest_first_and_never_all_at_once():
    counter = MemoryCounter(max_keys=100_000)
    limits = RateLimits(Settings(limit_logins=3, limit_window_seconds=60), counter)
    for n in range(100_000):  # an address rotating through IPv6 /64s fills every counter
        await limits.allow("login", f"2001:db8:{n >> 16:x}:{n & 0xFFFF:x}::1")
    assert len(counter) == 100_000
    victim = "203.0.113.9"
    assert [await limits.allow("login", victim) for _ in range(4)] == [True, True, True, False]
    for n in range(50_000):  # and keeps going
        await limits.allow("login", f"2001:db9:{n >> 16:x}:{n & 0xFFFF:x}::1")
    assert len(counter) == 100_000  # bounded
    assert not await limits.allow("login", victim)  # the recent counter survived: still refused
    assert "login:2001:db8:0:0::/64" not in counter  # the oldest went first


def test_socket_buckets_are_bounded_and_forgotten_with_the_socket():
    limits = SocketLimits(max_keys=1000)
    for n in range(5000):
        limits.allow("typing", f"sid-{n}")
    assert len(limits._buckets) == 1000
    assert [limits.allow("contact", "sid-x") for _ in range(3)] == [True, True, False]
    limits.forget("sid-x")
    assert limits.allow("contact", "sid-x")


# ---- visitor session tokens: expiry and the customer they belong to ----------------------------------------


def test_session_tokens_expire_and_belong_to_one_customer():
    now = [1_000_000.0]
    signer = SessionSigner("a" * 40, lifetime_seconds=3600, clock=lambda: now[0])
    conversation_id, token = signer.issue("LUMO-1001")
    assert signer.verify(token, "LUMO-1001") == conversation_id
    assert signer.verify(token, "LUMO-1002") is None
    assert signer.verify(token) is None  # logged out
    assert "LUMO-1001" not in token  # the binding is a keyed digest
    anonymous_id, anonymous = signer.issue()
    assert signer.verify(anonymous) == anonymous_id and signer.verify(anonymous, "LUMO-1001") is None
    assert signer.renew(token, signer.read(token), "LUMO-1001") == token  # fresh: kept as it is
    now[0] += 1800.5
    renewed = signer.renew(token, signer.read(token), "LUMO-1001")
    assert renewed != token and signer.verify(renewed, "LUMO-1001") == conversation_id
    now[0] += 1800
    assert signer.read(token) is None  # expired
    assert signer.verify(renewed, "LUMO-1001") == conversation_id
    for forged in (token.replace(".", "x", 1), conversation_id, f"{conversation_id}.zz.-.sig",
                   renewed.rsplit(".", 2)[0] + ".-." + renewed.rsplit(".", 1)[1]):
        assert signer.read(forged) is None
    assert SessionSigner("b" * 40).read(renewed) is None


async def test_an_expired_session_token_starts_a_fresh_session(service, database):
    visitor = await Raw(service).connect()
    token = (await visitor.session())["token"]
    await visitor.call("user_uttered", {"message": "vanha viesti", "session_id": token})
    conversation_id = token.split(".")[0]
    expired = SessionSigner(SECRET, lifetime_seconds=60, clock=lambda: time.time() - 3600).issue(
        None, conversation_id)[1]
    again = await visitor.session(expired)
    assert again["token"].split(".")[0] != conversation_id
    assert again["history"]["messages"] == []
    await visitor.client.disconnect()


async def test_history_is_replayed_only_to_the_customer_the_session_belongs_to(service, database):
    matti, maija = make_token("LUMO-1001"), make_token("LUMO-1002")
    visitor = await Raw(service).connect()
    token = (await visitor.session(auth=matti))["token"]
    mark = len(visitor.events)
    await visitor.call("user_uttered", {"message": "Matin asia", "session_id": token,
                                        "customData": {"auth_token": matti}})
    await visitor.next("bot_uttered", mark)
    await visitor.client.disconnect()

    def visitor_texts(session: Dict[str, Any]) -> List[str]:
        return [m["text"] for m in session["history"]["messages"] if m["sender"] == "visitor"]

    for auth in (maija, None, "not-a-token"):  # another customer; logged out; a broken token
        other = await Raw(service).connect()
        session = await other.session(token, auth=auth)
        assert session["token"].split(".")[0] != token.split(".")[0] and visitor_texts(session) == []
        await other.client.disconnect()
    same = await Raw(service).connect()
    session = await same.session(token, auth=matti)
    assert session["token"].split(".")[0] == token.split(".")[0]
    assert visitor_texts(session) == ["Matin asia"]
    await same.client.disconnect()


async def test_logging_in_during_the_chat_keeps_the_chat_and_binds_it(service, database):
    matti = make_token("LUMO-1001")
    visitor = await Raw(service).connect()
    anonymous = (await visitor.session())["token"]
    mark = len(visitor.events)
    await visitor.call("user_uttered", {"message": "ennen kirjautumista", "session_id": anonymous})
    await visitor.call("user_uttered", {"message": "kirjauduin", "session_id": anonymous,
                                        "customData": {"auth_token": matti}})
    bound = (await visitor.next("session_confirm", mark))["session_id"]
    assert bound != anonymous and bound.split(".")[0] == anonymous.split(".")[0]  # same chat, now Matti's
    await visitor.client.disconnect()
    later = await Raw(service).connect()
    session = await later.session(bound, auth=matti)
    assert [m["text"] for m in session["history"]["messages"] if m["sender"] == "visitor"] == [
        "ennen kirjautumista", "kirjauduin"]
    stranger = await Raw(service).connect()
    assert (await stranger.session(bound))["history"]["messages"] == []  # not without Matti's token
    for v in (later, stranger):
        await v.client.disconnect()
