"""Erasure on the real Rasa server (python -m rasa_runtime with rasa_runtime/erasure.py):
`DELETE /conversations/<id>/tracker` deletes one conversation and nothing else, takes the API's JWT,
and is what the service's client (liveagent/rasa_client.py) calls."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
import uuid
from typing import Dict, List, Optional

import jwt
import pytest

from liveagent.rasa_client import RasaClient
from tests.integration.conftest import RASA_JWT_SECRET, api_jwt

pytestmark = pytest.mark.integration


def delete(url: str, headers: Optional[Dict[str, str]] = None) -> int:
    request = urllib.request.Request(url, method="DELETE", headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def said(tracker: dict) -> List[str]:
    """What the visitor and the bot wrote, in order."""
    return [event.get("text") or "" for event in tracker["events"] if event["event"] in ("user", "bot")]


def talk(stack, sender: str) -> None:
    for text in ("moi", "miten mä lähetän liitteitä"):
        assert stack.send(sender, text), text


async def test_delete_removes_one_conversation_and_keeps_the_others(stack):
    run = uuid.uuid4().hex[:8]
    erased, kept = f"it-erasure-{run}", f"it-erasure-kept-{run}"
    talk(stack, erased)
    talk(stack, kept)
    assert "miten mä lähetän liitteitä" in said(stack.tracker(erased))
    kept_before = stack.tracker(kept)["events"]
    url = f"{stack.rasa_url}/conversations/{erased}/tracker"

    refused = {
        "no token": delete(url),
        "the valid JWT in the URL": delete(f"{url}?token={api_jwt()}"),
        "wrong key": delete(url, {"Authorization": "Bearer " + jwt.encode(
            {"user": {"username": "x", "role": "admin"}}, "wrong-secret-wrong-secret-0123456789", algorithm="HS256")}),
        "expired": delete(url, {"Authorization": f"Bearer {api_jwt(minutes=-5)}"}),
    }
    assert refused == {reason: 401 for reason in refused}
    assert "miten mä lähetän liitteitä" in said(stack.tracker(erased))  # nothing went

    deleted_at = time.time()
    assert delete(url, {"Authorization": f"Bearer {api_jwt()}"}) == 204
    after = stack.tracker(erased)
    # Reading it back starts a fresh session (Rasa's GET does); nothing of the old conversation is left.
    assert said(after) == [] and all(event["timestamp"] >= deleted_at for event in after["events"])
    assert stack.tracker(kept)["events"] == kept_before
    assert delete(url, {"Authorization": f"Bearer {api_jwt()}"}) == 204  # again: nothing to delete, still done

    # The visitor can start over; the bot greets as in a new conversation.
    assert stack.send(erased, "moi")
    assert said(stack.tracker(erased))[0] == "moi"


async def test_the_services_client_deletes_through_the_route(stack):
    conversation_id = f"it-erasure-client-{uuid.uuid4().hex[:8]}"
    talk(stack, conversation_id)
    client = RasaClient(stack.rasa_url, RASA_JWT_SECRET, timeout_seconds=30)
    await client.open()
    try:
        assert await client.erase_tracker(conversation_id) is True  # deleted, not emptied
        assert [e for e in await client.tracker_events(conversation_id) if e["event"] in ("user", "bot")] == []
    finally:
        await client.close()
