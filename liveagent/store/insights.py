"""The figures of the supervisors' insights (docs/metrics.md), counted in SQL over the store.

A period is a range of calendar days in ``schema.REPORTING_ZONE``; its conversations are those whose
visitor first wrote on one of those days (``conversations.started_on``, set by the first message) and
everything that happened in them (handoffs, waits, agents' work, ratings) counts in that period, also
when it happened later. Counts come from the database as integers and durations as integer
microseconds, so both backends give the same figures to the microsecond; rates are the caller's
(liveagent/insights.py), from these counts, so a rate is never computed from parts that do not add up.

Durations: SQLite keeps times as naive UTC text ("2026-11-22 12:00:00.123456"), PostgreSQL as
timestamptz; ``micros_between`` is the one expression that subtracts them on each. Percentiles use the
nearest-rank method (the smallest value with at least p % of the values at or below it) with window
functions both backends have.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from liveagent.store.engine import Repository
from liveagent.store.reconnect import survives_reconnects
from liveagent.store.schema import conversation_events, conversations, messages, tickets
from liveagent.store.state import ConversationState, Transition

MICROS = 1_000_000
# Upper bounds (seconds) of the wait-time distribution's bins; the last bin is "longer than the last bound".
WAIT_BINS = (30, 60, 120, 300, 600)
SATISFIED = 4  # a rating of 4 or 5 (of 1-5) is a satisfied visitor (CSAT)
UNKNOWN_REASON = "unknown"  # escalations stored before reasons were kept per event
ABANDONING = (Transition.CANCEL.value, Transition.CLOSE.value)  # a wait that ends without an agent


class micros_between(FunctionElement):
    """Whole microseconds from the first timestamp to the second (NULL when either is NULL).

    Give it columns: on SQLite each argument is written out more than once."""

    type = sa.BigInteger()
    name = "micros_between"
    inherit_cache = True


@compiles(micros_between, "postgresql")
def _micros_postgresql(element: micros_between, compiler: Any, **kw: Any) -> str:
    start, end = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"CAST(EXTRACT(EPOCH FROM ({end} - {start})) * 1000000 AS BIGINT)"


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

    def total(self, name: str) -> int:
        """A count of ``DayCounts`` summed over the period's days."""
        return sum(getattr(day, name) for day in self.days)


def _flag(condition: Any) -> Any:
    return sa.case((condition, 1), else_=0)


def _percentiles(values: Any, column: str) -> Any:
    """count, sum, p50 and p90 (nearest rank) of ``column`` of the subquery ``values``."""
    ranked = sa.select(
        values.c[column].label("d"),
        sa.func.row_number().over(order_by=values.c[column]).label("rn"),
        sa.func.count().over().label("n"),
    ).subquery()
    return sa.select(
        sa.func.count(),
        sa.func.coalesce(sa.func.sum(ranked.c.d), 0),
        sa.func.min(sa.case((ranked.c.rn * 100 >= ranked.c.n * 50, ranked.c.d))),
        sa.func.min(sa.case((ranked.c.rn * 100 >= ranked.c.n * 90, ranked.c.d))),
    )


def _spread(row: Any) -> Spread:
    count, total, p50, p90 = row
    return Spread(int(count), int(total or 0), None if p50 is None else int(p50), None if p90 is None else int(p90))


@survives_reconnects
class Insights(Repository):
    """Read-only: the figures of a period."""

    async def period(self, first: dt.date, last: dt.date) -> PeriodInsights:
        """The figures of the conversations that started from ``first`` to ``last`` (inclusive)."""
        if last < first:
            raise ValueError("the period ends before it starts")
        c, e, t, m = conversations.c, conversation_events.c, tickets.c, messages.c
        period = sa.and_(c.started_on.between(first, last), c.last_visitor_message_at.isnot(None))
        started = sa.select(c.id).where(period).subquery()

        escalated = sa.exists().where(e.conversation_id == c.id, e.transition == Transition.ESCALATE.value)
        claimed = sa.exists().where(e.conversation_id == c.id, e.transition == Transition.CLAIM.value)
        requested = sa.exists().where(t.conversation_id == c.id)
        per_conversation = sa.select(
            c.started_on, c.rating, c.bot_turns, c.fallback_turns,
            _flag(escalated).label("escalated"), _flag(claimed).label("served"),
            _flag(requested).label("requested"),
        ).where(period).subquery()
        p = per_conversation.c
        people, bot = p.served == 1, p.served == 0
        rated = p.rating.isnot(None)
        daily = (
            sa.select(
                p.started_on,
                sa.func.count(),
                sa.func.sum(p.escalated),
                sa.func.sum(_flag(sa.and_(p.escalated == 0, p.requested == 1))),
                sa.func.sum(_flag(sa.and_(p.escalated == 0, p.requested == 0))),
                sa.func.sum(p.requested),
                sa.func.sum(p.served),
                sa.func.sum(_flag(p.bot_turns.isnot(None))),
                sa.func.coalesce(sa.func.sum(p.bot_turns), 0),
                sa.func.coalesce(sa.func.sum(p.fallback_turns), 0),
                sa.func.sum(_flag(sa.and_(people, rated))),
                sa.func.sum(_flag(sa.and_(people, p.rating >= SATISFIED))),
                sa.func.coalesce(sa.func.sum(sa.case((people, p.rating))), 0),
                sa.func.sum(_flag(sa.and_(bot, rated))),
                sa.func.sum(_flag(sa.and_(bot, p.rating >= SATISFIED))),
                sa.func.coalesce(sa.func.sum(sa.case((bot, p.rating))), 0),
            )
            .group_by(p.started_on)
        )

        # the events aliased: the correlated minimum reads the table itself
        ev = conversation_events.alias("ev")
        first_escalation = (
            sa.select(sa.func.min(conversation_events.c.id))
            .where(conversation_events.c.conversation_id == ev.c.conversation_id,
                   conversation_events.c.transition == Transition.ESCALATE.value)
            .scalar_subquery()
        )
        reasons = (
            sa.select(ev.c.reason, sa.func.count())
            .select_from(ev.join(started, started.c.id == ev.c.conversation_id))
            .where(ev.c.transition == Transition.ESCALATE.value, ev.c.id == first_escalation)
            .group_by(ev.c.reason)
        )

        # Every event with the one after it in its conversation: a wait is an event into the queue,
        # ended by the next event (a claim, or the visitor leaving: cancel/close); none yet: ongoing.
        window = {"partition_by": e.conversation_id, "order_by": e.id}
        paired = (
            sa.select(
                e.conversation_id, e.transition, e.to_state, e.created_at,
                sa.func.lead(e.transition).over(**window).label("next_transition"),
                sa.func.lead(e.created_at).over(**window).label("next_at"),
            )
            .select_from(conversation_events.join(started, started.c.id == e.conversation_id))
            .subquery()
        )
        waits = (
            sa.select(paired.c.next_transition, micros_between(paired.c.created_at, paired.c.next_at).label("d"))
            .where(paired.c.to_state == ConversationState.WAITING.value)
            .subquery()
        )
        wait_outcomes = sa.select(waits.c.next_transition, sa.func.count()).group_by(waits.c.next_transition)
        claimed_waits = sa.select(waits.c.d).where(waits.c.next_transition == Transition.CLAIM.value).subquery()
        abandoned_waits = sa.select(waits.c.d).where(waits.c.next_transition.in_(ABANDONING)).subquery()
        bins = [sa.func.count()]
        lower = None
        for bound in WAIT_BINS:
            below = claimed_waits.c.d < bound * MICROS
            bins.append(sa.func.sum(_flag(below if lower is None else sa.and_(claimed_waits.c.d >= lower, below))))
            lower = bound * MICROS
        bins.append(sa.func.sum(_flag(claimed_waits.c.d >= lower)))
        histogram = sa.select(*bins)

        # An assignment runs from a claim to the next event that is no transfer (requeue, return, close).
        spans_window = {"partition_by": e.conversation_id, "order_by": e.id}
        spans_all = (
            sa.select(
                e.conversation_id, e.transition, e.created_at.label("start"),
                sa.func.lead(e.created_at).over(**spans_window).label("end"),
            )
            .select_from(conversation_events.join(started, started.c.id == e.conversation_id))
            .where(e.transition != Transition.TRANSFER.value)
            .subquery()
        )
        spans = sa.select(spans_all).where(spans_all.c.transition == Transition.CLAIM.value).subquery()
        s = spans.c
        first_reply = (
            sa.select(sa.func.min(m.created_at))
            .where(m.conversation_id == s.conversation_id, m.sender == "agent", m.kind == "text",
                   m.created_at >= s.start, sa.or_(s.end.is_(None), m.created_at <= s.end))
            .scalar_subquery()
        )
        replies = sa.select(s.start, first_reply.label("reply_at")).subquery()
        answered = (sa.select(micros_between(replies.c.start, replies.c.reply_at).label("d"))
                    .where(replies.c.reply_at.isnot(None)).subquery())
        handled = sa.select(micros_between(s.start, s.end).label("d")).where(s.end.isnot(None)).subquery()

        topics = (
            sa.select(c.topic, sa.func.count())
            .where(period, c.bot_turns.isnot(None))
            .group_by(c.topic)
        )

        async with self._engine.connect() as conn:
            by_day = {row[0]: DayCounts(row[0], *(int(value or 0) for value in row[1:]))
                      for row in await conn.execute(daily)}
            reason_counts = {(reason or UNKNOWN_REASON): int(count) for reason, count in await conn.execute(reasons)}
            outcomes = {next_transition: int(count) for next_transition, count in await conn.execute(wait_outcomes)}
            wait = _spread((await conn.execute(_percentiles(claimed_waits, "d"))).one())
            abandoned_after = _spread((await conn.execute(_percentiles(abandoned_waits, "d"))).one())
            histogram_row = (await conn.execute(histogram)).one()
            assignments = int((await conn.execute(sa.select(sa.func.count()).select_from(spans))).scalar_one())
            first_response = _spread((await conn.execute(_percentiles(answered, "d"))).one())
            handle = _spread((await conn.execute(_percentiles(handled, "d"))).one())
            topic_counts = [(topic, int(count)) for topic, count in await conn.execute(topics)]

        days = [by_day.get(day, DayCounts(day))
                for day in (first + dt.timedelta(days=n) for n in range((last - first).days + 1))]
        topic_counts.sort(key=lambda item: (-item[1], item[0] is None, item[0] or ""))
        return PeriodInsights(
            first=first, last=last, days=days, handoff_reasons=reason_counts,
            waits_claimed=outcomes.get(Transition.CLAIM.value, 0),
            waits_abandoned=sum(outcomes.get(name, 0) for name in ABANDONING),
            waits_ongoing=outcomes.get(None, 0),
            wait=wait, wait_histogram=tuple(int(value or 0) for value in histogram_row[1:]),
            abandoned_after=abandoned_after, assignments=assignments,
            first_response=first_response, handle=handle, topics=topic_counts,
        )
