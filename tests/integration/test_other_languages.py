"""Swedish and English visitors through the trained model, the real Rasa server and the action server:
the language identified by the NLU picks the response variations, and the misses reach the inbox."""

from __future__ import annotations

import http.server
import json
import threading
import uuid
from typing import Any, Dict, Iterator, List, Optional

import pytest
import yaml

from content.missed import missed_in_tracker
from tests.conftest import ROOT

pytestmark = pytest.mark.integration


def variation(response: str, language: Optional[str]) -> Dict[str, Any]:
    """The domain's variation of ``response`` for ``language`` (None: the one without a condition)."""
    with open(ROOT / "domain.yml", encoding="utf-8") as handle:
        variations = yaml.safe_load(handle)["responses"][response]
    for candidate in variations:
        values = [c.get("value") for c in candidate.get("condition") or [] if c.get("name") == "language"]
        if (values[0] if values else None) == language:
            return candidate
    raise AssertionError(f"{response} has no variation for {language}")


def faq_answer(topic: str) -> str:
    with open(ROOT / "data" / "faq" / f"{topic}.yml", encoding="utf-8") as handle:
        return yaml.safe_load(handle)["responses"][f"utter_faq/{topic}"][0]["text"]


def texts(messages: List[Dict[str, Any]]) -> List[str]:
    return [m["text"] for m in messages if m.get("text")]


def sender() -> str:
    return f"lang-{uuid.uuid4().hex}"


def test_how_do_i_log_in_is_answered_in_english_with_a_person_offered(stack):
    messages = stack.send(sender(), "how do I log in")
    assert texts(messages) == [variation("utter_other_language", "en")["text"],
                               variation("utter_other_language_human", "en")["text"]]
    assert "https://asiointi.lumo.example" in texts(messages)[0]
    assert messages[1]["buttons"] == [{"title": "I want to talk to a person", "payload": "/request_human"}]


def test_hur_loggar_jag_in_is_answered_in_swedish_and_a_person_takes_over_in_swedish(stack):
    conversation = sender()
    assert texts(stack.send(conversation, "hur loggar jag in")) == [
        variation("utter_other_language", "sv")["text"], variation("utter_other_language_human", "sv")["text"]]
    handed = stack.send(conversation, "/request_human")
    assert texts(handed) == [variation("utter_handoff", "sv")["text"]]
    assert [m["custom"]["handoff"]["reason"] for m in handed if (m.get("custom") or {}).get("handoff")] == [
        "visitor_request"]

    events = stack.tracker(conversation)["events"]
    assert [e["value"] for e in events if e.get("event") == "slot" and e.get("name") == "language"] == ["sv"]
    [missed] = missed_in_tracker(conversation, events)
    assert (missed.text, missed.reason, missed.language, missed.guess) == (
        "hur loggar jag in", "other_language", "sv", None)


def test_an_english_visitor_is_thanked_in_english_and_finnish_switches_back(stack):
    conversation = sender()
    stack.send(conversation, "I haven't received my money yet")
    assert texts(stack.send(conversation, "thank you so much")) == [variation("utter_thank", "en")["text"]]
    assert texts(stack.send(conversation, "miten mä kirjaudun asiointipalveluun")) == [faq_answer("login")]
    assert texts(stack.send(conversation, "kiitos")) == [variation("utter_thank", None)["text"]]


def test_finnish_messages_are_answered_as_before(stack):
    assert texts(stack.send(sender(), "miten mä kirjaudun asiointipalveluun")) == [faq_answer("login")]
    assert texts(stack.send(sender(), "mita mun pitaa tehda etta saan asumistukea")) != [
        variation("utter_other_language", None)["text"]]
    greeting = stack.send(sender(), "moi")
    assert texts(greeting) == [variation("utter_greet", None)["text"]]


@pytest.fixture(scope="module")
def closed_stack(tmp_path_factory) -> Iterator[Any]:
    """The assistant with a live-agent service that says nobody can take a chat (closed)."""
    from tests.integration.conftest import start_stack

    class Closed(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            body = json.dumps({"available": False, "reason": "closed",
                               "text": "Asiakaspalvelijamme palvelevat arkisin klo 8.00–18.00."}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Closed)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    tmp = tmp_path_factory.mktemp("closed")
    running = start_stack(tmp, f"sqlite:///{tmp}/accounts.sqlite",
                          {"LUMO_LIVEAGENT_URL": f"http://127.0.0.1:{server.server_address[1]}"})
    yield running
    running.stop()
    server.shutdown()


def test_nobody_in_the_english_visitor_gets_the_contact_form_in_english(closed_stack):
    messages = closed_stack.send(sender(), "how do I log in")
    assert texts(messages) == [variation("utter_other_language", "en")["text"],
                               variation("utter_human_unavailable", "en")["text"]]
    assert [m["custom"] for m in messages if m.get("custom")] == [{"contact_request_offer": {"reason": "closed"}}]
