"""The audit log over HTTP: agents' and editors' actions are recorded with who, what, on what and
from where; only supervisors read it (GET /api/agent/audit, newest first, paged)."""

from __future__ import annotations

from typing import Any, List, Tuple

import pytest

from liveagent.auditing import ACTIONS
from tests.conftest import content_copy
from tests.liveagent.conftest import VALIDATION_SECONDS, Visitor, escalated, eventually


@pytest.fixture
def service_env(tmp_path):
    # No sweep during the test: on a loaded machine the first one (15 s) would add the daily retention entry.
    return {"LIVEAGENT_CONTENT_ROOT": str(content_copy(tmp_path / "project", model=b"model-in-use")),
            "LIVEAGENT_SWEEP_SECONDS": "3600"}


async def editor_call(agent, method: str, path: str, json: Any = None):
    return await agent.session.request(method, f"{agent.service.url}/api/editor{path}", json=json,
                                       headers={"X-CSRF-Token": agent.csrf})


async def all_entries(ville) -> List[dict]:
    """Every entry, newest first, read page by page (two per page)."""
    entries, before = [], ""
    while True:
        page = await (await ville.call("GET", f"/audit?limit=2{before}")).json()
        entries.extend(page["entries"])
        if page["next_before"] is None:
            return entries
        before = f"&before={page['next_before']}"


async def test_agent_and_editor_actions_are_audited(service, visitors, make_agent):
    aino, ville = await make_agent("aino"), await make_agent("ville")
    eeva = await make_agent("eeva", online=False)

    first, first_id = await escalated(visitors)
    assert (await aino.call("POST", f"/conversations/{first_id}/claim")).status == 200
    assert (await aino.call("POST", f"/conversations/{first_id}/notes", {"text": "Soita 040 123 4567"})).status == 201
    transfer = await aino.call("POST", f"/conversations/{first_id}/transfer", {"agent_id": ville.me["id"]})
    assert transfer.status == 200
    assert (await ville.call("POST", f"/conversations/{first_id}/close")).status == 200
    second = Visitor(service)
    await second.connect()
    await second.say("haluan puhua ihmisen kanssa")
    await second.wait_for("status", lambda d: d["state"] == "waiting")
    second_id = second.token.split(".")[0]
    assert (await aino.call("POST", f"/conversations/{second_id}/claim")).status == 200
    assert (await aino.call("POST", f"/conversations/{second_id}/return")).status == 200

    created = await ville.call("POST", "/canned", {"title": "Tervehdys", "text": "Hei!"})
    canned_id = (await created.json())["id"]
    assert (await ville.call("PUT", f"/canned/{canned_id}", {"title": "Tervehdys", "text": "Moi!"})).status == 200
    assert (await ville.call("DELETE", f"/canned/{canned_id}")).status == 204
    await first.client.emit("contact_request", {"name": "Testi", "contact": "testi@example.com", "message": "Soita"})
    await first.wait_for("status", lambda d: d["text"].startswith("Kiitos!"))
    ticket = (await (await aino.call("GET", "/tickets")).json())["tickets"][0]
    assert (await aino.call("POST", f"/tickets/{ticket['id']}/handled")).status == 200
    assert (await aino.call("PUT", "/presence", {"presence": "away"})).status == 200

    topic = (await (await editor_call(eeva, "GET", "/topics/opening_hours")).json())["topic"]
    changed = await editor_call(eeva, "PUT", "/topics/opening_hours/answer",
                                {"text": topic["answer"] + " Tervetuloa!", "version": topic["version"]})
    assert changed.status == 200
    version = (await changed.json())["version"]
    added = await editor_call(eeva, "POST", "/topics/opening_hours/examples",
                              {"examples": ["milloin ootte auki lauantaina"], "version": version,
                               "missed_ids": [54321]})
    assert added.status == 200
    version = (await added.json())["version"]
    removed = await editor_call(eeva, "POST", "/topics/opening_hours/examples/remove",
                                {"example": "milloin ootte auki lauantaina", "version": version})
    assert removed.status == 200
    assert (await editor_call(eeva, "POST", "/topics", {"name": "pysakointi", "title": "Pysäköinti",
                                                        "answer": "Pihassa on tilaa.",
                                                        "examples": ["voiko pysäköidä"]})).status == 201
    assert (await editor_call(eeva, "POST", "/missed/dismiss", {"ids": [12345]})).status == 200
    assert (await editor_call(eeva, "POST", "/publish")).status == 202
    async def publish_ended() -> bool:  # it fails at validation (one example); then a rollback may start
        runs = (await (await editor_call(eeva, "GET", "/runs")).json())["runs"]
        return runs[0]["state"] != "running"

    await eventually(publish_ended, timeout=VALIDATION_SECONDS)
    assert (await editor_call(eeva, "POST", "/rollback")).status == 202
    assert (await aino.call("POST", "/logout")).status == 204

    entries = await all_entries(ville)
    ids = [e["id"] for e in entries]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == len(ids)
    trail: List[Tuple[str, str, Any]] = [(e["action"], (e["actor"] or {}).get("username"), e["target"])
                                         for e in reversed(entries)]
    expected = [
        ("login.success", "aino", None), ("presence", "aino", None),
        ("login.success", "ville", None), ("presence", "ville", None),
        ("login.success", "eeva", None),
        ("conversation.claim", "aino", f"conversation:{first_id}"),
        ("conversation.note", "aino", f"conversation:{first_id}"),
        ("conversation.transfer", "aino", f"conversation:{first_id}"),
        ("conversation.close", "ville", f"conversation:{first_id}"),
        ("conversation.claim", "aino", f"conversation:{second_id}"),
        ("conversation.return", "aino", f"conversation:{second_id}"),
        ("canned.create", "ville", f"canned:{canned_id}"), ("canned.update", "ville", f"canned:{canned_id}"),
        ("canned.delete", "ville", f"canned:{canned_id}"),
        ("ticket.handled", "aino", f"ticket:{ticket['id']}"), ("presence", "aino", None),
        ("content.answer", "eeva", "topic:opening_hours"), ("content.examples_added", "eeva", "topic:opening_hours"),
        ("missed.added", "eeva", "topic:opening_hours"),
        ("content.example_removed", "eeva", "topic:opening_hours"),
        ("content.topic_created", "eeva", "topic:pysakointi"),
        ("missed.dismissed", "eeva", None),
    ]
    assert trail[:len(expected)] == expected
    rest = [action for action, _who, _target in trail[len(expected):]]
    assert rest == ["publish", "rollback", "logout"]
    by_action = {e["action"]: e for e in reversed(entries)}  # the newest of each action
    assert by_action["conversation.note"]["detail"]["chars"] == len("Soita 040 123 4567")
    assert by_action["conversation.transfer"]["detail"] == {"to_agent_id": ville.me["id"]}
    assert by_action["presence"]["detail"] == {"from": "online", "to": "away"}
    assert by_action["missed.dismissed"]["detail"] == {"count": 0, "ids": [12345]}
    assert all(e["client_address"] == "127.0.0.1" and e["action"] in ACTIONS for e in entries)


async def test_only_supervisors_read_the_audit_log(service, make_agent):
    ville, aino, eeva = await make_agent("ville"), await make_agent("aino"), await make_agent("eeva", online=False)
    for agent in (aino, eeva):
        response = await agent.call("GET", "/audit")
        assert response.status == 403 and (await response.json())["error"] == "supervisor_required"
    assert (await (await make_agent()).call("GET", "/audit")).status == 401
    for bad in ("?limit=x", "?limit=0", "?before=-1"):
        assert (await ville.call("GET", f"/audit{bad}")).status == 400
    page = await (await ville.call("GET", "/audit?limit=1000")).json()
    assert len(page["entries"]) == 5 and page["next_before"] is None  # 3 logins + 2 presences
