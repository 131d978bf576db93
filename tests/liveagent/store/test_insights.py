"""The insights' SQL on both backends, over conversations scripted at known times (docs/metrics.md).

Every figure is asserted exactly, durations to the microsecond: the script below says what happened
when, and the expected values are worked out by hand from it (see the comments). Days are
Europe/Helsinki's: a conversation started at 22:30 UTC belongs to the next day.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from typing import Any, Optional

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy.engine import make_url

from content.topics import TrackerTurns
from liveagent.insights import Period, daily_csv, insights_json
from liveagent.store import Store, Transition, make_engine, upgrade
from liveagent.store.insights import MICROS, DayCounts, Spread
from liveagent.store.migrate import alembic_config
from liveagent.store.schema import conversation_events, conversations
from tests.liveagent.store.common import agent

T = Transition
NOV = dt.datetime(2026, 11, 1, tzinfo=dt.timezone.utc)
FIRST, LAST = dt.date(2026, 11, 20), dt.date(2026, 11, 22)


def when(day: int, hour: int, minute: int = 0, seconds: float = 0) -> dt.datetime:
    return NOV.replace(day=day, hour=hour, minute=minute) + dt.timedelta(seconds=seconds)


async def visit(store: Store, conversation_id: str, start: dt.datetime, rating: Optional[int] = None) -> None:
    """The visitor's first message at ``start`` (it creates the conversation)."""
    await store.conversations.get_or_create(conversation_id, now=start)
    await store.messages.add(conversation_id, "visitor", "text", "moi", now=start)
    await store.messages.add(conversation_id, "bot", "text", "Hei!", now=start + dt.timedelta(seconds=1))
    if rating is not None:
        await store.conversations.set_rating(conversation_id, rating)


async def script(store: Store) -> None:
    aino, aada = await agent(store, "aino"), await agent(store, "aada")
    move = store.conversations.transition

    # 20th: the bot alone answers; rated 5
    await visit(store, "bot-1", when(20, 10), rating=5)
    await store.content.mark_harvested("bot-1", TrackerTurns("faq/login", 2, 0))
    # 20th 22:30 UTC = 21st 00:30 in Helsinki: bot only, rated 2; one of its two messages a fallback
    await visit(store, "bot-late", when(20, 22, 30), rating=2)
    await store.content.mark_harvested("bot-late", TrackerTurns(None, 2, 1))

    # 21st: escalated at +10 s, claimed at +70 s (waited 60 s), first reply at +85.5 s, closed at +300 s
    start = when(21, 8)
    at = lambda s: start + dt.timedelta(seconds=s)  # noqa: E731
    await visit(store, "human-1", start, rating=4)
    await move("human-1", T.ESCALATE, reason="visitor_request", now=at(10))
    await move("human-1", T.CLAIM, agent_id=aino, now=at(70))
    await store.messages.add("human-1", "agent", "note", "muistiin", agent_id=aino, now=at(80))  # no reply
    await store.messages.add("human-1", "agent", "text", "Hei, Aino tässä", agent_id=aino, now=at(85.5))
    await move("human-1", T.CLOSE, agent_id=aino, now=at(300))
    await store.content.mark_harvested("human-1", TrackerTurns("faq/opening_hours", 2, 0))

    # 21st: escalated (repeated fallback) at +0, claimed at +200 s, requeued unanswered at +400 s, claimed by
    # aada at +430 s, reply at +440 s, transferred at +500 s, back to the bot at +600 s; escalated again
    # at +700 s and left the queue at +760 s. Rated 1.
    start = when(21, 9)
    await visit(store, "human-2", start, rating=1)
    await move("human-2", T.ESCALATE, reason="repeated_fallback", now=at(0))
    await move("human-2", T.CLAIM, agent_id=aino, now=at(200))
    await move("human-2", T.REQUEUE, now=at(400))
    await move("human-2", T.CLAIM, agent_id=aada, now=at(430))
    await store.messages.add("human-2", "agent", "text", "Aada tässä", agent_id=aada, now=at(440))
    await move("human-2", T.TRANSFER, agent_id=aino, now=at(500))
    await move("human-2", T.RETURN_TO_BOT, agent_id=aino, now=at(600))
    await move("human-2", T.ESCALATE, reason="visitor_request", now=at(700))
    await move("human-2", T.CANCEL, now=at(760))

    # 22nd: escalated after a failed lookup at +5 s, gave up at +125 s, left a contact request; rated 3
    start = when(22, 7)
    await visit(store, "abandoned", start, rating=3)
    await move("abandoned", T.ESCALATE, reason="action_failed", now=at(5))
    await move("abandoned", T.CANCEL, now=at(125))
    await store.tickets.create("abandoned", "Liisa", "040 123", "Soittakaa", now=at(130))
    # 22nd: a contact request without a handoff
    await visit(store, "contact", when(22, 7, 30))
    await store.tickets.create("contact", "Pekka", "pekka@example.com", "Asia", now=when(22, 7, 31))
    # 22nd: still in the queue
    await visit(store, "waiting", when(22, 8))
    await move("waiting", T.ESCALATE, reason="rasa_unavailable", now=when(22, 8, 0, 1))
    # 22nd: a row without a visitor message is no conversation
    await store.conversations.get_or_create("silent", now=when(22, 9))

    # outside the period: the 19th (the previous period's) and the 23rd
    await visit(store, "before", when(19, 12))
    await store.content.mark_harvested("before", TrackerTurns("faq/login", 1, 0))
    await visit(store, "after", when(23, 12))


def micros(seconds: float) -> int:
    return round(seconds * MICROS)


async def test_every_figure_of_a_scripted_period(store):
    await script(store)
    figures = await store.insights.period(FIRST, LAST)

    assert figures.days == [
        DayCounts(FIRST, conversations=1, contained=1, harvested=1, bot_turns=2,
                  rated_bot=1, satisfied_bot=1, rating_sum_bot=5),
        DayCounts(dt.date(2026, 11, 21), conversations=3, handed_off=2, contained=1, served=2, harvested=2,
                  bot_turns=4, fallback_turns=1, rated_people=2, satisfied_people=1, rating_sum_people=5,
                  rated_bot=1, rating_sum_bot=2),
        DayCounts(LAST, conversations=3, handed_off=2, contact_only=1, contact_requested=2,
                  rated_bot=1, rating_sum_bot=3),
    ]
    assert figures.handoff_reasons == {"visitor_request": 1, "repeated_fallback": 1, "action_failed": 1,
                                       "rasa_unavailable": 1}  # each conversation's first escalation
    # waits ended by a claim: 60, 200 and 30 s; by leaving the queue: 60 and 120 s; one still waiting
    assert (figures.waits_claimed, figures.waits_abandoned, figures.waits_ongoing) == (3, 2, 1)
    assert figures.wait == Spread(3, micros(290), p50=micros(60), p90=micros(200))
    assert figures.wait_histogram == (0, 1, 1, 1, 0, 0)  # [30, 60), [60, 120), [120, 300)
    assert figures.abandoned_after == Spread(2, micros(180), p50=micros(60), p90=micros(120))
    # claims: human-1 (reply after 15.5 s, closed after 230 s), human-2 by aino (no reply, requeued after
    # 200 s), human-2 by aada (reply after 10 s; the transfer does not end it; back to the bot after 170 s)
    assert figures.assignments == 3
    assert figures.first_response == Spread(2, micros(25.5), p50=micros(10), p90=micros(15.5))
    assert figures.handle == Spread(3, micros(600), p50=micros(200), p90=micros(230))
    assert figures.topics == [("faq/login", 1), ("faq/opening_hours", 1), (None, 1)]


async def test_the_answer_adds_up_and_compares_with_the_previous_period(store):
    await script(store)
    period = Period(FIRST, LAST)
    previous = period.previous()
    assert (previous.first, previous.last) == (dt.date(2026, 11, 17), dt.date(2026, 11, 19))
    answer = insights_json(period, await store.insights.period(FIRST, LAST),
                           await store.insights.period(previous.first, previous.last))

    assert answer["conversations"] == 7
    assert (answer["contained"], answer["handed_off"], answer["contact_requests"]) == (2, 4, 1)
    assert answer["contained"] + answer["handed_off"] + answer["contact_requests"] == answer["conversations"]
    assert answer["containment_rate"] == 2 / 7 and answer["handoff_rate"] == 4 / 7
    assert answer["contact_request_rate"] == 1 / 7 and answer["contact_requested"] == 2
    assert sum(r["count"] for r in answer["handoffs_by_reason"].values()) == answer["handed_off"]
    assert answer["handoffs_by_reason"]["action_failed"] == {"count": 1, "rate": 1 / 7}
    assert answer["fallback"] == {"conversations_read": 3, "bot_messages": 6, "fallback_messages": 1, "rate": 1 / 6}
    queue = answer["queue"]
    assert (queue["waits"], queue["claimed"], queue["abandoned"], queue["ongoing"]) == (6, 3, 2, 1)
    assert queue["abandoned_rate"] == 2 / 5
    assert queue["wait_seconds"] == {"count": 3, "p50": 60.0, "p90": 200.0, "mean": 290 / 3}
    assert queue["distribution"] == [{"up_to_seconds": 30, "count": 0}, {"up_to_seconds": 60, "count": 1},
                                     {"up_to_seconds": 120, "count": 1}, {"up_to_seconds": 300, "count": 1},
                                     {"up_to_seconds": 600, "count": 0}, {"up_to_seconds": None, "count": 0}]
    assert answer["agents"] == {
        "served_conversations": 2, "assignments": 3, "unanswered_assignments": 1,
        "first_response_seconds": {"count": 2, "p50": 10.0, "p90": 15.5, "mean": 12.75},
        "handle_seconds": {"count": 3, "p50": 200.0, "p90": 230.0, "mean": 200.0},
    }
    assert answer["csat"] == {"people": {"rated": 2, "satisfied": 1, "rate": 0.5, "average": 2.5},
                              "bot": {"rated": 3, "satisfied": 1, "rate": 1 / 3, "average": 10 / 3}}
    assert answer["daily"] == [
        {"date": "2026-11-20", "conversations": 1, "handed_off": 0, "contact_requests": 0, "contained": 1,
         "containment_rate": 1.0},
        {"date": "2026-11-21", "conversations": 3, "handed_off": 2, "contact_requests": 0, "contained": 1,
         "containment_rate": 1 / 3},
        {"date": "2026-11-22", "conversations": 3, "handed_off": 2, "contact_requests": 1, "contained": 0,
         "containment_rate": 0.0},
    ]
    assert answer["topics"] == {"conversations_read": 3, "no_topic": 1, "items": [
        {"topic": "faq/login", "conversations": 1, "share": 1 / 3, "previous": 1, "change": 0},
        {"topic": "faq/opening_hours", "conversations": 1, "share": 1 / 3, "previous": 0, "change": 1}]}
    before = answer["previous"]
    assert (before["from"], before["to"], before["conversations"], before["contained"]) == (
        "2026-11-17", "2026-11-19", 1, 1)
    assert before["queue"]["wait_seconds"] == {"count": 0, "p50": None, "p90": None, "mean": None}
    assert before["csat"]["people"] == {"rated": 0, "satisfied": 0, "rate": None, "average": None}


async def test_automatic_assignment_counts_as_a_claim_and_a_transfer_keeps_the_assignments_start(store):
    """Chats the service assigns (store/assignment.py) are claims for the insights: the wait ends,
    first_claimed_at and the assignment's start are recorded; a transfer moves the holder's assigned_at
    (the response-time limit) but not the assignment's start; a response-time requeue ends the
    assignment, and the wait after it begins with the requeue, not at the queue place it keeps."""
    aino, aada = await agent(store, "aino", "online"), await agent(store, "aada", "online")
    move, c, e = store.conversations.transition, conversations.c, conversation_events.c

    # "auto": escalated at +10 s, assigned automatically at +40 s (waited 30 s), reply at +50 s,
    # transferred at +100 s, closed at +160 s (handled 120 s from the assignment)
    start = when(10, 8)
    at = lambda s: start + dt.timedelta(seconds=s)  # noqa: E731
    await visit(store, "auto", start)
    await move("auto", T.ESCALATE, reason="visitor_request", now=at(10))
    [result] = await store.conversations.assign_waiting(["agent"], now=at(40))
    holder = result.conversation.agent_id
    other = aada if holder == aino else aino
    assert result.transition is T.ASSIGN and result.conversation.assignment_started_at == at(40)
    await store.messages.add("auto", "agent", "text", "Hei", agent_id=holder, now=at(50))
    moved = (await move("auto", T.TRANSFER, agent_id=other, now=at(100))).conversation
    assert (moved.assigned_at, moved.assignment_started_at) == (at(100), at(40))
    async with store.engine.connect() as conn:
        held = (await conn.execute(sa.select(c.first_claimed_at, c.assigned_at, c.assignment_started_at)
                                   .where(c.id == "auto"))).one()
    assert tuple(held) == (at(40), at(100), at(40))
    await move("auto", T.CLOSE, agent_id=other, now=at(160))

    # "missed": escalated at +0, assigned at +20 s (waited 20 s), unanswered: requeued by the response-time
    # limit at +90 s (handled 70 s) at its old place, claimed at +150 s (waited 60 s), reply at +160 s,
    # closed at +200 s (handled 50 s)
    start = when(10, 9)
    await visit(store, "missed", start)
    await move("missed", T.ESCALATE, reason="visitor_request", now=at(0))
    [result] = await store.conversations.assign_waiting(["agent"], now=at(20))
    missed_by = result.conversation.agent_id
    requeued, _ = await store.conversations.hand_over_unanswered(
        "missed", ["agent"], dt.timedelta(seconds=60), automatic=False, now=at(90))
    assert requeued.transition is T.REQUEUE and requeued.conversation.waiting_since == at(0)
    claimer = aada if missed_by == aino else aino
    await move("missed", T.CLAIM, agent_id=claimer, now=at(150))
    await store.messages.add("missed", "agent", "text", "Hei", agent_id=claimer, now=at(160))
    await move("missed", T.CLOSE, agent_id=claimer, now=at(200))

    async with store.engine.connect() as conn:
        firsts = (await conn.execute(sa.select(c.id, c.first_claimed_at, c.assignment_started_at)
                                     .order_by(c.id))).all()
        events = (await conn.execute(sa.select(e.conversation_id, e.transition, e.span_started_at)
                                     .order_by(e.conversation_id, e.id))).all()
    auto, missed = when(10, 8), when(10, 9)
    second = dt.timedelta(seconds=1)
    assert firsts == [("auto", auto + 40 * second, None), ("missed", missed + 20 * second, None)]
    assert events == [("auto", "escalate", None), ("auto", "assign", auto + 10 * second),
                      ("auto", "transfer", None), ("auto", "close", auto + 40 * second),
                      ("missed", "escalate", None), ("missed", "assign", missed),
                      ("missed", "requeue", missed + 20 * second), ("missed", "claim", missed + 90 * second),
                      ("missed", "close", missed + 150 * second)]

    figures = await store.insights.period(dt.date(2026, 11, 10), dt.date(2026, 11, 10))
    assert figures.days == [DayCounts(dt.date(2026, 11, 10), conversations=2, handed_off=2, served=2)]
    # waits ended by an agent: 30, 20 and 60 s
    assert (figures.waits_claimed, figures.waits_abandoned, figures.waits_ongoing) == (3, 0, 0)
    assert figures.wait == Spread(3, micros(110), p50=micros(30), p90=micros(60))
    # assignments: auto (reply after 10 s, 120 s), missed by its first holder (no reply, 70 s), missed
    # claimed (reply after 10 s, 50 s)
    assert figures.assignments == 3
    assert figures.first_response == Spread(2, micros(20), p50=micros(10), p90=micros(10))
    assert figures.handle == Spread(3, micros(240), p50=micros(70), p90=micros(120))


async def test_a_period_without_conversations_has_zeros_and_no_rates(store):
    await script(store)
    figures = await store.insights.period(dt.date(2026, 10, 1), dt.date(2026, 10, 2))
    answer = insights_json(Period(figures.first, figures.last), figures, figures)
    assert answer["conversations"] == 0 and answer["containment_rate"] is None
    assert [day["conversations"] for day in answer["daily"]] == [0, 0]
    assert daily_csv(figures).splitlines() == [
        "date,conversations,handed_off,contact_requests,contained,containment_rate",
        "2026-10-01,0,0,0,0,", "2026-10-02,0,0,0,0,"]
    with pytest.raises(ValueError):
        await store.insights.period(dt.date(2026, 10, 2), dt.date(2026, 10, 1))


async def test_the_daily_series_as_csv(store):
    await script(store)
    assert daily_csv(await store.insights.period(FIRST, LAST)).splitlines() == [
        "date,conversations,handed_off,contact_requests,contained,containment_rate",
        "2026-11-20,1,0,0,1,1.0",
        "2026-11-21,3,2,0,1,0.3333333333333333",
        "2026-11-22,3,2,1,0,0.0",
    ]


async def test_the_migration_fills_in_the_rows_that_were_there(database_url):
    """Rows written before the insights: their first day from created_at, escalation events their
    conversation's reason, the first escalation and claim (an automatic assignment is one) and where each
    wait and assignment began from the events (a transfer keeps the assignment's start), and a harvest
    again (for the topic and turns)."""
    if database_url.startswith("sqlite"):
        Path(make_url(database_url).database).parent.mkdir(parents=True, exist_ok=True)
    await asyncio.to_thread(command.upgrade, alembic_config(database_url), "0007")
    engine = make_engine(database_url)
    # "late": escalated, claimed, requeued, assigned automatically, transferred and still held; "early":
    # escalated and cancelled
    script = {"late": ("2026-11-20 22:30:00", "assigned", "action_failed",
                       [("escalate", "bot", "waiting"), ("claim", "waiting", "assigned"),
                        ("requeue", "assigned", "waiting"), ("assign", "waiting", "assigned"),
                        ("transfer", "assigned", "assigned")]),
              "early": ("2026-11-20 08:00:00", "bot", None, [("escalate", "bot", "waiting"),
                                                             ("cancel", "waiting", "bot")])}
    try:
        async with engine.begin() as conn:
            for conversation_id, (created, state, reason, events) in script.items():
                start = dt.datetime.fromisoformat(created)
                await conn.execute(sa.text(
                    "INSERT INTO conversations (id, state, version, escalation_reason, created_at, updated_at, "
                    "harvested_at, last_visitor_message_at) VALUES (:id, :state, 1, :reason, :created, "
                    ":created, :created, :created)"),
                    {"id": conversation_id, "state": state, "reason": reason,
                     "created": stored(database_url, start)})
                for minute, (transition, before, after) in enumerate(events, start=1):
                    await conn.execute(sa.text(
                        "INSERT INTO conversation_events (conversation_id, transition, from_state, to_state, "
                        "created_at) VALUES (:id, :transition, :before, :after, :at)"),
                        {"id": conversation_id, "transition": transition, "before": before, "after": after,
                         "at": stored(database_url, start + dt.timedelta(minutes=minute))})
        await asyncio.to_thread(upgrade, database_url)
        c, e = conversations.c, conversation_events.c
        async with engine.connect() as conn:
            rows = (await conn.execute(sa.select(
                c.id, c.started_on, c.harvested_at, c.first_escalated_at, c.first_escalation_reason,
                c.first_claimed_at, c.assignment_started_at).order_by(c.id))).all()
            events = (await conn.execute(sa.select(e.conversation_id, e.transition, e.reason, e.span_started_at)
                                         .order_by(e.conversation_id, e.id))).all()
    finally:
        await engine.dispose()
    early, late = (dt.datetime.fromisoformat(script[name][0]).replace(tzinfo=dt.timezone.utc)
                   for name in ("early", "late"))

    def minute(start: dt.datetime, n: int) -> dt.datetime:
        return start + dt.timedelta(minutes=n)

    assert rows == [("early", dt.date(2026, 11, 20), None, minute(early, 1), None, None, None),
                    ("late", dt.date(2026, 11, 21), None, minute(late, 1), "action_failed", minute(late, 2),
                     minute(late, 4))]
    assert events == [("early", "escalate", None, None), ("early", "cancel", None, minute(early, 1)),
                      ("late", "escalate", "action_failed", None), ("late", "claim", None, minute(late, 1)),
                      ("late", "requeue", None, minute(late, 2)), ("late", "assign", None, minute(late, 3)),
                      ("late", "transfer", None, None)]


def stored(database_url: str, naive_utc: dt.datetime) -> Any:
    """A time as each backend stores it: SQLite naive UTC text, PostgreSQL an aware datetime."""
    if database_url.startswith("sqlite"):
        return naive_utc.isoformat(sep=" ", timespec="microseconds")
    return naive_utc.replace(tzinfo=dt.timezone.utc)


async def test_answers_marked_helpful_count_in_the_period_their_conversation_started(store):
    """The feedback rows keep their conversation's first day (Helsinki's): a conversation started at 22:30
    UTC on the 19th is the 20th's, and a yes given days later still counts there; the latest choice counts."""
    async def answer(conversation_id: str, start: dt.datetime, topic: Optional[str]) -> Any:
        await store.conversations.get_or_create(conversation_id, now=start)
        await store.messages.add(conversation_id, "visitor", "text", "kysymys", now=start)
        return await store.messages.add(conversation_id, "bot", "text", "vastaus", topic=topic, model_id="m1",
                                        now=start + dt.timedelta(seconds=1))

    late = await answer("late", when(19, 22, 30), "faq/login")  # the 20th in Helsinki
    before = await answer("before", when(19, 21, 0), "faq/login")  # the 19th: the previous period
    second = await answer("second", when(21, 9), "faq/opening_hours")
    other = await answer("other", when(21, 10), "faq/login")
    await store.feedback.give(late, False, now=when(25, 9))
    await store.feedback.give(late, True, now=when(25, 10))  # changed: the latest counts
    await store.feedback.give(before, True)
    await store.feedback.give(second, False)
    await store.feedback.give(other, False)
    current = await store.insights.period(FIRST, LAST)
    assert current.helpful == [("faq/login", 2, 1), ("faq/opening_hours", 1, 0)]
    previous = await store.insights.period(dt.date(2026, 11, 17), dt.date(2026, 11, 19))
    assert previous.helpful == [("faq/login", 1, 1)]
    figures = insights_json(Period(FIRST, LAST), current, previous)
    assert figures["helpful_by_topic"] == {"rated": 3, "helpful": 1, "rate": 1 / 3, "items": [
        {"topic": "faq/login", "rated": 2, "helpful": 1, "rate": 0.5},
        {"topic": "faq/opening_hours", "rated": 1, "helpful": 0, "rate": 0.0}]}
    assert figures["previous"]["helpful_by_topic"]["rate"] == 1.0
    assert await store.feedback.of_conversation("late") == {late.id: True}
