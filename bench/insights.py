"""The supervisors' insights on PostgreSQL holding 100,000 conversations: how long the 30-day answer takes.

Target (issue 17): at most 500 ms for 30 days. The script creates a database of its own on the
PostgreSQL server (default 127.0.0.1:5432, trust auth, user postgres), migrates it, seeds it with
conversations spread over the last 60 days (so the 30 days asked for and the 30 days before them, which
the answer compares with, hold all of them), each with what a real one has: visitor and bot messages, and
for some a handoff (with its reason), a wait in the queue, an agent's claim, replies and close, a requeue,
a visitor who gave up, a contact request, a rating, and the topic and bot turns the harvest stores; each bot
answer has its topic and model, and about one in six answers on a topic got the visitor's yes or no.
Then it times what ``GET /api/agent/insights`` does for the last 30 days (both periods' SQL and the JSON),
and drops the database. The section "Insights" of bench/REPORT.md gets the figures.

Run: python bench/insights.py [--conversations 100000] [--runs 15] [--admin-url postgresql://postgres@127.0.0.1:5432/postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, Tuple
from zoneinfo import ZoneInfo

import asyncpg
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.report import write_section  # noqa: E402
from liveagent.insights import Period, insights_json  # noqa: E402
from liveagent.store import Store  # noqa: E402
from lumo_shared.answers import is_answer  # noqa: E402

TARGET_MS = 500
DAYS = 60
ZONE = ZoneInfo("Europe/Helsinki")
TOPICS = ["faq/login", "faq/opening_hours", "faq/payment_dates", "faq/apply", "faq/processing_time",
          "faq/change_details", "faq/contact", "faq/appointment", "faq/attachments", "faq/login_problem",
          "faq/privacy", "faq/accessibility", "faq/feedback", "check_account_status"]
REASONS = ["visitor_request"] * 6 + ["repeated_fallback"] * 2 + ["action_failed", "rasa_unavailable"]
AGENTS = 20
MODEL_ID = "20261205-120000-bench"


def seconds(value: float) -> dt.timedelta:
    return dt.timedelta(seconds=value)


class Seed:
    """Rows for COPY: conversations, messages, events, tickets; every time consistent with the next."""

    def __init__(self, count: int, today: dt.date, rng: random.Random) -> None:
        self.rng = rng
        self.recent = dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=12)
        self.conversations: List[Tuple[Any, ...]] = []
        self.messages: List[Tuple[Any, ...]] = []
        self.events: List[Tuple[Any, ...]] = []
        self.tickets: List[Tuple[Any, ...]] = []
        self.feedback: List[Tuple[Any, ...]] = []
        self.started_on = today  # the day of the conversation being made
        first = today - dt.timedelta(days=DAYS - 1)
        for n in range(count):
            day = first + dt.timedelta(days=rng.randrange(DAYS))
            local = dt.datetime.combine(day, dt.time(7), ZONE) + seconds(rng.uniform(0, 14 * 3600))
            self.conversation(f"bench-{n:06d}", local.astimezone(dt.timezone.utc))

    def message(self, conversation_id: str, sender: str, at: dt.datetime, agent_id: Any = None,
                kind: str = "text", topic: Any = None) -> None:
        """A message; a fresh database numbers COPY's rows in order, so its id is its place in the list."""
        self.messages.append((conversation_id, sender, kind, "viesti", None, agent_id, at, topic,
                              MODEL_ID if topic else None))
        if is_answer(topic) and self.rng.random() < 0.2:  # the widget asks only under answers to a question
            helpful = self.rng.random() < 0.7
            self.feedback.append((len(self.messages), conversation_id, helpful, topic, MODEL_ID,
                                  self.started_on, at + seconds(20), at + seconds(20)))

    def event(self, conversation_id: str, transition: str, from_state: str, to_state: str, at: dt.datetime,
              agent_id: Any = None, reason: Any = None, since: Any = None) -> None:
        """A state event; ``since``: when the wait or assignment it ends began (as the state machine writes)."""
        self.events.append((conversation_id, transition, from_state, to_state, agent_id, at, reason, since))

    def conversation(self, cid: str, start: dt.datetime) -> None:
        rng = self.rng
        self.started_on = start.astimezone(ZONE).date()
        at = start
        turns = rng.randint(1, 3)
        for _ in range(turns):  # the bot's turns
            self.message(cid, "visitor", at)
            at += seconds(rng.uniform(0.3, 2))
            self.message(cid, "bot", at, topic=rng.choice(TOPICS + ["greet", "nlu_fallback"]))
            at += seconds(rng.uniform(5, 60))
        last_visitor, last_agent = at, None
        state, agent_id, rating, waiting_since = "bot", None, None, None
        escalated_at, reason, claimed_at = None, None, None
        outcome = rng.random()
        if outcome < 0.22:  # handed off
            reason = rng.choice(REASONS)
            self.message(cid, "visitor", at)
            last_visitor = at
            self.event(cid, "escalate", "bot", "waiting", at, reason=reason)
            state, waiting_since, escalated_at = "waiting", at, at
            fate = rng.random()
            if fate < 0.03 and start >= self.recent:
                pass  # still in the queue (only the newest)
            elif fate < 0.18:  # gave up waiting
                at += seconds(rng.uniform(20, 600))
                self.event(cid, "cancel", "waiting", "bot", at, since=waiting_since)
                state, waiting_since = "bot", None
                if rng.random() < 0.4:
                    self.tickets.append((cid, "Nimi", "040 000 0000", "Soittakaa", at + seconds(30), None, None))
            else:
                holder = rng.randrange(1, AGENTS + 1)
                at += seconds(rng.expovariate(1 / 90))
                self.event(cid, "claim", "waiting", "assigned", at, holder, since=waiting_since)
                claimed_at = assigned_at = at
                if rng.random() < 0.1:  # the agent went away: requeued, claimed again
                    at += seconds(rng.uniform(60, 300))
                    self.event(cid, "requeue", "assigned", "waiting", at, holder, since=assigned_at)
                    requeued_at, holder = at, rng.randrange(1, AGENTS + 1)
                    at += seconds(rng.expovariate(1 / 60))
                    self.event(cid, "claim", "waiting", "assigned", at, holder, since=requeued_at)
                    assigned_at = at
                for _ in range(rng.randint(1, 4)):
                    at += seconds(rng.uniform(5, 120))
                    self.message(cid, "agent", at, holder)
                    last_agent = at
                    at += seconds(rng.uniform(10, 90))
                    self.message(cid, "visitor", at)
                    last_visitor = at
                at += seconds(rng.uniform(5, 60))
                if rng.random() < 0.8:
                    self.event(cid, "close", "assigned", "closed", at, holder, since=assigned_at)
                    state = "closed"
                else:
                    self.event(cid, "return_to_bot", "assigned", "bot", at, holder, since=assigned_at)
                    state = "bot"
                agent_id, waiting_since = None, None
                if rng.random() < 0.35:
                    rating = rng.randint(1, 5)
        elif outcome < 0.30:  # a contact request instead
            self.tickets.append((cid, "Nimi", "nimi@example.com", "Asia", at, None, None))
        elif rng.random() < 0.1:
            rating = rng.randint(1, 5)
        harvested = rng.random() < 0.95
        bot_turns = turns + (1 if state != "bot" or waiting_since else 0) if harvested else None
        fallbacks = rng.choice([0, 0, 0, 1]) if harvested else None
        topic = rng.choice(TOPICS) if harvested and rng.random() < 0.85 else None
        self.conversations.append((
            cid, state, agent_id, 1, reason, None, None, start, at, waiting_since, last_visitor, last_agent, rating,
            at if harvested else None, start.astimezone(ZONE).date(), topic, bot_turns, fallbacks,
            escalated_at, reason, claimed_at))


CONVERSATION_COLUMNS = ["id", "state", "agent_id", "version", "escalation_reason", "handoff", "customer_id",
                        "created_at", "updated_at", "waiting_since", "last_visitor_message_at",
                        "last_agent_message_at", "rating", "harvested_at", "started_on", "topic", "bot_turns",
                        "fallback_turns", "first_escalated_at", "first_escalation_reason", "first_claimed_at"]


async def seed(url: str, count: int, today: dt.date) -> Dict[str, int]:
    store = await Store.open(url)  # the migrations create the schema
    for n in range(AGENTS):
        await store.agents.create(f"agent{n}", f"Agentti {n}", "bench-password-not-used")
    await store.close()
    rows = Seed(count, today, random.Random(17))
    connection = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
    try:
        await connection.copy_records_to_table("conversations", records=rows.conversations,
                                               columns=CONVERSATION_COLUMNS)
        await connection.copy_records_to_table(
            "messages", records=rows.messages,
            columns=["conversation_id", "sender", "kind", "text", "payload", "agent_id", "created_at", "topic",
                     "model_id"])
        await connection.copy_records_to_table(
            "answer_feedback", records=rows.feedback,
            columns=["message_id", "conversation_id", "helpful", "topic", "model_id", "started_on", "created_at",
                     "updated_at"])
        await connection.copy_records_to_table(
            "conversation_events", records=rows.events,
            columns=["conversation_id", "transition", "from_state", "to_state", "agent_id", "created_at", "reason",
                     "span_started_at"])
        await connection.copy_records_to_table(
            "tickets", records=rows.tickets,
            columns=["conversation_id", "name", "contact", "message", "created_at", "handled_by", "handled_at"])
        await connection.execute("ANALYZE")
    finally:
        await connection.close()
    return {"conversations": len(rows.conversations), "messages": len(rows.messages),
            "events": len(rows.events), "tickets": len(rows.tickets), "feedback": len(rows.feedback)}


async def time_answer(url: str, today: dt.date, runs: int) -> Tuple[List[float], Dict[str, Any]]:
    """Milliseconds of what the insights route does for the last 30 days, ``runs`` times after a warm-up."""
    store = await Store.open(url)
    period = Period(today - dt.timedelta(days=29), today)
    previous = period.previous()
    timings: List[float] = []
    answer: Dict[str, Any] = {}
    try:
        for run in range(runs + 1):
            started = time.perf_counter()
            current, before = await asyncio.gather(store.insights.period(period.first, period.last),
                                                   store.insights.period(previous.first, previous.last))
            answer = insights_json(period, current, before)
            if run:  # the first run warms the pool and PostgreSQL's caches
                timings.append((time.perf_counter() - started) * 1000)
    finally:
        await store.close()
    return timings, answer


async def main_async(args: argparse.Namespace) -> int:
    database = f"lumo_bench_insights_{os.getpid()}"
    admin = sa.create_engine(args.admin_url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    base = sa.engine.make_url(args.admin_url)
    url = str(base.set(drivername="postgresql+asyncpg", database=database))
    with admin.connect() as connection:
        version = connection.execute(sa.text("SHOW server_version")).scalar_one()
        connection.execute(sa.text(f'CREATE DATABASE "{database}"'))
    try:
        today = dt.datetime.now(ZONE).date()
        started = time.perf_counter()
        counts = await seed(url, args.conversations, today)
        seeded_s = time.perf_counter() - started
        timings, answer = await time_answer(url, today, args.runs)
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        admin.dispose()
    median, worst = statistics.median(timings), max(timings)
    p90 = sorted(timings)[-(-9 * len(timings) // 10) - 1]  # nearest rank
    load = os.getloadavg()
    verdict = "within" if worst <= TARGET_MS else "OVER"
    body = "\n".join([
        f"Generated by `python bench/insights.py` (PostgreSQL {version.split()[0]} at {base.host}:{base.port}, a "
        "database of its own, dropped afterwards).",
        "",
        f"Seeded in {seeded_s:.0f} s: {counts['conversations']:,} conversations over the last {DAYS} days, "
        f"{counts['messages']:,} messages, {counts['events']:,} state events, {counts['tickets']:,} contact requests, "
        f"{counts['feedback']:,} yes/no answers on bot answers.",
        "",
        "What `GET /api/agent/insights` does for the last 30 days (the period's SQL and the previous period's, "
        f"read side by side on their own connections, and the JSON), {len(timings)} runs after a warm-up:",
        "",
        "| 30 days (+ the 30 before) | median | p90 | slowest | target |",
        "| --- | --- | --- | --- | --- |",
        f"| {answer['conversations']:,} + {answer['previous']['conversations']:,} conversations | "
        f"{median:.0f} ms | {p90:.0f} ms | {worst:.0f} ms | {TARGET_MS} ms ({verdict}) |",
        "",
        f"Containment {answer['containment_rate']:.1%}, handoffs {answer['handoff_rate']:.1%}, queue wait p50 "
        f"{answer['queue']['wait_seconds']['p50']:.0f} s / p90 {answer['queue']['wait_seconds']['p90']:.0f} s "
        "(the seed's figures, to show the answer is complete).",
        f"Answers marked helpful {answer['helpful_by_topic']['rate']:.1%} of "
        f"{answer['helpful_by_topic']['rated']:,} rated, in {len(answer['helpful_by_topic']['items'])} topics; "
        f"CSAT of the bot {answer['csat']['bot']['rate']:.1%} ({answer['csat']['bot']['rated']:,} rated), of "
        f"people {answer['csat']['people']['rate']:.1%} ({answer['csat']['people']['rated']:,} rated).",
        f"Machine: {os.cpu_count()} cores shared with other work while it ran (load average "
        f"{load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}); a quiet machine is faster.",
    ])
    write_section("Insights", body)
    print(body)
    return 0 if worst <= TARGET_MS else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    return asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
