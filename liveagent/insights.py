"""The supervisors' insights: a period from the query, its figures and the previous period's, as JSON or CSV.

What each figure means, with its numerator and denominator, is docs/metrics.md; the counting is SQL in
liveagent/store/insights.py. Here every rate is a count divided by the count it is a part of (so no rate
exceeds 1, and parts of a whole add up to it), and durations turn from microseconds into seconds.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional, Tuple

from liveagent.store.insights import MICROS, WAIT_BINS, PeriodInsights, Spread
from liveagent.store.schema import REPORTING_ZONE

Json = Dict[str, Any]
DEFAULT_DAYS = 30
MAX_DAYS = 366
# Figures defined in docs/metrics.md whose data does not exist yet (none now: every figure is computed).
PENDING: Tuple[str, ...] = ()
DAILY_FIELDS = ("date", "conversations", "handed_off", "contact_requests", "contained", "containment_rate")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class BadPeriod(ValueError):
    """The query's period cannot be used; ``code`` names the error (liveagent/copy_fi.yml errors.*)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class Period:
    first: dt.date
    last: dt.date

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def previous(self) -> "Period":
        """The period of the same length that ends the day before this one starts."""
        return Period(self.first - dt.timedelta(days=self.days), self.first - dt.timedelta(days=1))


def _date(raw: Optional[str]) -> Optional[dt.date]:
    if raw is None:
        return None
    if not _DATE.fullmatch(raw):
        raise BadPeriod("bad_date")
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise BadPeriod("bad_date") from None


def parse_period(query: Mapping[str, Optional[str]], today: dt.date) -> Period:
    """``from`` and ``to`` (YYYY-MM-DD, both days included). Without ``to``: today; without ``from``: the
    30 days up to ``to``. BadPeriod when a date is malformed, the period ends before it starts, is longer
    than 366 days, or its previous period would start before the calendar does."""
    last = _date(query.get("to")) or today
    first = _date(query.get("from"))
    if first is None:
        try:
            first = last - dt.timedelta(days=DEFAULT_DAYS - 1)
        except OverflowError:
            raise BadPeriod("bad_period") from None
    if last < first:
        raise BadPeriod("bad_period")
    period = Period(first, last)
    if period.days > MAX_DAYS:
        raise BadPeriod("period_too_long")
    try:
        period.previous()
    except OverflowError:
        raise BadPeriod("bad_period") from None
    return period


def rate(part: int, whole: int) -> Optional[float]:
    """``part / whole``; None when there is no whole to take a part of."""
    return part / whole if whole else None


def seconds(spread: Spread) -> Json:
    return {
        "count": spread.count,
        "p50": None if spread.p50 is None else spread.p50 / MICROS,
        "p90": None if spread.p90 is None else spread.p90 / MICROS,
        "mean": spread.total / spread.count / MICROS if spread.count else None,
    }


def csat(rated: int, satisfied: int, rating_sum: int) -> Json:
    return {"rated": rated, "satisfied": satisfied, "rate": rate(satisfied, rated),
            "average": rating_sum / rated if rated else None}


def summary(figures: PeriodInsights) -> Json:
    """Every figure of docs/metrics.md for the period, without the daily series and topics."""
    total = figures.total
    conversations = total("conversations")
    handed_off = total("handed_off")
    waits = figures.waits_claimed + figures.waits_abandoned + figures.waits_ongoing
    ended_waits = figures.waits_claimed + figures.waits_abandoned
    bins = list(WAIT_BINS) + [None]
    return {
        "from": figures.first.isoformat(),
        "to": figures.last.isoformat(),
        "conversations": conversations,
        "contained": total("contained"),
        "handed_off": handed_off,
        "contact_requests": total("contact_only"),
        "containment_rate": rate(total("contained"), conversations),
        "handoff_rate": rate(handed_off, conversations),
        "contact_request_rate": rate(total("contact_only"), conversations),
        "contact_requested": total("contact_requested"),
        "handoffs_by_reason": {
            reason: {"count": count, "rate": rate(count, conversations)}
            for reason, count in sorted(figures.handoff_reasons.items())
        },
        "fallback": {
            "conversations_read": total("harvested"),
            "bot_messages": total("bot_turns"),
            "fallback_messages": total("fallback_turns"),
            "rate": rate(total("fallback_turns"), total("bot_turns")),
        },
        "queue": {
            "waits": waits,
            "claimed": figures.waits_claimed,
            "abandoned": figures.waits_abandoned,
            "ongoing": figures.waits_ongoing,
            "abandoned_rate": rate(figures.waits_abandoned, ended_waits),
            "wait_seconds": seconds(figures.wait),
            "abandoned_after_seconds": seconds(figures.abandoned_after),
            "distribution": [{"up_to_seconds": bound, "count": count}
                             for bound, count in zip(bins, figures.wait_histogram, strict=True)],
        },
        "agents": {
            "served_conversations": total("served"),
            "assignments": figures.assignments,
            "first_response_seconds": seconds(figures.first_response),
            "unanswered_assignments": figures.assignments - figures.first_response.count,
            "handle_seconds": seconds(figures.handle),
        },
        "suggestions_used": {
            "shown": figures.suggestions.shown,
            "used": figures.suggestions.used,
            "edited": figures.suggestions.edited,
            "rate": rate(figures.suggestions.used, figures.suggestions.shown),
        },
        "csat": {
            "people": csat(total("rated_people"), total("satisfied_people"), total("rating_sum_people")),
            "bot": csat(total("rated_bot"), total("satisfied_bot"), total("rating_sum_bot")),
        },
        "helpful_by_topic": helpful_by_topic(figures),
    }


def helpful_by_topic(figures: PeriodInsights) -> Json:
    """Answers marked helpful of those that got a yes or a no, in all and by the answer's topic (feedback is
    asked only under answers Rasa labelled with a topic, so every one has a topic; the items add up to all)."""
    rated = sum(n for _, n, _ in figures.helpful)
    helpful = sum(yes for _, _, yes in figures.helpful)
    return {
        "rated": rated, "helpful": helpful, "rate": rate(helpful, rated),
        "items": [{"topic": topic, "rated": n, "helpful": yes, "rate": rate(yes, n)}
                  for topic, n, yes in figures.helpful],
    }


def daily(figures: PeriodInsights) -> List[Json]:
    return [{"date": day.day.isoformat(), "conversations": day.conversations, "handed_off": day.handed_off,
             "contact_requests": day.contact_only, "contained": day.contained,
             "containment_rate": rate(day.contained, day.conversations)} for day in figures.days]


def topics(current: PeriodInsights, previous: PeriodInsights) -> Json:
    """Harvested conversations by the topic the visitor came with, now and in the previous period."""
    before = dict(previous.topics)
    read = current.total("harvested")
    listed = [{"topic": topic, "conversations": count, "share": rate(count, read),
               "previous": before.get(topic, 0), "change": count - before.get(topic, 0)}
              for topic, count in current.topics if topic is not None]
    unrecognised = dict(current.topics).get(None, 0)
    return {"conversations_read": read, "items": listed, "no_topic": unrecognised}


def insights_json(period: Period, current: PeriodInsights, previous: PeriodInsights) -> Json:
    return {
        **summary(current),
        "days": period.days,
        "time_zone": REPORTING_ZONE,
        "daily": daily(current),
        "topics": topics(current, previous),
        "pending": list(PENDING),
        "previous": summary(previous),
    }


def daily_csv(current: PeriodInsights) -> str:
    """The daily series as CSV (comma-separated, a header row, rates as fractions, empty when undefined)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=DAILY_FIELDS, lineterminator="\r\n")
    writer.writeheader()
    for row in daily(current):
        writer.writerow({key: "" if value is None else value for key, value in row.items()})
    return out.getvalue()
