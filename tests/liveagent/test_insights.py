"""Exactness of the supervisors' insights (issue 17, item 4; docs/metrics.md), through the real service.

Visitors chat over Socket.IO with the fake Rasa, agents work over HTTP, the service's own sweep harvests
the trackers, and ``GET /api/agent/insights`` must then answer every figure exactly, on SQLite and on
PostgreSQL. Counts are known from the script; durations are worked out here, from the event and message
times the service stored, by the definitions of docs/metrics.md (an implementation of them independent
of the SQL).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
from typing import Any, Dict, List, Optional
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from liveagent.store.schema import conversations
from tests.liveagent.conftest import Visitor, eventually, stored
from tests.liveagent.databases import service_database

HELSINKI = ZoneInfo("Europe/Helsinki")
MICRO = dt.timedelta(microseconds=1)
TAKES = ("claim", "assign")  # what takes a chat from the queue: an automatic assignment counts as a claim

database_env = service_database("insights")


@pytest.fixture
def service_env(database_env):
    # The sweep harvests every conversation quiet for a second; nothing else of it fires in the test.
    return {"LIVEAGENT_SWEEP_SECONDS": "0.3", "LIVEAGENT_HARVEST_IDLE_SECONDS": "1", **database_env}


def today() -> dt.date:
    return dt.datetime.now(HELSINKI).date()


async def insights(agent: Any, query: str = "") -> Dict[str, Any]:
    response = await agent.call("GET", f"/insights{query}")
    assert response.status == 200, await response.text()
    return await response.json()


async def chat(visitors: Any, *texts: str) -> Visitor:
    """A new visitor who writes ``texts``, each after the bot's answer to the one before."""
    visitor = await visitors()
    await visitor.connect()
    for text in texts:
        await visitor.say(text)
        await visitor.wait_for("bot_uttered", lambda d, text=text: d["sender"] != "visitor" and d["text"] != text)
    return visitor


def conversation_of(visitor: Visitor) -> str:
    return visitor.token.split(".")[0]


async def rate(visitor: Visitor, score: int) -> None:
    await visitor.client.emit("rating", {"score": score})
    await visitor.wait_for("status", lambda d: d["text"] == "Kiitos arviostasi!")


async def feedback(visitor: Visitor, text: str, helpful: bool) -> None:
    """The visitor's yes or no under the bot's answer ``text`` (its latest with that text)."""
    message = [m for m in visitor.messages() if m["text"] == text][-1]
    assert "feedback" in message  # a bot answer to a question
    before = len(visitor.events)
    await visitor.client.emit("answer_feedback", {"message_id": message["id"], "helpful": helpful})
    await visitor.wait_for("feedback_saved", lambda d: d == {"message_id": message["id"], "helpful": helpful},
                           since=before)


async def contact_request(visitor: Visitor) -> None:
    await visitor.client.emit("contact_request", {"name": "Testi Asiakas", "contact": "040 000 0000",
                                                  "message": "Soittakaa minulle"})
    await visitor.wait_for("status", lambda d: d["text"].startswith("Kiitos! Yhteydenottopyyntösi"))


async def queued(visitors: Any, text: str) -> Visitor:
    visitor = await visitors()
    await visitor.connect()
    await visitor.say(text)
    await visitor.wait_for("status", lambda d: d["state"] == "waiting")
    return visitor


def percentile(values: List[int], p: int) -> Optional[float]:
    """Nearest rank: the value at rank ceil(p/100 * n) of the sorted values, in seconds."""
    if not values:
        return None
    return sorted(values)[math.ceil(p * len(values) / 100) - 1] / 1_000_000


def spread(values: List[int]) -> Dict[str, Any]:
    return {"count": len(values), "p50": percentile(values, 50), "p90": percentile(values, 90),
            "mean": sum(values) / len(values) / 1_000_000 if values else None}


async def durations(store: Any, conversation_ids: List[str]) -> Dict[str, Any]:
    """Waits, first responses and handle times by docs/metrics.md, from the stored events and messages."""
    claimed, abandoned, responses, handled = [], [], [], []
    for conversation_id in conversation_ids:
        events = await store.conversations.events(conversation_id)
        replies = [m.created_at for m in await store.messages.transcript(conversation_id)
                   if m.sender == "agent" and m.kind == "text"]
        for index, event in enumerate(events):
            following = events[index + 1] if index + 1 < len(events) else None
            if event.to_state.value == "waiting" and following is not None:
                waited = (following.created_at - event.created_at) // MICRO
                if following.transition.value in TAKES:
                    claimed.append(waited)
                elif following.transition.value in ("cancel", "close"):
                    abandoned.append(waited)
            if event.transition.value in TAKES:
                end = next((e.created_at for e in events[index + 1:] if e.transition.value != "transfer"), None)
                answered = [at for at in replies if at >= event.created_at and (end is None or at <= end)]
                if answered:
                    responses.append((min(answered) - event.created_at) // MICRO)
                if end is not None:
                    handled.append((end - event.created_at) // MICRO)
    return {"claimed": claimed, "abandoned": abandoned, "responses": responses, "handled": handled}


async def all_harvested(store: Any) -> bool:
    c = conversations.c
    behind = sa.or_(c.harvested_at.is_(None), c.harvested_at < c.last_visitor_message_at)
    stale = sa.select(sa.func.count()).where(c.last_visitor_message_at.isnot(None), behind)
    async with store.engine.connect() as conn:
        return (await conn.execute(stale)).scalar_one() == 0


async def test_every_figure_is_exact_for_a_scripted_day(service, visitors, make_agent):
    first_day = today()
    ville, aino = await make_agent("ville"), await make_agent("aino")
    assert (await insights(ville, f"?from={first_day}&to={first_day}"))["conversations"] == 0

    # A: the bot answers; today's count moves at once, before any harvest
    bot_only = await chat(visitors, "moi")
    moved = await insights(ville, f"?from={first_day}&to={today()}")
    assert (moved["conversations"], moved["contained"], moved["containment_rate"]) == (1, 1, 1.0)
    # B: a fallback, then a topic; rated 4 (the bot's CSAT)
    fallback = await chat(visitors, "pysäköinti?", "aukioloajat?")
    await rate(fallback, 4)
    # C: handed off at the visitor's request, served by aino, closed, rated 5 (people's CSAT)
    served = await queued(visitors, "haluan puhua ihmisen kanssa")
    path = f"/conversations/{conversation_of(served)}"
    assert (await aino.call("POST", f"{path}/claim")).status == 200
    # ... who asks a question; aino is shown two suggested answers and sends the best one, edited
    await served.say("miten kirjaudun")
    await stored(aino, conversation_of(served), "miten kirjaudun")
    shown = await (await aino.call("GET", f"{path}/suggestions")).json()
    assert len(shown["suggestions"]) == 2
    reply = {"text": "Hei! " + shown["suggestions"][0]["text"], "suggestion_id": shown["suggestions"][0]["id"]}
    assert (await aino.call("POST", f"{path}/messages", reply)).status == 201
    assert (await aino.call("POST", f"{path}/close")).status == 200
    await rate(served, 5)
    # D: after a fallback twice; aino claims and goes offline without a word (requeued), ville answers
    # and returns it to the bot
    requeued = await queued(visitors, "pysäköinti ihmisen syy:repeated_fallback")
    assert (await aino.call("POST", f"/conversations/{conversation_of(requeued)}/claim")).status == 200
    await requeued.wait_for("status", lambda d: d["state"] == "assigned")
    before = len(requeued.events)
    assert (await aino.call("PUT", "/presence", {"presence": "offline"})).status == 200
    await requeued.wait_for("status", lambda d: d["state"] == "waiting", since=before)
    assert (await ville.call("POST", f"/conversations/{conversation_of(requeued)}/claim")).status == 200
    # ville is shown one suggestion for the visitor's question and answers without it
    shown = await (await ville.call("GET", f"/conversations/{conversation_of(requeued)}/suggestions")).json()
    assert [s["topic"] for s in shown["suggestions"]] == ["faq/contact"]
    assert (await ville.call("POST", f"/conversations/{conversation_of(requeued)}/messages",
                             {"text": "Ville tässä"})).status == 201
    assert (await ville.call("POST", f"/conversations/{conversation_of(requeued)}/return")).status == 200
    # E: handed off after a failed lookup, leaves the queue, leaves a contact request, rated 2
    abandoned = await queued(visitors, "ihmisen syy:action_failed")
    await abandoned.client.emit("cancel_waiting", {})
    await abandoned.wait_for("status", lambda d: d["state"] == "bot" and d["text"].startswith("Jonotus peruttu"))
    await contact_request(abandoned)
    await rate(abandoned, 2)
    # F: Rasa answers nothing; the visitor joins the queue from the service's button and waits on
    waiting = await chat(visitors, "tyhjä vastaus")
    await waiting.say("/liveagent_join_queue")
    await waiting.wait_for("status", lambda d: d["state"] == "waiting")
    # G: a contact request without a handoff
    contact = await chat(visitors, "moi")
    await contact_request(contact)
    # "Oliko vastauksesta apua?": A's answer yes, then no (the latest counts); B's topic answer yes (its
    # fallback answer asks nothing: refused), G's yes
    await feedback(bot_only, "Botti: moi", True)
    await feedback(bot_only, "Botti: moi", False)
    fallback_answer = next(m for m in fallback.messages() if m["text"] == "Botti: pysäköinti?")
    assert "feedback" not in fallback_answer
    before = len(fallback.events)
    await fallback.client.emit("answer_feedback", {"message_id": fallback_answer["id"], "helpful": True})
    await fallback.wait_for("status", lambda d: d.get("notice") == "feedback", since=before)
    await feedback(fallback, "Botti: aukioloajat?", True)
    await feedback(contact, "Botti: moi", True)
    # A ends the chat with the bot and rates it 3 with a comment (the bot's CSAT)
    before = len(bot_only.events)
    await bot_only.client.emit("end_conversation", {})
    await bot_only.wait_for("status", lambda d: d.get("ask_rating") is True and d["state"] == "closed", since=before)
    await bot_only.client.emit("rating", {"score": 3, "comment": "Ihan ok"})
    await bot_only.wait_for("status", lambda d: d["text"] == "Kiitos arviostasi!", since=before)

    await eventually(lambda: all_harvested(service.store), timeout=30)
    last_day = today()
    period = f"?from={first_day}&to={last_day}"
    answer = await insights(ville, period)
    ids = [conversation_of(v) for v in (bot_only, fallback, served, requeued, abandoned, waiting, contact)]
    measured = await durations(service.store, ids)

    assert answer["conversations"] == 7
    assert (answer["contained"], answer["handed_off"], answer["contact_requests"]) == (2, 4, 1)  # A B | C D E F | G
    assert answer["containment_rate"] == 2 / 7 and answer["handoff_rate"] == 4 / 7
    assert answer["contact_request_rate"] == 1 / 7 and answer["contact_requested"] == 2  # E and G
    assert answer["handoffs_by_reason"] == {reason: {"count": 1, "rate": 1 / 7} for reason in (
        "action_failed", "rasa_unavailable", "repeated_fallback", "visitor_request")}
    # the bot handled A1 B2 C1 D1 E1 F1 G1 messages; B's "pysäköinti?" and D's first were fallbacks
    assert answer["fallback"] == {"conversations_read": 7, "bot_messages": 8, "fallback_messages": 2, "rate": 0.25}
    queue = answer["queue"]
    assert (queue["waits"], queue["claimed"], queue["abandoned"], queue["ongoing"]) == (5, 3, 1, 1)
    assert queue["abandoned_rate"] == 1 / 4
    assert len(measured["claimed"]) == 3 and len(measured["abandoned"]) == 1
    assert queue["wait_seconds"] == spread(measured["claimed"])
    assert queue["abandoned_after_seconds"] == spread(measured["abandoned"])
    assert sum(b["count"] for b in queue["distribution"]) == queue["claimed"]
    agents = answer["agents"]
    assert (agents["served_conversations"], agents["assignments"], agents["unanswered_assignments"]) == (2, 3, 1)
    assert agents["first_response_seconds"] == spread(measured["responses"])  # C by aino, D by ville
    assert agents["handle_seconds"] == spread(measured["handled"])  # C closed, D requeued, D returned
    assert answer["csat"] == {"people": {"rated": 1, "satisfied": 1, "rate": 1.0, "average": 5.0},
                              "bot": {"rated": 3, "satisfied": 1, "rate": 1 / 3, "average": 3.0}}  # A B E
    assert answer["helpful_by_topic"] == {"rated": 3, "helpful": 2, "rate": 2 / 3, "items": [
        {"topic": "faq/login", "rated": 2, "helpful": 1, "rate": 0.5},  # A no, G yes
        {"topic": "faq/opening_hours", "rated": 1, "helpful": 1, "rate": 1.0}]}  # B yes
    assert answer["topics"] == {"conversations_read": 7, "no_topic": 3, "items": [  # C D E: no question of their own
        {"topic": "faq/login", "conversations": 3, "share": 3 / 7, "previous": 0, "change": 3},  # A F G
        {"topic": "faq/opening_hours", "conversations": 1, "share": 1 / 7, "previous": 0, "change": 1}]}  # B
    assert sum(day["conversations"] for day in answer["daily"]) == 7
    assert answer["previous"]["conversations"] == 0
    # visitor messages with suggestions shown: C's and D's; answered from one (edited first): C's
    assert answer["suggestions_used"] == {"shown": 2, "used": 1, "edited": 1, "rate": 0.5}
    assert answer["previous"]["suggestions_used"] == {"shown": 0, "used": 0, "edited": 0, "rate": None}
    assert answer["pending"] == []
    assert answer["previous"]["helpful_by_topic"]["rated"] == 0

    response = await ville.call("GET", f"/insights{period}&format=csv")
    assert response.status == 200 and response.content_type == "text/csv"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="lumo-insights-{first_day}-{last_day}.csv"')
    rows = list(csv.DictReader(io.StringIO(await response.text())))
    assert [(row["date"], int(row["conversations"]), int(row["handed_off"]), int(row["contained"]))
            for row in rows] == [(day["date"], day["conversations"], day["handed_off"], day["contained"])
                                 for day in answer["daily"]]


async def test_only_supervisors_see_the_insights_and_bad_periods_are_refused(service, make_agent):
    ville, aino, eeva, anonymous = (await make_agent("ville"), await make_agent("aino"),
                                    await make_agent("eeva", online=False), await make_agent())
    for agent, status, code in ((aino, 403, "supervisor_required"), (eeva, 403, "supervisor_required"),
                                (anonymous, 401, "not_logged_in")):
        response = await agent.call("GET", "/insights")
        assert (response.status, (await response.json())["error"]) == (status, code)
    for query, code, message in (
            ("?from=2026-13-01", "bad_date", "Päivämäärä on virheellinen. Anna päivät muodossa VVVV-KK-PP, "
                                             "esimerkiksi 2026-11-30."),
            ("?from=1.11.2026", "bad_date", None), ("?to=", "bad_date", None),
            ("?from=2026-11-30&to=2026-11-01", "bad_period", None),
            ("?from=2025-01-01&to=2026-01-02", "period_too_long", "Jakso on liian pitkä. Valitse enintään 366 päivää."),
            ("?format=xml", "bad_format", "Tuntematon muoto. Valitse json tai csv."), ("?format=", "bad_format", None)):
        response = await ville.call("GET", f"/insights{query}")
        body = await response.json()
        assert (response.status, body["error"]) == (400, code), query
        assert message is None or body["message"] == message
    default = await insights(ville)
    assert (default["days"], default["to"]) == (30, today().isoformat())
    assert [day["date"] for day in default["daily"]][-1] == today().isoformat()
    assert default["previous"]["to"] == (today() - dt.timedelta(days=30)).isoformat()
    year = await insights(ville, "?from=2025-01-01&to=2026-01-01")
    assert year["days"] == 366 and (year["previous"]["from"], year["previous"]["to"]) == ("2024-01-01", "2024-12-31")
