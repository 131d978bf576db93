"""Fuzzing the visitor channel over real Socket.IO: arbitrary Unicode (lone surrogates and NUL too),
huge and empty texts, wrong types anywhere in the ``user_uttered`` payload.

Properties: the handler never fails (every call is acknowledged, the service log has no traceback);
nothing is lost (every message the service accepts is stored, and a refused one is answered with
a Finnish status line); what is stored is exactly what was sent (trimmed of surrounding white space).
"""

from __future__ import annotations

from typing import Any, Dict, Optional

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from liveagent.validation import storable
from tests.liveagent.conftest import RecordingClient

MAX_CHARS = 2000
OWN_SESSION = "<own session>"  # replaced by the example's real session token
TOO_LONG = ("Viesti on liian pitkä ({length} / 2\u00a0000 merkkiä), eikä sitä lähetetty. "
            "Lyhennä viestiä tai jaa se osiin.")
INVALID = "Viestissä on merkkejä, joita ei voi lähettää. Poista ne ja yritä uudelleen."
QUIET_TEXTS = ("hiljaa", "mietippä", "ihmisen", "/liveagent")  # the fake Rasa's slow or special inputs


@pytest.fixture
def service_env():
    # every example is a new connection and session of the same address
    return {"LIVEAGENT_LIMIT_MESSAGES": "0", "LIVEAGENT_LIMIT_CONNECTIONS": "0",
            "LIVEAGENT_LIMIT_SESSION_REQUESTS": "0"}


wrong_types = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
                        st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=4), st.integers(),
                                                                             max_size=2))
any_unicode = st.text(st.characters(codec=None, exclude_categories=()), max_size=60)  # surrogates included
texts = st.one_of(
    any_unicode,
    st.text(max_size=60),
    st.sampled_from(["", " ", "\n\t", "<script>alert(1)</script>", "\x00", "a\ud800b", "😀" * 5, "ä" * MAX_CHARS]),
    st.integers(MAX_CHARS - 2, 9000).map(lambda n: "x" * n),
).filter(lambda t: not any(q in t.lower() for q in QUIET_TEXTS))
message_payloads = st.fixed_dictionaries(
    {"message": st.one_of(texts, wrong_types)},
    optional={
        "session_id": st.one_of(st.just(OWN_SESSION), st.text(max_size=40), wrong_types),
        "customData": st.one_of(wrong_types, st.fixed_dictionaries({"auth_token": st.one_of(any_unicode,
                                                                                            wrong_types)})),
        "metadata": wrong_types,
    },
)
payloads = st.lists(st.one_of(message_payloads, message_payloads, wrong_types, st.text(max_size=10)), max_size=6)


def expected_outcome(payload: Any, token: str) -> Optional[str]:
    """"stored", "too_long", "invalid" or None (ignored: not a message of this session)."""
    if not isinstance(payload, dict):
        return None
    if "session_id" in payload and payload["session_id"] is not None and payload["session_id"] != token:
        return None
    text = payload.get("message")
    if not isinstance(text, str) or not text.strip():
        return None
    if len(text) > MAX_CHARS:
        return "too_long"
    if not storable(text):
        return "invalid"
    return "stored"


class Channel(RecordingClient):
    """One visitor connection that records everything and can wait for a history answer."""

    def __init__(self, url: str) -> None:
        super().__init__(("session_confirm", "history", "status", "bot_uttered"))
        self.url = url

    async def new_session(self, token: Optional[str] = None, last_seen_id: int = 0) -> Dict[str, Any]:
        mark = len(self.events)
        await self.client.emit("session_request", {"session_id": token, "last_seen_id": last_seen_id})
        confirmed = await self.next("session_confirm", mark)
        return {"token": confirmed["session_id"], "history": await self.next("history", mark)}


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(sequence=payloads)
@example(sequence=[{"message": "moi", "customData": {"auth_token": "a\ud800"}}, {"message": "a\ud800b"},
                   {"message": " \x00 "}, {"message": "x" * (MAX_CHARS + 1)}, None, {"message": ["lista"]}])
async def test_user_uttered_never_fails_loses_or_changes_a_message(service, sequence):
    channel = Channel(service.url)  # one service for all examples; a connection and a conversation each
    await channel.client.connect(service.url, headers={"Origin": service.url}, transports=["websocket"],
                                 wait_timeout=10)
    try:
        token = (await channel.new_session())["token"]
        mark = len(channel.events)
        sent = [({**p, "session_id": token} if isinstance(p, dict) and p.get("session_id") == OWN_SESSION else p)
                for p in sequence]
        for payload in sent:
            await channel.client.call("user_uttered", payload, timeout=15)  # acknowledged: the handler returned
        outcomes = [expected_outcome(p, token) for p in sent]
        statuses = [data.get("text") for event, data in channel.events[mark:] if event == "status"]
        too_long = [TOO_LONG.format(length=f"{len(p['message']):,}".replace(",", "\u00a0"))
                    for p, o in zip(sent, outcomes, strict=True) if o == "too_long"]
        assert [s for s in statuses if s and s.startswith("Viesti on liian pitkä")] == too_long
        assert statuses.count(INVALID) == outcomes.count("invalid")
        stored = (await channel.new_session(token))["history"]["messages"]
        visitor_texts = [m["text"] for m in stored if m["sender"] == "visitor"]
        assert visitor_texts == [p["message"].strip() for p, o in zip(sent, outcomes, strict=True) if o == "stored"]
    finally:
        await channel.client.disconnect()
    assert "Traceback" not in (service.tmp / "service.log").read_text(encoding="utf-8", errors="replace")
