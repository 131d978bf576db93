"""Persistence of suggested answers: which FAQ answers agents were shown for a visitor's message, and
which of them a reply was sent from (``Store.suggestions``).

A suggestion is recorded once per (visitor message, topic), however often a console shows it; its id
is what the console sends back with a reply made from it, so the service counts only suggestions it
really showed. What is counted from them: the insights' ``suggestions_used`` (``period_counts``,
docs/metrics.md) and, for content editors, the topics whose answers agents sent after a handoff
(``topics_used``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, List, Optional, Sequence, Tuple

import sqlalchemy as sa

from liveagent.store.engine import Repository, build
from liveagent.store.reconnect import survives_reconnects
from liveagent.store.records import Message, ReplySuggestion
from liveagent.store.schema import conversations, messages, reply_suggestions

# (topic, rank, confidence, text) of one suggestion to record
Shown = Tuple[str, int, float, str]


@dataclass(frozen=True)
class SuggestionCounts:
    """Visitor messages in a period's conversations: with suggestions shown, answered from one, and of
    those, answered with a suggestion the agent edited first."""

    shown: int = 0
    used: int = 0
    edited: int = 0


@dataclass(frozen=True)
class TopicUse:
    """A topic whose suggested answer agents sent: in how many conversations, how many replies, edited."""

    topic: str
    conversations: int
    replies: int
    edited: int


def period_counts_query(period: Any) -> Any:
    """The SELECT of ``SuggestionCounts`` for the conversations matching ``period`` (a clause over
    ``conversations``; liveagent/store/insights.py runs it with the period's other figures)."""
    rs = reply_suggestions.c
    used = sa.case((rs.used_message_id.isnot(None), rs.message_id))
    edited = sa.case((sa.and_(rs.used_message_id.isnot(None), rs.edited.is_(True)), rs.message_id))
    return (sa.select(sa.func.count(sa.distinct(rs.message_id)), sa.func.count(sa.distinct(used)),
                      sa.func.count(sa.distinct(edited)))
            .select_from(reply_suggestions.join(conversations, conversations.c.id == rs.conversation_id))
            .where(period))


def counts_of(row: Optional[Sequence[Any]]) -> SuggestionCounts:
    if row is None:
        return SuggestionCounts()
    return SuggestionCounts(*(int(value or 0) for value in row))


@survives_reconnects
class Suggestions(Repository):
    async def latest_questions(self, conversation_id: str, limit: int = 1) -> List[Message]:
        """The visitor's newest ``limit`` messages in their own words, newest first (a quick reply's
        "/payload" is no question)."""
        m = messages.c
        query = (sa.select(messages)
                 .where(m.conversation_id == conversation_id, m.sender == "visitor", m.kind == "text",
                        ~m.text.startswith("/"))
                 .order_by(m.id.desc()).limit(limit))
        async with self._engine.connect() as conn:
            return [build(Message, row) for row in await conn.execute(query)]

    async def record_shown(self, conversation_id: str, message_id: int, items: Sequence[Shown],
                           now: Optional[dt.datetime] = None) -> List[ReplySuggestion]:
        """The suggestions for the visitor's message ``message_id`` as recorded: new ones are added, ones
        shown before keep their id (and their first text and rank), in the order of ``items``."""
        if not items:
            return []
        now = now or self._clock()
        rows = [{"conversation_id": conversation_id, "message_id": message_id, "topic": topic, "rank": rank,
                 "confidence": confidence, "text": text, "shown_at": now}
                for topic, rank, confidence, text in items]
        insert = self._insert(reply_suggestions).on_conflict_do_nothing(index_elements=["message_id", "topic"])
        topics = [item[0] for item in items]
        async with self._writer.begin() as conn:
            await conn.execute(insert, rows)
            found = await conn.execute(sa.select(reply_suggestions).where(
                reply_suggestions.c.message_id == message_id, reply_suggestions.c.topic.in_(topics)))
            by_topic = {row.topic: build(ReplySuggestion, row) for row in found}
        return [by_topic[topic] for topic in topics if topic in by_topic]

    async def find(self, suggestion_id: int, conversation_id: str) -> Optional[ReplySuggestion]:
        """The suggestion with this id shown in this conversation, else None."""
        query = sa.select(reply_suggestions).where(reply_suggestions.c.id == suggestion_id,
                                                   reply_suggestions.c.conversation_id == conversation_id)
        async with self._engine.connect() as conn:
            row = (await conn.execute(query)).first()
        return build(ReplySuggestion, row) if row is not None else None

    async def mark_used(self, suggestion_id: int, reply_message_id: int, edited: bool,
                        now: Optional[dt.datetime] = None) -> bool:
        """The reply ``reply_message_id`` was sent from the suggestion; only the first reply is kept
        (True when this one was recorded)."""
        update = (reply_suggestions.update()
                  .where(reply_suggestions.c.id == suggestion_id, reply_suggestions.c.used_message_id.is_(None))
                  .values(used_message_id=reply_message_id, used_at=now or self._clock(), edited=edited))
        async with self._writer.begin() as conn:
            return (await conn.execute(update)).rowcount == 1

    async def of_conversation(self, conversation_id: str) -> List[ReplySuggestion]:
        query = (sa.select(reply_suggestions).where(reply_suggestions.c.conversation_id == conversation_id)
                 .order_by(reply_suggestions.c.message_id, reply_suggestions.c.rank))
        async with self._engine.connect() as conn:
            return [build(ReplySuggestion, row) for row in await conn.execute(query)]

    async def period_counts(self, period: Any) -> SuggestionCounts:
        async with self._engine.connect() as conn:
            return counts_of((await conn.execute(period_counts_query(period))).first())

    async def topics_used(self, since: dt.datetime) -> List[TopicUse]:
        """Topics whose suggested answer an agent sent since ``since``: the bot knew the answer, yet the
        visitor wanted a person. Most conversations first."""
        rs = reply_suggestions.c
        edited = sa.func.sum(sa.case((rs.edited.is_(True), 1), else_=0))
        query = (sa.select(rs.topic, sa.func.count(sa.distinct(rs.conversation_id)), sa.func.count(), edited)
                 .where(rs.used_message_id.isnot(None), rs.used_at >= since)
                 .group_by(rs.topic))
        async with self._engine.connect() as conn:
            rows = [TopicUse(topic, int(n), int(replies), int(changed or 0))
                    for topic, n, replies, changed in await conn.execute(query)]
        return sorted(rows, key=lambda use: (-use.conversations, -use.replies, use.topic))
