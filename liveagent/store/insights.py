"""The figures of the supervisors' insights (docs/metrics.md), counted in SQL over the store.

A period is a range of calendar days in ``schema.REPORTING_ZONE``; its conversations are those whose
visitor first wrote on one of those days (``conversations.started_on``, set by the first message) and
everything that happened in them (handoffs, waits, agents' work, ratings) counts in that period, also
when it happened later. Counts come from the database as integers and durations as integer
microseconds, so both backends give the same figures to the microsecond; rates are the caller's
(liveagent/insights.py), from these counts, so a rate is never computed from parts that do not add up.

Durations: SQLite keeps times as naive UTC text ("2026-11-22 12:00:00.123456"), PostgreSQL as
timestamptz; ``micros_between`` is the one expression that subtracts them on each. Percentiles use the
nearest-rank method (the smallest value with at least p % of the values at or below it): PostgreSQL's
``percentile_disc``, which is that, and on SQLite the same through window functions.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from liveagent.store.engine import Repository
from liveagent.store.reconnect import survives_reconnects
from liveagent.store.schema import agents, answer_feedback, conversation_events, conversations, messages, tickets
from liveagent.store.state import TAKES, ConversationState, Transition
from liveagent.store.suggestions import SuggestionCounts, counts_of, period_counts_query

MICROS = 1_000_000
# Upper bounds (seconds) of the wait-time distribution's bins; the last bin is "longer than the last bound".
WAIT_BINS = (30, 60, 120, 300, 600)
SATISFIED = 4  # a rating of 4 or 5 (of 1-5) is a satisfied visitor (CSAT)
UNKNOWN_REASON = "unknown"  # an escalation stored without a reason
ABANDONING = (Transition.CANCEL.value, Transition.CLOSE.value)  # a wait that ends without an agent


class micros_between(FunctionElement):
    """Whole microseconds from the first timestamp to the second (NULL when either is NULL).

    Give it columns: on SQLite each argument is written out more than once."""

    type = sa.BigInteger()
    name = "micros_between"
    inherit_cache = True


@compiles(micros_between, "postgresql")
def _micros_postgresql(element: micros_between, compiler: Any, **kw: Any) -> str:
    # date_part of an interval is a double (EXTRACT's numeric is slower); exact to the microsecond for
    # any span shorter than 285 years, and round() takes away the binary fraction's last bit
    start, end = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"CAST(round(date_part('epoch', {end} - {start}) * 1000000) AS BIGINT)"


@compiles(micros_between, "sqlite")
def _micros_sqlite(element: micros_between, compiler: Any, **kw: Any) -> str:
    # "YYYY-MM-DD HH:MM:SS.ffffff": whole seconds through julianday (exact after rounding), the
    # microseconds from the text itself (julianday keeps only milliseconds).
    start, end = (compiler.process(clause, **kw) for clause in element.clauses)
    seconds = f"CAST(round((julianday(substr({end}, 1, 19)) - julianday(substr({start}, 1, 19))) * 86400) AS INTEGER)"
    fraction = f"(CAST(substr({end}, 21, 6) AS INTEGER) - CAST(substr({start}, 21, 6) AS INTEGER))"
    return f"({seconds} * 1000000 + {fraction})"


@dataclass(frozen=True)
class Spread:
    """Durations in microseconds: how many, their sum, and the 50th and 90th percentiles (nearest rank)."""

    count: int = 0
    total: int = 0
    p50: Optional[int] = None
    p90: Optional[int] = None


@dataclass(frozen=True)
class DayCounts:
    """The conversations that started on ``day``, counted by what happened in them."""

    day: dt.date
    conversations: int = 0
    handed_off: int = 0  # escalated to the queue at least once
    contact_only: int = 0  # left a contact request, never escalated
    contained: int = 0  # neither
    contact_requested: int = 0  # left a contact request (escalated or not)
    served: int = 0  # an agent claimed it at least once
    harvested: int = 0  # its Rasa tracker has been read (topic and turns known)
    bot_turns: int = 0
    fallback_turns: int = 0
    rated_people: int = 0  # rated, served by an agent
    satisfied_people: int = 0
    rating_sum_people: int = 0
    rated_bot: int = 0  # rated, never served by an agent
    satisfied_bot: int = 0
    rating_sum_bot: int = 0


COUNTED = tuple(name for name in DayCounts.__dataclass_fields__ if name != "day")


@dataclass(frozen=True)
class PeriodInsights:
    first: dt.date
    last: dt.date
    days: List[DayCounts]  # every day of the period, in order (days without conversations are zeros)
    handoff_reasons: Dict[str, int]  # reason of each handed-off conversation's first escalation
    waits_claimed: int = 0
    waits_abandoned: int = 0  # the visitor left the queue (or it was closed) before an agent came
    waits_ongoing: int = 0
    wait: Spread = Spread()  # waits that ended with an agent's claim
    wait_histogram: Tuple[int, ...] = ()  # the same waits in WAIT_BINS (len(WAIT_BINS) + 1 bins)
    abandoned_after: Spread = Spread()  # how long those who gave up had waited
    assignments: int = 0  # claims by an agent
    first_response: Spread = Spread()  # claim -> the first agent reply while the chat was held
    handle: Spread = Spread()  # claim -> closed, returned to the bot or requeued (ended assignments)
    topics: List[Tuple[Optional[str], int]] = field(default_factory=list)  # harvested conversations by topic
    suggestions: SuggestionCounts = SuggestionCounts()  # visitor messages with suggested answers (issue 16)
    # bot answers with the visitor's yes or no, by the answer's topic: (topic, rated, marked helpful)
    helpful: List[Tuple[Optional[str], int, int]] = field(default_factory=list)

    def total(self, name: str) -> int:
        """A count of ``DayCounts`` summed over the period's days."""
        return sum(getattr(day, name) for day in self.days)


@dataclass(frozen=True)
class LiveCounts:
    """The service as it is now (for the operators' metrics): conversations by state, since when the
    longest-waiting visitor has waited, active agents by presence."""

    states: Dict[str, int]
    oldest_waiting_since: Optional[dt.datetime]
    presences: Dict[str, int]


def _flag(condition: Any) -> Any:
    return sa.case((condition, 1), else_=0)


def _spread(count: Any, total: Any, p50: Any, p90: Any) -> Spread:
    def whole(value: Any) -> Optional[int]:
        return None if value is None else int(value)

    return Spread(int(count or 0), int(total or 0), whole(p50), whole(p90))


# The kinds of rows of the durations statement (``_durations``): (kind, key) -> what the row is.
WAIT, RESPONSE, HANDLE = "wait", "response", "handle"
CLAIMED, ABANDONED, ONGOING = "claimed", "abandoned", "ongoing"


@survives_reconnects
class Insights(Repository):
    """Read-only: the figures of a period."""

    async def period(self, first: dt.date, last: dt.date) -> PeriodInsights:
        """The figures of the conversations that started from ``first`` to ``last`` (inclusive)."""
        if last < first:
            raise ValueError("the period ends before it starts")
        c = conversations.c
        period = sa.and_(c.started_on.between(first, last), c.last_visitor_message_at.isnot(None))
        topics = sa.select(c.topic, sa.func.count()).where(period, c.bot_turns.isnot(None)).group_by(c.topic)
        # Two connections: the conversations' own figures beside the events' (PostgreSQL runs them on two
        # cores; SQLite's readers run beside each other too).
        (daily, reasons, topic_rows, suggested, feedback_rows), (durations,) = await asyncio.gather(
            self._read(_daily(period), _reasons(period), topics, period_counts_query(period), _helpful(first, last)),
            self._read(_durations(period, self._engine.dialect.name)))
        by_day = {row[0]: DayCounts(row[0], *(int(value or 0) for value in row[1:])) for row in daily}
        reason_counts = {(reason or UNKNOWN_REASON): int(n) for reason, n in reasons}
        groups = {(kind, key): row for kind, key, *row in durations}
        topic_counts = [(topic, int(count)) for topic, count in topic_rows]
        helpful = sorted(((topic, int(rated), int(yes or 0)) for topic, rated, yes in feedback_rows),
                         key=lambda item: (-item[1], item[0] is None, item[0] or ""))

        days = [by_day.get(day, DayCounts(day))
                for day in (first + dt.timedelta(days=n) for n in range((last - first).days + 1))]
        topic_counts.sort(key=lambda item: (-item[1], item[0] is None, item[0] or ""))

        def spread(kind: str, key: Optional[str] = None) -> Spread:
            row = groups.get((kind, key))
            return Spread() if row is None else _spread(row[1], row[2], row[3], row[4])

        def count(kind: str, key: Optional[str] = None) -> int:
            row = groups.get((kind, key))
            return 0 if row is None else int(row[0])

        claimed = groups.get((WAIT, CLAIMED))
        histogram = tuple(int(value or 0) for value in claimed[5:]) if claimed else (0,) * (len(WAIT_BINS) + 1)
        return PeriodInsights(
            first=first, last=last, days=days,
            handoff_reasons=reason_counts,
            waits_claimed=count(WAIT, CLAIMED), waits_abandoned=count(WAIT, ABANDONED),
            waits_ongoing=count(WAIT, ONGOING),
            wait=spread(WAIT, CLAIMED), wait_histogram=histogram, abandoned_after=spread(WAIT, ABANDONED),
            assignments=count(RESPONSE), first_response=spread(RESPONSE), handle=spread(HANDLE),
            topics=topic_counts, suggestions=counts_of(suggested[0] if suggested else None), helpful=helpful,
        )


    async def live(self) -> LiveCounts:
        c = conversations.c
        states = sa.select(c.state, sa.func.count()).group_by(c.state)
        oldest = sa.select(sa.func.min(c.waiting_since)).where(c.state == ConversationState.WAITING.value)
        presences = sa.select(agents.c.presence, sa.func.count()).where(agents.c.active).group_by(agents.c.presence)
        async with self._engine.connect() as conn:
            by_state = {state: int(n) for state, n in await conn.execute(states)}
            since = (await conn.execute(oldest)).scalar_one()
            by_presence = {presence: int(n) for presence, n in await conn.execute(presences)}
        return LiveCounts(by_state, since, by_presence)

    async def _read(self, *statements: Any) -> List[List[Any]]:
        """The rows of each statement, read on one connection."""
        async with self._engine.connect() as conn:
            if conn.dialect.name == "postgresql":
                # These queries take milliseconds; compiling them to machine code first (JIT, on by
                # default for plans this large) took longer than running them.
                await conn.execute(sa.text("SET LOCAL jit = off"))
            return [list(await conn.execute(statement)) for statement in statements]


def _daily(period: Any) -> Any:
    """Per day: the conversations and what happened in them (one row a day that had conversations).

    The conversation's row says whether it escalated and whether an agent claimed it (the first of
    each is recorded by the state machine); contact requests are joined, one row per conversation."""
    c, t = conversations.c, tickets.c
    requests = sa.select(t.conversation_id).where(t.conversation_id.isnot(None)).group_by(t.conversation_id).subquery()
    escalated = c.first_escalated_at.isnot(None)
    requested = requests.c.conversation_id.isnot(None)
    people, bot = c.first_claimed_at.isnot(None), c.first_claimed_at.is_(None)
    return (
        sa.select(
            c.started_on,
            sa.func.count(),
            sa.func.sum(_flag(escalated)),
            sa.func.sum(_flag(sa.and_(~escalated, requested))),
            sa.func.sum(_flag(sa.and_(~escalated, ~requested))),
            sa.func.sum(_flag(requested)),
            sa.func.sum(_flag(people)),
            sa.func.sum(_flag(c.bot_turns.isnot(None))),
            sa.func.coalesce(sa.func.sum(c.bot_turns), 0),
            sa.func.coalesce(sa.func.sum(c.fallback_turns), 0),
            sa.func.sum(_flag(sa.and_(people, c.rating.isnot(None)))),
            sa.func.sum(_flag(sa.and_(people, c.rating >= SATISFIED))),
            sa.func.coalesce(sa.func.sum(sa.case((people, c.rating))), 0),
            sa.func.sum(_flag(sa.and_(bot, c.rating.isnot(None)))),
            sa.func.sum(_flag(sa.and_(bot, c.rating >= SATISFIED))),
            sa.func.coalesce(sa.func.sum(sa.case((bot, c.rating))), 0),
        )
        .select_from(conversations.outerjoin(requests, requests.c.conversation_id == c.id))
        .where(period)
        .group_by(c.started_on)
    )


def _helpful(first: dt.date, last: dt.date) -> Any:
    """The period's answers with the visitor's yes or no, by the answer's topic: (topic, rated, helpful).

    Each row carries its conversation's first day (a conversation with a bot answer has a visitor message),
    so this is one range of ``ix_answer_feedback_started_on``, which holds every column read."""
    f = answer_feedback.c
    return (sa.select(f.topic, sa.func.count(), sa.func.sum(_flag(f.helpful)))
            .where(f.started_on.between(first, last)).group_by(f.topic))


def _reasons(period: Any) -> Any:
    c = conversations.c
    return (sa.select(c.first_escalation_reason, sa.func.count())
            .where(period, c.first_escalated_at.isnot(None)).group_by(c.first_escalation_reason))


def _durations(period: Any, dialect: str) -> Any:
    """Waits, first responses and handle times: rows (kind, key, count, count of durations, their sum,
    p50, p90, *wait bins) for waits by how they ended (``wait``: claimed / abandoned / ongoing), and for
    assignments the time from the claim to the first reply (``response``; no reply: no duration) and
    to the end (``handle``; not ended: no duration).

    An event that takes a conversation out of the queue or away from its agent carries when that wait
    or assignment began (``span_started_at``, written by the state machine), so an ended one is one
    event row; one still going on is the conversation's own row (waiting, or assigned since
    ``assignment_started_at``). An automatic assignment counts as a claim."""
    c, e, m = conversations.c, conversation_events.c, messages.c
    started = sa.select(c.id).where(period).subquery()
    of_period = conversation_events.join(started, started.c.id == e.conversation_id)
    ended_waits = (
        sa.select(sa.literal(WAIT).label("kind"),
                  sa.case((e.transition.in_([t.value for t in TAKES]), CLAIMED), else_=ABANDONED).label("key"),
                  micros_between(e.span_started_at, e.created_at).label("d"))
        .select_from(of_period)
        .where(e.from_state == ConversationState.WAITING.value)
    )
    ongoing_waits = (sa.select(sa.literal(WAIT).label("kind"), sa.literal(ONGOING).label("key"),
                               sa.null().label("d"))
                     .where(period, c.state == ConversationState.WAITING.value))
    leaving_agent = sa.and_(e.from_state == ConversationState.ASSIGNED.value,
                            e.to_state != ConversationState.ASSIGNED.value)
    assignments = sa.union_all(
        sa.select(e.conversation_id.label("conversation_id"), e.span_started_at.label("start"),
                  e.created_at.label("end")).select_from(of_period).where(leaving_agent),
        sa.select(c.id, c.assignment_started_at, sa.null()).where(period, c.state == ConversationState.ASSIGNED.value),
    ).subquery()
    a = assignments.c
    first_reply = (
        sa.select(sa.func.min(m.created_at))
        .where(m.conversation_id == a.conversation_id, m.sender == "agent", m.kind == "text",
               m.created_at >= a.start, sa.or_(a.end.is_(None), m.created_at <= a.end))
        .scalar_subquery()
    )
    spans = sa.select(a.start, a.end, first_reply.label("reply_at")).cte("spans")
    responses = sa.select(sa.literal(RESPONSE).label("kind"), sa.null().label("key"),
                          micros_between(spans.c.start, spans.c.reply_at).label("d"))
    handles = sa.select(sa.literal(HANDLE).label("kind"), sa.null().label("key"),
                        micros_between(spans.c.start, spans.c.end).label("d"))
    rows = sa.union_all(ended_waits, ongoing_waits, responses, handles).subquery()
    if dialect == "postgresql":  # an ordered-set aggregate: one sort of each group's durations
        r = rows.c
        p50, p90 = (sa.func.percentile_disc(p).within_group(r.d) for p in (0.5, 0.9))
    else:  # nearest rank through window functions: the smallest d whose rank is at least p % of them
        group = (rows.c.kind, rows.c.key)
        ranked = sa.select(
            rows.c.kind, rows.c.key, rows.c.d,
            sa.func.row_number().over(partition_by=group, order_by=(rows.c.d.is_(None), rows.c.d)).label("rn"),
            sa.func.count(rows.c.d).over(partition_by=group).label("n"),
        ).subquery()
        r = ranked.c
        p50, p90 = (sa.func.min(sa.case((r.rn * 100 >= r.n * p, r.d))) for p in (50, 90))
    bins = []
    lower = None
    for bound in WAIT_BINS:
        below = r.d < bound * MICROS
        bins.append(sa.func.sum(_flag(below if lower is None else sa.and_(r.d >= lower, below))))
        lower = bound * MICROS
    bins.append(sa.func.sum(_flag(r.d >= lower)))
    return (
        sa.select(r.kind, r.key, sa.func.count(), sa.func.count(r.d), sa.func.sum(r.d), p50, p90, *bins)
        .group_by(r.kind, r.key)
    )
