"""Conversations over HTTP with the real Rasa server and action server."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any, Dict, List

import pytest
import yaml

from tests.conftest import ROOT, make_token, signed_customer

pytestmark = pytest.mark.integration


def response_text(name: str) -> str:
    with open(ROOT / "domain.yml", encoding="utf-8") as handle:
        return yaml.safe_load(handle)["responses"][name][0]["text"]


def faq_answer(topic: str) -> str:
    with open(ROOT / "data" / "faq" / f"{topic}.yml", encoding="utf-8") as handle:
        return yaml.safe_load(handle)["responses"][f"utter_faq/{topic}"][0]["text"]


def texts(messages: List[Dict[str, Any]]) -> List[str]:
    return [m["text"] for m in messages if m.get("text")]


def handoffs(messages: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    return [m["custom"]["handoff"] for m in messages if (m.get("custom") or {}).get("handoff")]


def sender() -> str:
    return f"it-{uuid.uuid4().hex}"


def test_faq_is_answered(stack):
    assert texts(stack.send(sender(), "miten mä kirjaudun asiointipalveluun")) == [faq_answer("login")]
    assert texts(stack.send(sender(), "kauanko hakemuksen kasittely kestaa")) == [faq_answer("processing_time")]


def test_account_lookup_with_a_customer_id_the_service_signed(stack):
    conversation = sender()
    reply = texts(stack.send(conversation, "onko mun hakemus jo käsitelty", signed_customer("LUMO-1001", conversation)))
    assert len(reply) == 1
    assert reply[0].startswith("Aino, hakemuksesi (asumistuki) on käsittelyssä.")


def test_forged_or_borrowed_customer_ids_are_refused(stack):
    other_key = "a-key-the-action-server-does-not-have-0123456789"
    attacks = {
        "copied from another conversation's tracker": lambda conversation: signed_customer("LUMO-1001", "other"),
        "signed with another key": lambda conversation: signed_customer("LUMO-1001", conversation, key=other_key),
    }
    for name, attack in attacks.items():
        conversation = sender()
        reply = texts(stack.send(conversation, "onko mun hakemus jo käsitelty", attack(conversation)))
        assert reply == [response_text("utter_session_expired")], name


def test_a_website_token_sent_straight_to_rasa_is_not_an_identity(stack):
    """Only the service's signed id counts: a genuine website JWT in metadata proves nothing to the actions."""
    reply = texts(stack.send(sender(), "onko mun hakemus jo käsitelty", {"auth_token": make_token("LUMO-1001")}))
    assert reply == [response_text("utter_login_required")]


def test_anonymous_visitor_is_asked_to_log_in(stack):
    assert texts(stack.send(sender(), "onko mun hakemus jo käsitelty")) == [response_text("utter_login_required")]


def test_escalation_pauses_the_bot_and_signals_the_handoff(stack):
    conversation = sender()
    stack.send(conversation, "miten lähetän liitteet")
    messages = stack.send(conversation, "haluan puhua ihmisen kanssa")
    assert texts(messages) == [response_text("utter_handoff")]
    [signal] = handoffs(messages)
    assert signal["reason"] == "visitor_request"
    assert signal["conversation_id"] == conversation
    assert signal["summary"]["intents"][-1] == "request_human"
    assert signal["summary"]["customer"] == {"verified": False}
    # Paused: the bot stays silent, but the message is still recorded in the tracker.
    assert stack.send(conversation, "onko siellä ketään") == []
    tracker = stack.tracker(conversation)
    assert tracker["paused"] is True
    assert [e["text"] for e in tracker["events"] if e["event"] == "user"][-1] == "onko siellä ketään"
    # Resumed the way the live-agent service resumes it, the bot answers again.
    import asyncio

    from liveagent.rasa_client import RasaClient
    from tests.integration.conftest import RASA_JWT_SECRET

    async def resume():
        client = RasaClient(stack.rasa_url, RASA_JWT_SECRET, 10)
        await client.open()
        try:
            await client.resume(conversation)
        finally:
            await client.close()

    asyncio.run(resume())
    assert texts(stack.send(conversation, "kauanko hakemuksen käsittely kestää")) == [faq_answer("processing_time")]


def test_two_misses_in_a_row_escalate(stack):
    conversation = sender()
    first = stack.send(conversation, "/nlu_fallback")
    assert texts(first)[0] in (response_text("utter_ask_rephrase"), response_text("utter_ask_rephrase_no_options"))
    second = stack.send(conversation, "/nlu_fallback")
    assert texts(second) == [response_text("utter_handoff_after_fallback")]
    assert handoffs(second)[0]["reason"] == "repeated_fallback"


def test_fallback_topic_buttons_payloads_answer_their_topic(stack):
    # action_handle_fallback offers FAQ topics by their example question, intents as "/<intent>".
    assert texts(stack.send(sender(), "Kauanko hakemuksen käsittely kestää?")) == [faq_answer("processing_time")]
    assert texts(stack.send(sender(), "/check_account_status")) == [response_text("utter_login_required")]


@pytest.fixture(scope="module")
def broken_stack(tmp_path_factory):
    """The assistant with an accounts backend that cannot be reached (nothing on port 9)."""
    from tests.integration.conftest import start_stack

    tmp = tmp_path_factory.mktemp("broken")
    running = start_stack(tmp, "postgresql://nobody@127.0.0.1:9/accounts")
    yield running
    running.stop()


def test_backend_down_apologises_offers_a_human_and_escalates(broken_stack):
    conversation = sender()
    token = signed_customer("LUMO-1001", conversation)
    messages = broken_stack.send(conversation, "missä vaiheessa mun hakemus on", token)
    assert texts(messages) == [response_text("utter_account_backend_unavailable")]
    assert "/request_human" in [b["payload"] for b in messages[0]["buttons"]]
    escalated = broken_stack.send(conversation, "/request_human", token)
    [signal] = handoffs(escalated)
    assert signal["reason"] == "action_failed"
    assert signal["summary"]["failed_action"] == "action_check_account_status"
    assert signal["summary"]["customer"] == {"verified": True, "customer_id": "LUMO-1001"}
    log = broken_stack.logs["actions"].read_text()
    assert "Traceback" not in log


def command_lines() -> Dict[int, List[str]]:
    """Every process's argv on this machine, as `ps` shows them (processes that end meanwhile are skipped)."""
    lines: Dict[int, List[str]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                lines[int(entry.name)] = (entry / "cmdline").read_bytes().decode(errors="replace").split("\0")
            except OSError:
                continue
    return lines


def test_rasa_api_secret_is_not_on_any_command_line(stack):
    """Our Rasa (this stack's process, found by its pid, not by a name other tests' processes share) runs
    without the secret in its argv, and no process on the machine has it on its command line."""
    from tests.integration.conftest import RASA_JWT_SECRET

    lines = command_lines()
    rasa = lines[stack.processes["rasa"].pid]
    assert rasa[1:3] == ["-m", "rasa_runtime"] and "--port" in rasa
    assert [pid for pid, argv in lines.items() if any(RASA_JWT_SECRET in arg for arg in argv)] == []


def test_rasa_api_refuses_requests_without_a_valid_jwt(stack):
    import urllib.error
    import urllib.request

    import jwt as pyjwt

    url = f"{stack.rasa_url}/conversations/someone/tracker"
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(url, timeout=10)
    assert refused.value.code == 401
    wrong_key = "wrong-secret-wrong-secret-wrong-secret-0123"
    forged = pyjwt.encode({"user": {"username": "x", "role": "admin"}}, wrong_key, "HS256")
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {forged}"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 401
