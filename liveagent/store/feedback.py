"""Visitors' "Oliko vastauksesta apua?" answers: one yes or no per bot answer, the latest counts.

Shares the service's engine (``Store.feedback``). Which messages may be rated is the caller's decision
(liveagent/conversations.py); here a message is rated only in its own conversation, and the answer's
topic and model are copied from the message, so the period's figures (liveagent/store/insights.py)
and the editors' topic list read the feedback without reading messages.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Dict, List, Optional

import sqlalchemy as sa

from liveagent.store.engine import Repository
from liveagent.store.reconnect import survives_reconnects
from liveagent.store.records import Message
from liveagent.store.schema import answer_feedback, conversations, messages


@dataclass(frozen=True)
class TopicAnswers:
    """A topic's bot answers in a time window and the visitors' feedback on them."""

    topic: str
    answers: int
    rated: int  # answers that got a yes or a no
    helpful: int  # ... a yes


@survives_reconnects
class AnswerFeedback(Repository):
    async def give(self, message: Message, helpful: bool, *, now: Optional[dt.datetime] = None) -> None:
        """The visitor's yes (``helpful``) or no on ``message``, replacing an earlier one."""
        now = (now or self._clock()).astimezone(dt.timezone.utc)
        c = conversations.c
        started_on = sa.select(c.started_on).where(c.id == message.conversation_id).scalar_subquery()
        insert = self._insert(answer_feedback).values(
            message_id=message.id, conversation_id=message.conversation_id, helpful=helpful,
            topic=message.topic, model_id=message.model_id, started_on=started_on, created_at=now, updated_at=now)
        upsert = insert.on_conflict_do_update(index_elements=[answer_feedback.c.message_id],
                                              set_={"helpful": helpful, "updated_at": now})
        async with self._writer.begin() as conn:
            await conn.execute(upsert)

    async def of_conversation(self, conversation_id: str) -> Dict[int, bool]:
        """The visitor's choices in one conversation, by message id (the widget's history replay)."""
        f = answer_feedback.c
        query = sa.select(f.message_id, f.helpful).where(f.conversation_id == conversation_id)
        async with self._engine.connect() as conn:
            return {int(message_id): bool(helpful) for message_id, helpful in await conn.execute(query)}

    async def by_topic(self, since: dt.datetime) -> List[TopicAnswers]:
        """Each topic's bot answers since ``since`` and the feedback on them (the editors' topic list),
        most answered first."""
        m, f = messages.c, answer_feedback.c
        query = (
            sa.select(m.topic, sa.func.count(), sa.func.count(f.message_id),
                      sa.func.coalesce(sa.func.sum(sa.case((f.helpful, 1), else_=0)), 0))
            .select_from(messages.outerjoin(answer_feedback, f.message_id == m.id))
            .where(m.topic.isnot(None), m.created_at >= since, m.sender == "bot")
            .group_by(m.topic)
        )
        async with self._engine.connect() as conn:
            rows = [TopicAnswers(topic, int(n), int(rated), int(helpful))
                    for topic, n, rated, helpful in await conn.execute(query)]
        return sorted(rows, key=lambda row: (-row.answers, row.topic))
