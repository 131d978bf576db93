"""Visitors' feedback through the real service (issue 17, items 1, 2 and 6): the answer_feedback and
end_conversation events and the rating's comment, with bad input refused by a Finnish notice and nothing
stored; the editors' topic list with each topic's answers and helpful-rate, and the missed inbox sorted."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from liveagent.store.schema import answer_feedback, conversations
from tests.conftest import content_copy
from tests.liveagent.conftest import Visitor, eventually


@pytest.fixture
def content_root(tmp_path):
    return content_copy(tmp_path / "project", model=b"model-in-use")


@pytest.fixture
def service_env(content_root):
    return {"LIVEAGENT_CONTENT_ROOT": str(content_root), "LIVEAGENT_HARVEST_IDLE_SECONDS": "0.3",
            "LIVEAGENT_SWEEP_SECONDS": "0.3", "LIVEAGENT_MAX_COMMENT_CHARS": "20"}


async def editor_call(agent, path: str):
    return await agent.session.request("GET", f"{agent.service.url}/api/editor{path}")


async def asked(service, text: str) -> Visitor:
    visitor = Visitor(service)
    await visitor.connect()
    await visitor.say(text)
    await visitor.wait_for("bot_uttered", lambda d: d["text"] == f"Botti: {text}")
    return visitor


def answer_to(visitor: Visitor, text: str) -> dict:
    return next(m for m in visitor.messages() if m["text"] == f"Botti: {text}")


async def refused(visitor: Visitor, event: str, data: Any, notice: str) -> str:
    before = len(visitor.events)
    await visitor.client.emit(event, data)
    status = await visitor.wait_for("status", lambda d: d.get("notice") == notice, since=before)
    return status["text"]


async def stored_feedback(service) -> list:
    async with service.store.engine.connect() as conn:
        rows = await conn.execute(sa.select(answer_feedback.c.message_id, answer_feedback.c.helpful,
                                            answer_feedback.c.topic, answer_feedback.c.model_id))
        return sorted(tuple(row) for row in rows)


async def test_feedback_is_validated_changeable_and_replayed(service):
    anna = await asked(service, "miten kirjaudun")
    answer = answer_to(anna, "miten kirjaudun")
    assert answer["feedback"] == {"helpful": None}
    bert = await asked(service, "miten kirjaudun sisään")
    # someone else's answer, a visitor's own message, a missing id, not a yes/no: refused in Finnish
    theirs = answer_to(bert, "miten kirjaudun sisään")["id"]
    for data in ({"message_id": theirs, "helpful": True}, {"message_id": answer["id"] - 1, "helpful": True},
                 {"message_id": 10**12, "helpful": True}, {"message_id": answer["id"], "helpful": "kyllä"},
                 {"message_id": True, "helpful": True}, "roskaa"):
        assert "Palautetta ei tallennettu" in await refused(anna, "answer_feedback", data, "feedback")
    assert await stored_feedback(service) == []

    for helpful in (True, False):
        before = len(anna.events)
        await anna.client.emit("answer_feedback", {"message_id": answer["id"], "helpful": helpful})
        await anna.wait_for("feedback_saved", lambda d, h=helpful: d == {"message_id": answer["id"], "helpful": h},
                            since=before)
    assert await stored_feedback(service) == [(answer["id"], False, "faq/login", "fake-model-1")]

    # a reconnect from the start replays the answer with the visitor's latest choice
    again = Visitor(service)
    await again.connect(anna.token)
    replayed = [m for m in again.messages() if m["id"] == answer["id"]]
    assert replayed and replayed[0]["feedback"] == {"helpful": False}

    # erasure and retention take the feedback with the conversation
    deleted = await service.store.retention.delete_conversations([anna.token.split(".")[0]])
    assert deleted.conversations == 1 and await stored_feedback(service) == []


async def test_ending_a_bot_chat_asks_the_rating_and_its_comment_is_checked(service):
    visitor = Visitor(service)
    await visitor.connect()
    assert "ei voi nyt lopettaa" in await refused(visitor, "end_conversation", {}, "end")  # nothing written yet
    await visitor.say("miten kirjaudun")
    await visitor.wait_for("bot_uttered")
    before = len(visitor.events)
    await visitor.client.emit("end_conversation", {})
    status = await visitor.wait_for("status", lambda d: d.get("ask_rating") is True, since=before)
    assert status["state"] == "closed" and status["text"] == "Miten onnistuimme? Arvioi keskustelu asteikolla 1–5."
    assert "Lopetit keskustelun" in (await visitor.wait_for("bot_uttered", lambda d: d["sender"] == "system",
                                                            since=before))["text"]
    text = await refused(visitor, "rating", {"score": 5, "comment": "x" * 21}, "rating")
    assert text == "Kommentti on liian pitkä (21 / 20 merkkiä), eikä arviota tallennettu. Lyhennä kommenttia."
    assert "merkkejä" in await refused(visitor, "rating", {"score": 5, "comment": ["lista"]}, "rating")
    conversation_id = visitor.token.split(".")[0]
    assert (await service.store.conversations.find(conversation_id)).rating is None  # nothing stored
    await visitor.client.emit("rating", {"score": 5, "comment": "  Hyvä botti  "})
    await visitor.wait_for("status", lambda d: d["text"] == "Kiitos arviostasi!")
    async with service.store.engine.connect() as conn:
        row = (await conn.execute(sa.select(conversations.c.rating, conversations.c.rating_comment)
                                  .where(conversations.c.id == conversation_id))).one()
    assert tuple(row) == (5, "Hyvä botti")
    # writing again reopens the chat with the bot
    await visitor.say("entä aukioloajat")
    await visitor.wait_for("bot_uttered", lambda d: d["text"] == "Botti: entä aukioloajat")
    assert (await service.store.conversations.find(conversation_id)).state.value == "bot"


async def test_editors_see_topic_use_and_sort_the_missed_inbox(service, make_agent):
    for text, helpful in (("miten kirjaudun", True), ("kirjautuminen", True), ("en pääse kirjautumaan", False),
                          ("aukioloajat", None)):
        visitor = await asked(service, text)
        if helpful is not None:
            message_id = answer_to(visitor, text)["id"]
            await visitor.client.emit("answer_feedback", {"message_id": message_id, "helpful": helpful})
            await visitor.wait_for("feedback_saved")
        await visitor.close()
    for text in ("voiko toimiston eteen pysäköidä", "voiko toimiston edessä pysakoida", "😡😡"):
        visitor = await asked(service, text)  # misses: two alike (earlier), then one alone (the latest)
        await visitor.close()

    eeva = await make_agent("eeva", online=False)
    listed = {t["name"]: t for t in (await (await editor_call(eeva, "/topics")).json())["topics"]}
    assert listed["login"]["last_30_days"] == {"answers": 3, "rated": 3, "helpful": 2, "helpful_rate": 2 / 3}
    assert listed["opening_hours"]["last_30_days"] == {"answers": 1, "rated": 0, "helpful": 0, "helpful_rate": None}
    assert listed["privacy"]["last_30_days"]["answers"] == 0

    async def groups(order: str):
        found = (await (await editor_call(eeva, f"/missed?sort={order}")).json())["groups"]
        return found if sum(g["count"] for g in found) == 3 else None

    frequent = await eventually(lambda: groups("frequent"))
    assert [g["count"] for g in frequent] == [2, 1] and "toimiston" in frequent[0]["representative"]
    newest = await groups("newest")
    assert [g["representative"] for g in newest] == ["😡😡", frequent[0]["representative"]]
    for wrong in ("random", ""):
        response = await editor_call(eeva, f"/missed?sort={wrong}")
        assert response.status == 400
        assert (await response.json())["message"].startswith("Järjestys on virheellinen")
