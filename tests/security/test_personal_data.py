"""Personal data: agents handling a chat see what the visitor wrote; editors, the audit log and the
service's own log lines see it masked (identity codes, IBANs, phone numbers, e-mail addresses)."""

from __future__ import annotations

import re
import subprocess
import sys
import uuid
from typing import Any, List

import pytest
from sanic import Sanic

from liveagent.app import create_app
from liveagent.settings import Settings
from tests.conftest import ROOT, content_copy
from tests.liveagent.conftest import Visitor, escalated, eventually

HETU, IBAN, PHONE, EMAIL = "131052-308T", "FI21 1234 5600 0007 85", "040 123 4567", "matti.meikalainen@example.com"
RAW = (HETU, IBAN, PHONE, EMAIL, "1234 5600", "meikalainen@")
VISITOR_TEXT = f"Hetuni on {HETU}, tili {IBAN}, soita {PHONE} tai {EMAIL}"
AGENT_TEXT = f"Soitan numeroon {PHONE} ja lähetän vahvistuksen osoitteeseen {EMAIL}."


@pytest.fixture
def service_env(tmp_path):
    root = content_copy(tmp_path / "project", model=b"model-in-use")
    return {"LIVEAGENT_CONTENT_ROOT": str(root), "LIVEAGENT_HARVEST_IDLE_SECONDS": "0.3",
            "LIVEAGENT_SWEEP_SECONDS": "0.3"}


def editor_get_paths() -> List[str]:
    """Every GET route under /api/editor, from the app itself (a new one is checked the day it appears)."""
    Sanic.test_mode = True
    app = create_app(Settings(session_secret="x" * 40), name=f"editor_routes_{uuid.uuid4().hex}")
    paths = ["/" + re.sub(r"<[^>]+>", "login", route.path) for route in app.router.routes
             if route.path.startswith("api/editor") and "GET" in route.methods]
    assert len(paths) >= 7
    return paths


async def test_agents_see_the_real_text_and_editors_only_masked(service, visitors, make_agent):
    aino = await make_agent("aino")
    visitor, conversation_id = await escalated(visitors)
    assert (await aino.call("POST", f"/conversations/{conversation_id}/claim")).status == 200
    await visitor.say(VISITOR_TEXT)

    async def agent_sees_it():
        detail = await (await aino.call("GET", f"/conversations/{conversation_id}")).json()
        return VISITOR_TEXT in [m["text"] for m in detail["messages"]]

    await eventually(agent_sees_it)
    assert (await aino.call("POST", f"/conversations/{conversation_id}/messages", {"text": AGENT_TEXT})).status == 201
    assert (await aino.call("POST", f"/conversations/{conversation_id}/close")).status == 200

    missed = Visitor(service)  # a message the bot did not understand goes to the editors' inbox
    await missed.connect()
    await missed.say(f"missä on pysäkki, hetuni {HETU} ja sposti {EMAIL}")
    await missed.wait_for("bot_uttered")

    eeva = await make_agent("eeva", online=False)

    async def editor(path: str) -> str:
        response = await eeva.session.get(service.url + path, headers={"X-CSRF-Token": eeva.csrf})
        assert response.status == 200, (path, response.status)
        return await response.text()

    answered = await eventually(lambda: _json(eeva, "/api/editor/answered", "answered"))
    assert answered[0]["question"] == ("Hetuni on [henkilötunnus], tili [tilinumero], soita [puhelinnumero] "
                                       "tai [sähköposti]")
    assert answered[0]["answer"] == ("Soitan numeroon [puhelinnumero] ja lähetän vahvistuksen osoitteeseen "
                                     "[sähköposti].")
    groups = await eventually(lambda: _json(eeva, "/api/editor/missed", "groups"))
    assert any("pysäkki, hetuni [henkilötunnus] ja sposti [sähköposti]" in t for g in groups for t in g["texts"])
    for path in editor_get_paths():
        body = await editor(path)
        assert not [raw for raw in RAW if raw in body], path
    # the agents' own view is unchanged
    assert await agent_sees_it()


async def _json(agent, path: str, key: str) -> Any:
    response = await agent.session.get(agent.service.url + path)
    return (await response.json())[key] if response.status == 200 else None


async def test_the_audit_log_masks_what_agents_type(service, make_agent):
    ville = await make_agent("ville", online=False)
    response = await ville.call("POST", "/canned", {"title": f"Soita {PHONE}", "text": f"Lähetä {EMAIL}"})
    assert response.status == 201
    entries = (await (await ville.call("GET", "/audit?action=canned.create")).json())["entries"]
    assert entries[0]["detail"] == {"title": "Soita [puhelinnumero]"}


def test_the_service_masks_personal_data_in_its_log_lines():
    """``python -m liveagent`` configures logging with the masking record factory installed."""
    program = ("import logging; from liveagent.__main__ import configure_logging; configure_logging(); "
               f"logging.getLogger('liveagent.test').warning('asiakas kirjoitti: %s', {VISITOR_TEXT!r})")
    result = subprocess.run([sys.executable, "-c", program], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    line = result.stderr.strip().splitlines()[-1]
    assert line.endswith("asiakas kirjoitti: Hetuni on [henkilötunnus], tili [tilinumero], "
                         "soita [puhelinnumero] tai [sähköposti]")
    source = (ROOT / "liveagent" / "__main__.py").read_text(encoding="utf-8")
    assert "configure_logging()" in source.split("def main(", 1)[1]
