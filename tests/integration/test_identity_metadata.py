"""What Rasa's tracker keeps of a logged-in visitor: the verified customer id, never the website's JWT.

The whole path runs for real: widget protocol -> live-agent service (verifies the token, signs the
customer id for this conversation) -> Rasa (stores the metadata in its tracker) -> action server
(trusts the id only with the service's signature) -> accounts backend.
"""

from __future__ import annotations

import json
import re
import urllib.request

import pytest

from tests.conftest import make_token
from tests.integration.conftest import api_jwt
from tests.liveagent.conftest import Visitor

pytestmark = pytest.mark.integration

JWT_SHAPE = re.compile(r"eyJ[\w-]+\.[\w-]+\.[\w-]+")


def tracker(rasa_url: str, conversation_id: str) -> dict:
    request = urllib.request.Request(f"{rasa_url}/conversations/{conversation_id}/tracker",
                                     headers={"Authorization": f"Bearer {api_jwt()}"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


async def test_the_tracker_holds_the_verified_customer_id_and_no_jwt(full_stack):
    visitor = Visitor(full_stack)
    await visitor.connect()
    token = make_token("LUMO-1001")
    try:
        await visitor.say("onko mun hakemus jo käsitelty", auth_token=token)
        answer = await visitor.wait_for("bot_uttered", lambda d: "hakemuksesi" in (d.get("text") or ""), timeout=60)
    finally:
        await visitor.close()
    assert answer["text"].startswith("Aino, hakemuksesi (asumistuki) on käsittelyssä.")  # the action trusted it
    conversation_id = visitor.token.split(".")[0]
    stored = tracker(full_stack.rasa_url, conversation_id)
    users = [event for event in stored["events"] if event.get("event") == "user"]
    assert [event["metadata"]["customer"]["id"] for event in users] == ["LUMO-1001"]
    assert set(users[0]["metadata"]) - {"model_id", "assistant_id"} == {"customer"}  # Rasa adds these two
    dump = json.dumps(stored)
    assert token not in dump and "auth_token" not in dump
    assert JWT_SHAPE.findall(dump) == []
