"""Persistence of messages: appending them, what a reconnecting client missed, transcripts, read marks.

Shares the service's engine (``Store.messages``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Dict, List, Optional, Tuple

import sqlalchemy as sa

from liveagent.store.engine import NotFound, Repository, build, one_of
from liveagent.store.reconnect import survives_reconnects
from liveagent.store.records import JsonObject, Message
from liveagent.store.schema import KINDS, SENDERS, conversations, messages, read_marks
from liveagent.store.sqlite_driver import Prepared, RowcountMismatch
from liveagent.store.state import ConversationState

# The statements of every visitor message, built once (building one costs more than running it on SQLite).
_TOUCH_CONVERSATION = conversations.update().where(conversations.c.id == sa.bindparam("conversation_id"))
_INSERT_MESSAGE = messages.insert()
_MESSAGE_COLUMNS = ("conversation_id", "sender", "kind", "text", "payload", "agent_id", "created_at", "topic",
                    "model_id")


@survives_reconnects
class Messages(Repository):
    """The messages of conversations and the agents' read marks."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._prepared: Dict[Tuple[str, ...], Prepared] = {}  # SQLite: the statements of `add`, by columns

    def _prepare(self, statement: Any, keys: Tuple[str, ...]) -> Prepared:
        prepared = self._prepared.get(keys)
        if prepared is None:
            prepared = self._prepared[keys] = Prepared(statement, self._engine.dialect, keys)
        return prepared

    async def add(
        self,
        conversation_id: str,
        sender: str,
        kind: str,
        text: str,
        payload: Optional[JsonObject] = None,
        agent_id: Optional[int] = None,
        *,
        now: Optional[dt.datetime] = None,
        topic: Optional[str] = None,
        model_id: Optional[str] = None,
    ) -> Message:
        """Append a message; visitor and agent texts move the timestamps the requeue check reads.

        An agent's internal note does not count as answering the visitor. ``topic`` and ``model_id``:
        a bot answer's label and model (lumo_shared/answers.py).
        """
        one_of("sender", sender, SENDERS)
        one_of("kind", kind, KINDS)
        now = (now or self._clock()).astimezone(dt.timezone.utc)
        stamps: Dict[str, Any] = {"updated_at": now}
        if sender == "visitor":
            stamps["last_visitor_message_at"] = now
        elif sender == "agent" and kind == "text":
            stamps["last_agent_message_at"] = now
        row = {"conversation_id": conversation_id, "sender": sender, "kind": kind, "text": text,
               "payload": payload, "agent_id": agent_id, "created_at": now, "topic": topic, "model_id": model_id}
        if self._lane is not None:  # SQLite: the whole transaction in one trip on the lane
            touch = self._prepare(_TOUCH_CONVERSATION, tuple(stamps))
            insert = self._prepare(_INSERT_MESSAGE, _MESSAGE_COLUMNS)
            try:
                _, message_id = await self._writer.run_on_lane([
                    (touch.sql, touch.parameters({"conversation_id": conversation_id, **stamps}), 1),
                    (insert.sql, insert.parameters(row), None),
                ])
            except RowcountMismatch:
                raise NotFound(f"conversation {conversation_id!r}") from None
        else:
            async with self._writer.begin() as conn:
                touched = await conn.execute(_TOUCH_CONVERSATION, {"conversation_id": conversation_id, **stamps})
                if touched.rowcount != 1:
                    raise NotFound(f"conversation {conversation_id!r}")
                message_id = (await conn.execute(_INSERT_MESSAGE, row)).inserted_primary_key[0]
        return Message(message_id, conversation_id, sender, kind, text, payload, agent_id, now, topic, model_id)

    async def after(
        self, conversation_id: str, after_id: int, visible_to: str, limit: int = 500,
        since: Optional[dt.datetime] = None,
    ) -> List[Message]:
        """Messages with id > `after_id`, and with `since` also those written at or after it, in order:
        what a reconnecting client missed.

        Visitors never receive internal notes.
        """
        one_of("visible_to", visible_to, ("visitor", "agent"))
        missed = messages.c.id > after_id
        if since is not None:
            missed = sa.or_(missed, messages.c.created_at >= since)
        query = (
            sa.select(messages)
            .where(messages.c.conversation_id == conversation_id, missed)
            .order_by(messages.c.id)
            .limit(limit)
        )
        if visible_to == "visitor":
            query = query.where(messages.c.kind != "note")
        async with self._engine.connect() as conn:
            return [build(Message, row) for row in await conn.execute(query)]

    async def find(self, message_id: int) -> Optional[Message]:
        """One message by its id (None: no such message)."""
        async with self._engine.connect() as conn:
            row = (await conn.execute(sa.select(messages).where(messages.c.id == message_id))).first()
        return None if row is None else build(Message, row)

    async def transcript(self, conversation_id: str, visible_to: str = "agent") -> List[Message]:
        """The whole conversation in order (for agents by default, notes included)."""
        one_of("visible_to", visible_to, ("visitor", "agent"))
        query = sa.select(messages).where(messages.c.conversation_id == conversation_id).order_by(messages.c.id)
        if visible_to == "visitor":
            query = query.where(messages.c.kind != "note")
        async with self._engine.connect() as conn:
            return [build(Message, row) for row in await conn.execute(query)]

    # read marks

    async def mark_read(self, agent_id: int, conversation_id: str, message_id: int) -> int:
        """Record that the agent has read up to `message_id`; never moves back. Returns the mark."""
        r = read_marks.c
        insert = self._insert(read_marks).values(
            agent_id=agent_id, conversation_id=conversation_id, last_read_message_id=message_id
        )
        newer = insert.excluded.last_read_message_id
        forward = sa.case((newer > r.last_read_message_id, newer), else_=r.last_read_message_id)
        upsert = insert.on_conflict_do_update(
            index_elements=[r.agent_id, r.conversation_id],
            set_={"last_read_message_id": forward},
        )
        async with self._writer.begin() as conn:
            await conn.execute(upsert)
            mark = sa.select(r.last_read_message_id).where(r.agent_id == agent_id, r.conversation_id == conversation_id)
            return int((await conn.execute(mark)).scalar_one())

    async def unread_counts(self, agent_id: int) -> Dict[str, int]:
        """Visitor messages after the agent's read mark, for every conversation assigned to the agent."""
        c, m, r = conversations.c, messages.c, read_marks.c
        joined = conversations.outerjoin(
            read_marks, sa.and_(r.conversation_id == c.id, r.agent_id == agent_id)
        ).outerjoin(
            messages,
            sa.and_(
                m.conversation_id == c.id,
                m.sender == "visitor",
                m.id > sa.func.coalesce(r.last_read_message_id, 0),
            ),
        )
        query = (
            sa.select(c.id, sa.func.count(m.id))
            .select_from(joined)
            .where(c.state == ConversationState.ASSIGNED.value, c.agent_id == agent_id)
            .group_by(c.id)
        )
        async with self._engine.connect() as conn:
            return {conversation_id: int(count) for conversation_id, count in await conn.execute(query)}

