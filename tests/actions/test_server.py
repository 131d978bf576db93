"""The action server (python -m actions.server) as Rasa meets it: a real process on loopback.

Only requests with the token get past /health; bodies are bounded, compressed ones too; an action's
exception neither comes back in the response nor reaches the log with what the visitor wrote.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
import zlib
from pathlib import Path
from typing import Any, Dict, Optional, Tuple

import pytest

from stack.processes import ProcessFailed, free_port, start
from tests.conftest import ROOT

TOKEN = "action-server-token-for-the-tests-0123456789"
MAX_BODY = 64 * 1024
VISITOR_TEXT = "hetuni on 010190-123A ja kissani nimi on Salaperäinen Sulo"
SLOT_VALUE = "Maija Mehiläinen"


def server_env(**overrides: str) -> Dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACTION_SERVER_")}
    env.update({"ACTION_SERVER_TOKEN": TOKEN, "ACTION_SERVER_MAX_BODY_BYTES": str(MAX_BODY), "LUMO_ENV": "demo"},
               **overrides)
    return env


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    port = free_port()
    log = tmp_path_factory.mktemp("action-server") / "actions.log"
    url = f"http://127.0.0.1:{port}"
    process = start("actions", [sys.executable, "-m", "actions.server", "--port", str(port), "--actions",
                                "tests.actions.server_test_actions"], server_env(), f"{url}/health", log)
    try:
        process.wait_ready(60)
    except ProcessFailed as error:
        process.stop()
        pytest.fail(str(error))
    yield url, port, log
    process.stop(timeout=10)


def call(url: str, path: str, body: Optional[bytes] = None, token: Optional[str] = TOKEN,
         headers: Optional[Dict[str, str]] = None) -> Tuple[int, Any]:
    request = urllib.request.Request(f"{url}{path}", data=body, method="POST" if body is not None else "GET",
                                     headers={"Content-Type": "application/json", **(headers or {})})
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def action_call(action: str, text: str = VISITOR_TEXT) -> bytes:
    """What Rasa posts to /webhook (trimmed): the action, the tracker, the domain."""
    tracker = {"sender_id": "visitor-1", "slots": {"customer_name": SLOT_VALUE},
               "latest_message": {"text": text, "intent": {"name": "faq"}},
               "events": [{"event": "user", "text": text}], "paused": False, "followup_action": None,
               "active_loop": {}, "latest_action_name": "action_listen"}
    return json.dumps({"next_action": action, "sender_id": "visitor-1", "tracker": tracker,
                       "domain": {"responses": {}}, "version": "3.6.21"}).encode()


def test_health_is_open_and_everything_else_needs_the_token(server):
    url, _port, _log = server
    assert call(url, "/health", token=None) == (200, {"status": "ok"})
    for token, headers in ((None, None), ("wrong-token-" + "x" * 40, None), (TOKEN[:-1], None),
                           (None, {"Authorization": TOKEN}), (None, {"Authorization": f"bearer {TOKEN}"}),
                           (None, {"Authorization": f"Bearer {TOKEN} "})):
        assert call(url, "/actions", token=token, headers=headers)[0] == 401
        status, body = call(url, "/webhook", action_call("action_answer"), token=token, headers=headers)
        assert (status, body) == (401, {"error": "unauthorized"})


def test_the_right_token_runs_actions(server):
    url, _port, _log = server
    status, listed = call(url, "/actions")
    assert status == 200 and {"name": "action_answer"} in listed
    status, result = call(url, "/webhook", action_call("action_answer"))
    assert status == 200
    assert result["events"] == [] and result["responses"][0]["response"] == "utter_answer"


def test_it_listens_on_loopback_only(server):
    _url, port, _log = server
    listening = [line.split() for line in Path("/proc/net/tcp").read_text().splitlines()[1:]
                 if line.split()[3] == "0A"]  # state LISTEN
    addresses = {local for _sl, local, *_rest in listening if local.endswith(f":{port:04X}")}
    assert addresses == {f"0100007F:{port:04X}"}  # 127.0.0.1


def test_request_bodies_are_bounded(server):
    url, _port, _log = server
    assert call(url, "/webhook", b"{" + b" " * MAX_BODY + b"}")[0] == 413
    # Compressed like Rasa does with COMPRESS_ACTION_SERVER_REQUEST: fine while small, refused when it inflates.
    small = zlib.compress(action_call("action_answer"))
    assert call(url, "/webhook", small, headers={"Content-Encoding": "deflate"})[0] == 200
    bomb = zlib.compress(b'{"next_action": "' + b"a" * (50 * MAX_BODY) + b'"}', 9)
    assert len(bomb) < MAX_BODY
    assert call(url, "/webhook", bomb, headers={"Content-Encoding": "deflate"})[0] == 413
    assert call(url, "/webhook", b"not deflate at all", headers={"Content-Encoding": "deflate"})[0] == 400


def test_a_failing_action_echoes_nothing_in_the_answer_or_the_log(server):
    url, _port, log = server
    status, body = call(url, "/webhook", action_call("action_break"))
    assert status == 500
    assert body == {"error": "internal server error", "action_name": "action_break"}
    # Not JSON: refused without quoting it.
    status, body = call(url, "/webhook", f'{{"next_action": "{VISITOR_TEXT}"'.encode())
    assert (status, body) == (400, {"error": "bad request"})
    # An action's own logger.exception keeps its line and loses the exception's message.
    assert call(url, "/webhook", action_call("action_log_and_answer"))[0] == 200
    time.sleep(0.3)
    text = log.read_text()
    assert "Action action_break failed: ValueError at actions/server_test_actions.py:" in text
    assert "Lookup failed\n(traceback without messages) KeyError at actions/server_test_actions.py:" in text
    for secret in ("010190-123A", "Salaperäinen", "Sulo", SLOT_VALUE, "Mehiläinen", TOKEN):
        assert secret not in text
    assert "request_body" not in text


def test_the_server_masks_personal_data_in_what_actions_log(server):
    """The entry point installs the masking (importing the actions does not): an action's own log line
    keeps its words and loses the identity code."""
    url, _port, log = server
    wrote = "hetuni on 311299-999X, soita 040 765 4321"
    assert call(url, "/webhook", action_call("action_log_visitor_text", wrote))[0] == 200
    time.sleep(0.3)
    text = log.read_text()
    assert "The visitor wrote: hetuni on [henkilötunnus], soita [puhelinnumero]" in text
    assert "311299-999X" not in text and "765 4321" not in text


@pytest.mark.parametrize("token", [None, "", "too-short-0123456789"])
def test_it_refuses_to_start_without_a_long_token(token):
    env = server_env()
    env.pop("ACTION_SERVER_TOKEN")
    if token is not None:
        env["ACTION_SERVER_TOKEN"] = token
    done = subprocess.run([sys.executable, "-m", "actions.server", "--port", str(free_port())], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "ACTION_SERVER_TOKEN must be set to at least 32 random characters" in done.stderr


def test_make_run_writes_a_token_the_server_accepts(tmp_path, monkeypatch):
    from actions.settings import ServerSettings
    from tests.conftest import run_ensure_env

    values = run_ensure_env(tmp_path, monkeypatch)
    settings = ServerSettings.from_env(values)
    assert len(settings.token) >= 32 and settings.host == "127.0.0.1"
    assert values["RASA_ACTION_TIMEOUT_SECONDS"] and float(values["LIVEAGENT_RASA_TIMEOUT_SECONDS"]) >= 10
