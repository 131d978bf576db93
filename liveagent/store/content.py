"""Persistence of content editing: the change log, the missed-messages inbox and publish runs.

Shares the service's engine (``Store.content``); the content files themselves live in data/ and are
written only by content/repository.py.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Optional, Sequence

import sqlalchemy as sa

from liveagent.store.engine import Repository, build
from liveagent.store.reconnect import survives_reconnects
from liveagent.store.schema import (
    MISSED_STATUSES,
    content_changes,
    conversation_events,
    conversations,
    messages,
    missed_messages,
    publish_runs,
)
from liveagent.store.state import ConversationState


@dataclass(frozen=True)
class ContentChange:
    id: int
    agent_id: int
    topic: str
    path: str
    summary: str
    diff: str
    created_at: dt.datetime


@dataclass(frozen=True)
class MissedMessage:
    id: int
    conversation_id: str
    event_timestamp: float
    text: str
    reason: str
    guess: Optional[str]
    confidence: Optional[float]
    status: str
    topic: Optional[str]
    created_at: dt.datetime
    language: Optional[str] = None  # "sv", "en", "emoji"; None: Finnish

    @property
    def written_at(self) -> dt.datetime:
        """When the visitor wrote it (the tracker event's time), not when the harvest stored it: one harvest
        stores many chats' misses at the same moment."""
        return dt.datetime.fromtimestamp(self.event_timestamp, tz=dt.timezone.utc)


@dataclass(frozen=True)
class PublishRun:
    id: int
    kind: str
    state: str
    stage: str
    percent: int
    detail: str
    message: Optional[str]
    details: Optional[List[str]] = field(hash=False)
    agent_id: Optional[int]
    created_at: dt.datetime
    finished_at: Optional[dt.datetime]


@dataclass(frozen=True)
class AnsweredQuestion:
    """From a finished agent chat: what the visitor asked and what the agent answered (``closed_at``: when
    the agent's part of the chat ended)."""

    conversation_id: str
    question: str
    answer: str
    closed_at: dt.datetime


class RunInProgress(RuntimeError):
    """Another publish or rollback is running."""


@survives_reconnects
class ContentLog(Repository):
    # the change log

    async def record_change(self, agent_id: int, topic: str, path: str, summary: str, diff: str) -> ContentChange:
        async with self._writer.begin() as conn:
            result = await conn.execute(content_changes.insert().values(
                agent_id=agent_id, topic=topic, path=path, summary=summary[:500], diff=diff, created_at=self._clock()))
            row = (await conn.execute(sa.select(content_changes).where(
                content_changes.c.id == result.inserted_primary_key[0]))).one()
        return build(ContentChange, row)

    async def changes(self, topic: Optional[str] = None, limit: int = 100) -> List[ContentChange]:
        query = sa.select(content_changes).order_by(content_changes.c.id.desc()).limit(limit)
        if topic:
            query = query.where(content_changes.c.topic == topic)
        async with self._engine.connect() as conn:
            return [build(ContentChange, row) for row in await conn.execute(query)]

    # the missed-messages inbox

    async def add_missed(self, items: Iterable[Any]) -> int:
        """Store content.missed.Missed items; a message already stored is skipped. Returns how many were new."""
        rows = [dict(conversation_id=m.conversation_id, event_timestamp=float(m.event_timestamp), text=m.text,
                     reason=m.reason, guess=m.guess, confidence=m.confidence,
                     language=getattr(m, "language", None), created_at=self._clock())
                for m in items]
        if not rows:
            return 0
        insert = self._insert(missed_messages)
        async with self._writer.begin() as conn:
            result = await conn.execute(
                insert.on_conflict_do_nothing(index_elements=["conversation_id", "event_timestamp"]), rows)
        return max(0, result.rowcount or 0)

    async def open_missed(self, limit: int = 5000) -> List[MissedMessage]:
        query = (sa.select(missed_messages).where(missed_messages.c.status == "open")
                 .order_by(missed_messages.c.id.desc()).limit(limit))
        async with self._engine.connect() as conn:
            return [build(MissedMessage, row) for row in await conn.execute(query)]

    async def missed_by_ids(self, ids: Sequence[int]) -> List[MissedMessage]:
        query = sa.select(missed_messages).where(missed_messages.c.id.in_(list(ids))).order_by(missed_messages.c.id)
        async with self._engine.connect() as conn:
            return [build(MissedMessage, row) for row in await conn.execute(query)]

    async def resolve_missed(self, ids: Sequence[int], status: str, agent_id: int,
                             topic: Optional[str] = None) -> int:
        if status not in MISSED_STATUSES or status == "open":
            raise ValueError(f"cannot resolve missed messages as {status!r}")
        async with self._writer.begin() as conn:
            result = await conn.execute(
                missed_messages.update()
                .where(missed_messages.c.id.in_(list(ids)), missed_messages.c.status == "open")
                .values(status=status, topic=topic, resolved_by=agent_id, resolved_at=self._clock()))
        return result.rowcount

    async def conversations_to_harvest(self, idle_since: dt.datetime, limit: int = 50) -> List[str]:
        """Conversations with visitor messages newer than their last harvest, quiet since ``idle_since``."""
        c = conversations.c
        query = (sa.select(c.id)
                 .where(c.last_visitor_message_at.is_not(None), c.last_visitor_message_at < idle_since,
                        sa.or_(c.harvested_at.is_(None), c.harvested_at < c.last_visitor_message_at))
                 .order_by(c.last_visitor_message_at).limit(limit))
        async with self._engine.connect() as conn:
            return [row[0] for row in await conn.execute(query)]

    async def mark_harvested(self, conversation_id: str, turns: Optional[Any] = None) -> None:
        """The conversation's tracker was read now; ``turns`` (content.topics.TrackerTurns) is what it said
        about the topic and the bot's turns, replacing what an earlier harvest found."""
        values: Dict[str, Any] = {"harvested_at": self._clock()}
        if turns is not None:
            values.update(topic=turns.topic, bot_turns=turns.bot_turns, fallback_turns=turns.fallback_turns)
        async with self._writer.begin() as conn:
            await conn.execute(conversations.update().where(conversations.c.id == conversation_id).values(**values))

    async def answered_questions(self, limit: int = 30) -> List[AnsweredQuestion]:
        """Agents' answers in the chats they finished (closed, or returned to the bot), newest chat first:
        each agent reply that followed a visitor message, with the visitor's last message before it
        (what an editor can turn into a draft topic). A finished chat stays listed whatever happens
        next: the visitor writing again reopens it with the bot, and that must not hide the answers
        (it did: only chats still in the closed state were read). Notes are no answers, a quick
        reply's "/payload" no question."""
        e, m = conversation_events.c, messages.c
        ended_at = sa.func.max(e.created_at).label("ended_at")
        finished = (sa.select(e.conversation_id, ended_at)
                    .where(e.from_state == ConversationState.ASSIGNED.value,
                           e.to_state.in_((ConversationState.CLOSED.value, ConversationState.BOT.value)))
                    .group_by(e.conversation_id).order_by(ended_at.desc(), e.conversation_id).limit(limit))
        async with self._engine.connect() as conn:
            ended = {conversation_id: at for conversation_id, at in (await conn.execute(finished)).all()}
            rows = (await conn.execute(
                sa.select(m.conversation_id, m.sender, m.kind, m.text, m.created_at)
                .where(m.conversation_id.in_(list(ended)), m.sender.in_(("visitor", "agent")))
                .order_by(m.conversation_id, m.id))).all() if ended else []
        exchanges: Dict[str, List[AnsweredQuestion]] = {conversation_id: [] for conversation_id in ended}
        question: Dict[str, Optional[str]] = {}
        for conversation_id, sender, kind, text, created_at in rows:
            if created_at > ended[conversation_id]:
                continue  # after the agent's part ended (the bot's again, or a later agent chat still going)
            if sender == "visitor" and kind == "text" and not text.startswith("/"):
                question[conversation_id] = text
            elif sender == "agent" and kind == "text" and question.get(conversation_id):
                exchanges[conversation_id].append(
                    AnsweredQuestion(conversation_id, question.pop(conversation_id) or "", text,
                                     ended[conversation_id]))
        found = [exchange for conversation_id in ended for exchange in exchanges[conversation_id]]
        return found[:limit]

    # publish runs

    async def start_run(self, kind: str, agent_id: Optional[int], stage: str, detail: str) -> PublishRun:
        """A new running publish/rollback; RunInProgress if one is already running."""
        async with self._writer.begin() as conn:
            running = (await conn.execute(sa.select(publish_runs.c.id)
                                          .where(publish_runs.c.state == "running"))).first()
            if running is not None:
                raise RunInProgress(f"run {running[0]} is running")
            result = await conn.execute(publish_runs.insert().values(
                kind=kind, state="running", stage=stage, percent=0, detail=detail, agent_id=agent_id,
                created_at=self._clock()))
            row = (await conn.execute(sa.select(publish_runs).where(
                publish_runs.c.id == result.inserted_primary_key[0]))).one()
        return build(PublishRun, row)

    async def update_run(self, run_id: int, **values: Any) -> None:
        if values.get("state") in ("succeeded", "failed"):
            values["finished_at"] = self._clock()
        async with self._writer.begin() as conn:
            await conn.execute(publish_runs.update().where(publish_runs.c.id == run_id).values(**values))

    async def runs(self, limit: int = 10) -> List[PublishRun]:
        query = sa.select(publish_runs).order_by(publish_runs.c.id.desc()).limit(limit)
        async with self._engine.connect() as conn:
            return [build(PublishRun, row) for row in await conn.execute(query)]

    async def fail_interrupted_runs(self, message: str) -> int:
        """On start: a run still 'running' was cut off by a restart of this service."""
        async with self._writer.begin() as conn:
            result = await conn.execute(publish_runs.update().where(publish_runs.c.state == "running").values(
                state="failed", message=message, finished_at=self._clock()))
        return result.rowcount
