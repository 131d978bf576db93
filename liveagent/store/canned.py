"""Persistence of canned replies: the ready answers agents insert in the console.

Shares the service's engine (``Store.canned``).
"""

from __future__ import annotations

import datetime as dt
from typing import List, Optional

import sqlalchemy as sa

from liveagent.store.engine import Repository, build
from liveagent.store.reconnect import survives_reconnects
from liveagent.store.records import CannedReply
from liveagent.store.schema import canned_replies


@survives_reconnects
class CannedReplies(Repository):
    """Canned replies, ordered by title."""

    async def create(
        self, title: str, text: str, updated_by: Optional[int] = None, *, now: Optional[dt.datetime] = None
    ) -> CannedReply:
        async with self._writer.begin() as conn:
            result = await conn.execute(
                canned_replies.insert().values(
                    title=title, text=text, updated_by=updated_by, updated_at=now or self._clock()
                )
            )
            reply_id = result.inserted_primary_key[0]
            row = (await conn.execute(sa.select(canned_replies).where(canned_replies.c.id == reply_id))).one()
            return build(CannedReply, row)

    async def get(self, reply_id: int) -> Optional[CannedReply]:
        async with self._engine.connect() as conn:
            row = (await conn.execute(sa.select(canned_replies).where(canned_replies.c.id == reply_id))).first()
        return None if row is None else build(CannedReply, row)

    async def list(self) -> List[CannedReply]:
        query = sa.select(canned_replies).order_by(canned_replies.c.title, canned_replies.c.id)
        async with self._engine.connect() as conn:
            return [build(CannedReply, row) for row in await conn.execute(query)]

    async def update(
        self,
        reply_id: int,
        title: str,
        text: str,
        updated_by: Optional[int] = None,
        *,
        now: Optional[dt.datetime] = None,
    ) -> Optional[CannedReply]:
        """The updated reply, or None when it does not exist."""
        by_id = canned_replies.c.id == reply_id
        async with self._writer.begin() as conn:
            updated = await conn.execute(
                canned_replies.update()
                .where(by_id)
                .values(title=title, text=text, updated_by=updated_by, updated_at=now or self._clock())
            )
            if updated.rowcount != 1:
                return None
            return build(CannedReply, (await conn.execute(sa.select(canned_replies).where(by_id))).one())

    async def delete(self, reply_id: int) -> bool:
        async with self._writer.begin() as conn:
            deleted = await conn.execute(canned_replies.delete().where(canned_replies.c.id == reply_id))
        return deleted.rowcount == 1

