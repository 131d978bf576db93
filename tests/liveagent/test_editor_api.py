"""The editor API against a real service process (fake Rasa at its HTTP boundary, a copy of the content)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import content_copy
from tests.liveagent.conftest import VALIDATION_SECONDS, Visitor, eventually


@pytest.fixture
def content_root(tmp_path):
    return content_copy(tmp_path / "project", model=b"model-in-use")


@pytest.fixture
def service_env(content_root):
    return {"LIVEAGENT_CONTENT_ROOT": str(content_root), "LIVEAGENT_HARVEST_IDLE_SECONDS": "0.3",
            "LIVEAGENT_SWEEP_SECONDS": "0.3"}


async def call(agent, method: str, path: str, json: Any = None):
    return await agent.session.request(method, f"{agent.service.url}/api/editor{path}", json=json,
                                       headers={"X-CSRF-Token": agent.csrf})


async def test_only_editors_and_supervisors_may_edit_and_changes_need_csrf(make_agent):
    agent = await make_agent("aino", online=False)
    response = await call(agent, "GET", "/topics")
    assert response.status == 403
    assert "sisällöntuottajille" in (await response.json())["message"]
    assert (await call(await make_agent("ville", online=False), "GET", "/topics")).status == 200
    eeva = await make_agent("eeva", online=False)
    topic = (await (await call(eeva, "GET", "/topics/login")).json())["topic"]
    eeva.csrf = "forged"
    response = await call(eeva, "PUT", "/topics/login/answer", {"text": "x", "version": topic["version"]})
    assert response.status == 403


async def test_an_answer_change_is_written_logged_with_who_and_shown_as_a_diff(make_agent, content_root):
    eeva = await make_agent("eeva", online=False)
    listed = (await (await call(eeva, "GET", "/topics")).json())["topics"]
    assert {"login", "opening_hours"} <= {t["name"] for t in listed}
    topic = (await (await call(eeva, "GET", "/topics/opening_hours")).json())["topic"]
    new_answer = topic["answer"] + " Juhlapyhinä palvelemme poikkeusaikoina."
    response = await call(eeva, "PUT", "/topics/opening_hours/answer",
                          {"text": new_answer, "version": topic["version"]})
    assert response.status == 200, await response.text()
    result = await response.json()
    assert "+  - text: " in result["diff"] and "Juhlapyhinä" in result["diff"]
    assert "Juhlapyhinä palvelemme" in (content_root / "data" / "faq" / "opening_hours.yml").read_text("utf-8")

    stale = await call(eeva, "PUT", "/topics/opening_hours/answer", {"text": "Vanha.", "version": topic["version"]})
    assert stale.status == 409
    assert (await stale.json())["error"] == "content"

    changes = (await (await call(eeva, "GET", "/changes")).json())["changes"]
    assert changes[0]["topic"] == "opening_hours" and changes[0]["agent_name"] == "Eeva"
    assert changes[0]["diff"] == result["diff"]
    again = (await (await call(eeva, "GET", "/topics/opening_hours")).json())
    assert again["topic"]["answer"] == new_answer and again["changes"][0]["summary"] == changes[0]["summary"]


async def test_bad_input_gets_a_finnish_message_about_the_field(make_agent):
    eeva = await make_agent("eeva", online=False)
    version = (await (await call(eeva, "GET", "/topics/login")).json())["topic"]["version"]
    response = await call(eeva, "PUT", "/topics/login/answer",
                          {"text": "Katso http://lumo.example", "version": version})
    assert response.status == 400
    body = await response.json()
    assert body["field"] == "answer" and "https" in body["message"]
    assert (await call(eeva, "GET", "/topics/ei_ole")).status == 404
    assert (await call(eeva, "POST", "/topics", {"name": "x"})).status == 400
    assert (await call(eeva, "POST", "/topics", {"name": 1, "title": [], "answer": "", "examples": "a"})).status == 400


async def test_missed_messages_are_collected_grouped_and_turned_into_a_topic(make_agent, service, content_root):
    from tests.liveagent.conftest import Visitor

    texts = ["voiko toimiston eteen pysäköidä", "voiko toimiston edessä pysakoida", "missä voi pysäköidä"]
    for text in texts:
        visitor = Visitor(service)
        await visitor.connect()
        await visitor.say(text)
        await visitor.wait_for("bot_uttered")
        await visitor.close()
    eeva = await make_agent("eeva", online=False)

    async def groups():
        found = (await (await call(eeva, "GET", "/missed")).json())["groups"]
        return found if sum(g["count"] for g in found) == 3 else None

    found = await eventually(groups)
    parking = next(g for g in found if "toimiston" in g["representative"])
    assert parking["count"] >= 2
    assert parking["reasons"][0]["label"] == "Botti ei ymmärtänyt"
    assert parking["reasons"][0]["language"] is None and parking["languages"] == []
    assert parking["guess_topic"] == "contact" and parking["guess_title"] is None  # titled from the topic list
    examples = [f"pysäköinti esimerkki {n}" for n in range(10)] + texts
    all_ids = [i for g in found for i in g["ids"]]
    response = await call(eeva, "POST", "/topics", {
        "name": "pysakointi", "title": "Pysäköinti", "answer": "Toimiston pihassa on maksuton pysäköinti.",
        "examples": examples, "missed_ids": all_ids})
    assert response.status == 201, await response.text()
    assert (content_root / "data" / "faq" / "pysakointi.yml").exists()
    assert (await (await call(eeva, "GET", "/missed")).json())["groups"] == []


async def test_messages_in_other_languages_and_emoji_reach_the_inbox_with_their_language(make_agent, service):
    for text in ["how do I log in", "how can I log in", "hur loggar jag in", "😡😡"]:
        visitor = Visitor(service)
        await visitor.connect()
        await visitor.say(text)
        await visitor.wait_for("bot_uttered")
        await visitor.close()
    eeva = await make_agent("eeva", online=False)

    async def groups():
        found = await _groups(eeva)
        return found if sum(g["count"] for g in found) == 4 else None

    found = {g["representative"]: g for g in await eventually(groups)}
    english = next(g for text, g in found.items() if text.startswith("how"))
    assert english["count"] == 2 and english["guess"] is None
    assert english["reasons"] == [{"reason": "other_language", "language": "en", "count": 2,
                                   "label": "Muu kieli: englanti"}]
    assert english["languages"] == [{"language": "en", "label": "englanti", "count": 2}]
    assert found["hur loggar jag in"]["reasons"][0]["label"] == "Muu kieli: ruotsi"
    assert found["😡😡"]["reasons"] == [{"reason": "fallback", "language": "emoji", "count": 1,
                                        "label": "Botti ei ymmärtänyt: pelkkä emoji"}]
    assert found["😡😡"]["languages"] == [{"language": "emoji", "label": "pelkkä emoji", "count": 1}]
    # the bot's guess is an intent: the editor reads its Finnish description, not "out_of_scope"
    assert (found["😡😡"]["guess"], found["😡😡"]["guess_title"]) == ("out_of_scope", "botin aihepiirin ulkopuolella")


async def test_dismissed_messages_leave_the_inbox(make_agent, service):
    eeva, found = await in_the_inbox(service, make_agent, "onks teillä pysäkkejä lähellä")
    response = await call(eeva, "POST", "/missed/dismiss", {"ids": found[0]["ids"]})
    assert (await response.json())["dismissed"] == 1
    assert await _groups(eeva) == []


async def _groups(agent):
    return (await (await call(agent, "GET", "/missed")).json())["groups"]


async def in_the_inbox(service, make_agent, text: str):
    """A visitor's message the bot did not understand, as the editor Eeva finds it: (eeva, inbox groups)."""
    visitor = Visitor(service)
    await visitor.connect()
    await visitor.say(text)
    await visitor.wait_for("bot_uttered")
    eeva = await make_agent("eeva", online=False)
    return eeva, await eventually(lambda: _groups(eeva))


async def test_a_closed_agent_chat_offers_its_question_and_answer_as_a_draft(make_agent, visitors):
    from tests.liveagent.conftest import escalated, stored

    aino = await make_agent("aino")
    visitor, conversation_id = await escalated(visitors)
    await visitor.say("Saako toimistolle tuoda koiran?")
    await stored(aino, conversation_id, "Saako toimistolle tuoda koiran?")
    assert (await aino.call("POST", f"/conversations/{conversation_id}/claim")).status == 200
    assert (await aino.call("POST", f"/conversations/{conversation_id}/messages",
                            {"text": "Avustajakoirat ovat tervetulleita, muut lemmikit eivät."})).status == 201
    assert (await aino.call("POST", f"/conversations/{conversation_id}/close")).status == 200
    eeva = await make_agent("eeva", online=False)
    answered = (await (await call(eeva, "GET", "/answered")).json())["answered"]
    assert answered[0]["question"] == "Saako toimistolle tuoda koiran?"
    assert answered[0]["answer"].startswith("Avustajakoirat")


async def test_a_publish_with_content_errors_fails_in_finnish_and_the_model_stays(make_agent, service, content_root):
    eeva = await make_agent("eeva", online=False)
    response = await call(eeva, "POST", "/topics", {"name": "pysakointi", "title": "Pysäköinti",
                                                    "answer": "Pihassa on tilaa.", "examples": ["voiko pysäköidä"]})
    assert response.status == 201
    started = await call(eeva, "POST", "/publish")
    assert started.status == 202

    async def finished():
        runs = (await (await call(eeva, "GET", "/runs")).json())["runs"]
        return runs[0] if runs[0]["state"] != "running" else None

    run = await eventually(finished, timeout=VALIDATION_SECONDS)
    assert run["state"] == "failed" and run["stage"] == "validate"
    assert "korjattava ennen julkaisua" in run["message"]
    assert any("faq/pysakointi" in line for line in run["details"])
    assert (content_root / "models" / "lumo.tar.gz").read_bytes() == b"model-in-use"
    assert service.rasa_log()["models"] == []
    findings = (await (await call(eeva, "GET", "/findings")).json())["findings"]
    assert findings[0]["severity"] == "virhe" and findings[0]["path"] == "data/faq/pysakointi.yml"
    nothing = await call(eeva, "POST", "/rollback")
    assert nothing.status == 202
    run = await eventually(finished)
    assert run["state"] == "failed" and "Edellistä mallia ei ole" in run["message"]


async def test_inbox_messages_the_topic_already_has_are_marked_handled(make_agent, service):
    eeva, groups = await in_the_inbox(service, make_agent, "onks pysäkkejä lähellä")
    group = groups[0]
    version = (await (await call(eeva, "GET", "/topics/contact")).json())["topic"]["version"]
    added = await call(eeva, "POST", "/topics/contact/examples", {"examples": group["texts"], "version": version})
    assert added.status == 200
    topic = (await (await call(eeva, "GET", "/topics/contact")).json())
    assert topic["changes"][0]["agent_name"] == "Eeva"
    again = await call(eeva, "POST", "/topics/contact/examples",
                       {"examples": group["texts"], "version": topic["topic"]["version"], "missed_ids": group["ids"]})
    assert again.status == 200 and "jo aiheen esimerkkejä" in (await again.json())["summary"]
    assert await _groups(eeva) == []


class RefusingPublisher:
    """content.publish.Publisher's surface for the editor: reports progress into the test stage, then
    is refused by the gate (the real gate is exercised in tests/content and the browser test)."""

    def __init__(self, models: Any) -> None:
        from content.publish import ModelFiles

        self.files = ModelFiles(models)

    async def publish(self, on_progress, run_id=None):
        from content.publish import Progress, PublishFailed

        await on_progress(Progress("test", 75, "Testataan uutta mallia: keskustelutestit"))
        raise PublishFailed("test", "Uusi malli ei läpäissyt testejä.",
                            ["Aihe ”Kirjautumisongelmat” heikkeni: …", "Testikysymys ”tunnukset ei toimi” …"])


async def test_after_a_refusal_the_run_shows_its_final_state_and_rollback_follows_the_previous_model(tmp_path):
    from liveagent.editor import EditorService
    from liveagent.store import Store
    from tests.liveagent.store.common import FAST_HASHER

    store = await Store.open(f"sqlite+aiosqlite:///{tmp_path}/liveagent.sqlite", hasher=FAST_HASHER)
    try:
        agent = await store.agents.create("eeva", "Eeva", "pw-eeva", "editor")
        editor = EditorService(store, None, tmp_path, 60, publisher=RefusingPublisher(tmp_path / "models"))
        (tmp_path / "models").mkdir()
        (tmp_path / "models" / "previous.tar.gz").write_bytes(b"the model before")
        await editor.start_publish(agent)
        await editor._task
        status = await editor.runs()
        run = status["runs"][0]
        assert run["state"] == "failed" and run["stage"] == "test" and run["finished_at"]
        assert run["detail"] == run["message"] == "Uusi malli ei läpäissyt testejä."  # no "Testataan…" left
        assert run["details"][1].startswith("Testikysymys ”tunnukset ei toimi”")
        assert status["can_rollback"] is True  # a previous model exists: the refusal does not hide it
        (tmp_path / "models" / "previous.tar.gz").unlink()
        assert (await editor.runs())["can_rollback"] is False
    finally:
        await store.close()


async def test_ids_that_are_not_a_list_are_refused_not_taken_for_none(make_agent, service):
    """Found by the schemathesis fuzz test: `{"ids": null}` (or 0, "", {}) was read as an empty list."""
    editor = await make_agent("eeva", online=False)
    for ids in (None, 0, "", {}, False):
        response = await call(editor, "POST", "/missed/dismiss", {"ids": ids})
        assert response.status == 400, ids
    response = await call(editor, "POST", "/missed/dismiss", {"ids": []})
    assert response.status == 200 and (await response.json()) == {"dismissed": 0}
