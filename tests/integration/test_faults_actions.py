"""Action server faults with real processes on loopback: visitor (Socket.IO) -> live-agent service ->
Rasa -> action server, every timeout at its default (RASA_ACTION_TIMEOUT_SECONDS 3.5 s,
LIVEAGENT_RASA_TIMEOUT_SECONDS 10 s).

- killed (kill -9): the visitor gets the Finnish apology and a "join the queue" button within 5 s;
  Rasa still answers what needs no action; a restarted action server takes over where it left off;
- frozen (SIGSTOP, an action slower than its timeout) while the visitor keeps writing: every message
  is answered once and in order (the frozen one with the apology), Rasa's tracker has every message
  once and in order, and after SIGCONT the conversation goes on.

Each test counts with tests/production/ledger.py: every visitor message must reach Rasa's tracker
exactly once, and every answer must reach the visitor exactly once.
"""

from __future__ import annotations

import asyncio
import signal
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, List

import pytest

from liveagent import copy
from liveagent.conversations import JOIN_QUEUE_PAYLOAD
from stack.processes import Process
from tests.conftest import content_copy, make_token
from tests.integration.conftest import MODEL, Service, Stack, free_port, service_env, start_stack
from tests.integration.test_conversations import faq_answer
from tests.production.ledger import Ledger

pytestmark = pytest.mark.integration

APOLOGY = copy.text("status.action_failed")
# Long enough that the ledger's marker does not change what the NLU makes of them (checked on the model).
ACCOUNT = "onko mun hakemus jo käsitelty"
ACCOUNT_ANSWER = "Aino, hakemuksesi (asumistuki) on käsittelyssä."


@dataclass
class Faults:
    stack: Stack
    service: Service
    tmp: Path

    @property
    def actions(self) -> Process:
        return self.stack.processes["actions"]

    def kill_actions(self) -> None:
        self.actions.kill()

    def restart_actions(self) -> None:
        """The same command, port, environment and log as before."""
        self.actions.start()
        self.actions.wait_ready(timeout=60)

    def heal(self) -> None:
        """A running, responsive action server (after a test that failed half-way)."""
        if self.actions.alive():
            self.actions.signal(signal.SIGCONT)
        else:
            self.restart_actions()


@pytest.fixture(scope="module")
def faults(tmp_path_factory):
    if not MODEL.exists():
        pytest.fail("models/lumo.tar.gz is missing: run `make train` (make test does it)")
    tmp = tmp_path_factory.mktemp("faults")
    port = free_port()
    service_url = f"http://127.0.0.1:{port}"
    with pytest.MonkeyPatch.context() as patch:  # start_stack builds on os.environ: timeouts at their defaults
        for name in ("RASA_ACTION_TIMEOUT_SECONDS", "LIVEAGENT_RASA_TIMEOUT_SECONDS", "TICKET_LOCK_LIFETIME"):
            patch.delenv(name, raising=False)
        running = start_stack(tmp, f"sqlite:///{tmp}/accounts.sqlite", {"LUMO_LIVEAGENT_URL": service_url})
    env = service_env(running, port, tmp, content_copy(tmp / "content"))
    service = Service(service_url, running.rasa_url, env, tmp)
    faults = Faults(running, service, tmp)
    try:
        service.start()
        yield faults
    finally:
        service.stop()
        faults.actions.signal(signal.SIGCONT)  # a frozen process would not see SIGTERM until thawed
        running.stop()


@pytest.fixture
def healthy(faults):
    faults.heal()
    yield faults
    faults.heal()


class Conversation:
    """One visitor over Socket.IO, with the ledger: visitor -> Rasa's tracker and answers -> visitor."""

    def __init__(self, faults: Faults, ledger: Ledger) -> None:
        from tests.liveagent.conftest import Visitor

        self.faults = faults
        self.ledger = ledger
        self.visitor = Visitor(faults.service)
        self.sent: List[str] = []  # visitor texts with their markers, in order
        self.answer_markers: List[str] = []  # per visitor message: the ledger entry of its answer
        self.expected: List[Callable[[Dict[str, Any]], bool]] = []
        self.sent_at: List[float] = []
        self.logged_in = False  # whether a message carried the customer's identity token

    async def open(self) -> None:
        await self.visitor.connect()

    @property
    def conversation_id(self) -> str:
        assert self.visitor.token
        return self.visitor.token.split(".")[0]

    async def say(self, text: str, expect: Callable[[Dict[str, Any]], bool], auth: bool = True) -> int:
        marked = self.ledger.new("v", "rasa", text)
        self.sent.append(marked)
        self.answer_markers.append(self.ledger.new("bot", "visitor", "answer"))
        self.expected.append(expect)
        self.sent_at.append(time.monotonic())
        self.logged_in = self.logged_in or auth
        await self.visitor.say(marked, auth_token=make_token("LUMO-1001") if auth else None)
        return len(self.sent) - 1

    def answers(self) -> List[Dict[str, Any]]:
        return self.visitor.received("bot_uttered")

    async def wait_answers(self, count: int, timeout: float) -> float:
        """Waits until ``count`` answers arrived; returns when the last of them did (monotonic)."""
        deadline = time.monotonic() + timeout
        while len(self.answers()) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(self.answers())} answers of {count} after {timeout} s: {self.answers()}")
            await asyncio.sleep(0.05)
        return time.monotonic()

    def rasa_user_texts(self) -> List[str]:
        import json

        from tests.integration.conftest import api_jwt

        request = urllib.request.Request(
            f"{self.faults.stack.rasa_url}/conversations/{self.conversation_id}/tracker",
            headers={"Authorization": f"Bearer {api_jwt()}"})
        with urllib.request.urlopen(request, timeout=30) as response:
            events = json.loads(response.read())["events"]
        return [e["text"] for e in events if e["event"] == "user"]

    async def transcript(self) -> List[Dict[str, Any]]:
        """Everything the service stored for the visitor, in order (what a reloaded widget shows)."""
        from tests.liveagent.conftest import Visitor

        again = Visitor(self.faults.service)
        again.last_seen_id = 0
        # The widget of the same logged-in customer (the session is bound to the verified customer).
        await again.connect(self.visitor.token, auth_token=make_token("LUMO-1001") if self.logged_in else None)
        history = await again.wait_for("history")
        await again.close()
        return history["messages"]

    async def settle_and_count(self) -> None:
        """Late or repeated answers get a moment to show up; then everything is counted and checked."""
        await asyncio.sleep(2.0)
        transcript = await self.transcript()
        # Which visitor message each stored answer follows.
        turn_of: Dict[int, int] = {}
        turn = -1
        visitor_texts = []
        for message in transcript:
            if message["sender"] == "visitor":
                turn += 1
                visitor_texts.append(message["text"])
            else:
                assert turn >= 0, f"an answer before any visitor message: {message}"
                turn_of[message["id"]] = turn
        assert visitor_texts == self.sent, "the service stored the visitor's messages out of order"
        live = self.answers()
        for answer in live:  # every live answer counts once for the message it answers
            assert answer["id"] in turn_of, f"an answer the service never stored: {answer}"
            self.ledger.saw("visitor", f"answer {self.answer_markers[turn_of[answer['id']]]}")
        for text in self.rasa_user_texts():
            self.ledger.saw("rasa", text)
        self.ledger.assert_exact()  # prints the report
        # In order: the live answers are the stored ones, one per message, in the visitor's order.
        assert [turn_of[a["id"]] for a in live] == list(range(len(self.sent)))
        for index, (answer, expect) in enumerate(zip(live, self.expected, strict=True)):
            assert expect(answer), f"answer to {self.sent[index]!r}: {answer}"
        assert self.rasa_user_texts() == self.sent, "Rasa's tracker: every message once, in order"

    async def close(self) -> None:
        await self.visitor.close()


def apology(answer: Dict[str, Any]) -> bool:
    return (answer["sender"] == "system" and answer["text"] == APOLOGY
            and [r["payload"] for r in answer["quick_replies"]] == [JOIN_QUEUE_PAYLOAD])


def bot_text(expected: str, prefix: bool = False) -> Callable[[Dict[str, Any]], bool]:
    def check(answer: Dict[str, Any]) -> bool:
        text = answer["text"]
        return answer["sender"] == "bot" and (text.startswith(expected) if prefix else text == expected)
    return check


async def test_killed_action_server_gets_an_apology_and_a_human_offer(healthy):
    faults = healthy
    started = time.monotonic()
    conversation = Conversation(faults, Ledger("kill"))
    await conversation.open()
    try:
        await conversation.say(ACCOUNT, bot_text(ACCOUNT_ANSWER, prefix=True))
        await conversation.wait_answers(1, 15)

        faults.kill_actions()
        turn = await conversation.say(ACCOUNT, apology)
        answered = await conversation.wait_answers(2, 5)
        waited = answered - conversation.sent_at[turn]
        print(f"apology {waited:.2f} s after the message (action server killed)")
        assert waited < 5
        assert apology(conversation.answers()[-1])
        assert conversation.answers()[-1]["quick_replies"][0]["title"] == copy.text("buttons.join_queue")

        # What needs no action is still answered.
        await conversation.say("miten lähetän liitteet", bot_text(faq_answer("attachments")))
        await conversation.wait_answers(3, 15)

        faults.restart_actions()
        await conversation.say(ACCOUNT, bot_text(ACCOUNT_ANSWER, prefix=True))
        await conversation.wait_answers(4, 15)
        await conversation.settle_and_count()
    finally:
        await conversation.close()
    print(f"test took {time.monotonic() - started:.1f} s")


async def test_frozen_action_server_loses_and_reorders_no_turn(healthy):
    faults = healthy
    started = time.monotonic()
    conversation = Conversation(faults, Ledger("freeze"))
    await conversation.open()
    try:
        await conversation.say("miten mä kirjaudun asiointipalveluun", bot_text(faq_answer("login")))
        await conversation.wait_answers(1, 15)

        faults.actions.signal(signal.SIGSTOP)  # the action call hangs: slower than any timeout
        frozen = await conversation.say(ACCOUNT, apology)
        await asyncio.sleep(0.5)  # the visitor does not wait for the answer
        await conversation.say("miten lähetän liitteet", bot_text(faq_answer("attachments")))
        await conversation.say("kauanko hakemuksen käsittely kestää", bot_text(faq_answer("processing_time")))
        answered = await conversation.wait_answers(2, 8)
        waited = answered - conversation.sent_at[frozen]
        print(f"apology {waited:.2f} s after the message (action server frozen)")
        assert waited < 5
        await conversation.wait_answers(4, 15)

        faults.actions.signal(signal.SIGCONT)  # it now finishes the call Rasa gave up on
        await asyncio.sleep(1.0)
        await conversation.say(ACCOUNT, bot_text(ACCOUNT_ANSWER, prefix=True))
        await conversation.say("milloin rahat tulee tilille", bot_text(faq_answer("payment_dates")))
        await conversation.wait_answers(6, 15)
        await conversation.settle_and_count()
    finally:
        faults.actions.signal(signal.SIGCONT)
        await conversation.close()
    print(f"test took {time.monotonic() - started:.1f} s")


def test_timeouts_are_chained_inside_the_lock():
    """The defaults these tests run with: action call < the service's wait < Rasa's lock."""
    from actions.settings import Settings as ActionSettings
    from liveagent.settings import Settings as ServiceSettings
    from rasa_runtime.action_calls import DEFAULT_TIMEOUT_SECONDS

    accounts = ActionSettings().accounts_timeout_seconds
    service = ServiceSettings().rasa_timeout_seconds
    assert accounts < DEFAULT_TIMEOUT_SECONDS < 5  # the action's own apology first; ours within 5 s
    assert DEFAULT_TIMEOUT_SECONDS + 3 <= service  # room for NLU and the tracker before the service gives up
    assert service < 60 / 3  # Rasa's default TICKET_LOCK_LIFETIME
