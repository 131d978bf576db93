"""Persistence of the audit log: who (agent id and username) did what, to what, when and from where.

Shares the service's engine (``Store.audit``). The log only grows: nothing here updates or deletes
an entry. Strings in ``detail`` pass through ``lumo_shared.privacy.mask_personal_data`` before they are
written, so the log never holds identity codes, IBANs, e-mail addresses or phone numbers. A `Digest`
(the service's own keyed hash of an erased visitor's id) is written as it is: it holds no personal data,
and masking broke it (one in about 18 hex digests starts like an IBAN: two letters, two digits).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

import sqlalchemy as sa

from liveagent.store.engine import Repository, build
from liveagent.store.reconnect import survives_reconnects
from liveagent.store.schema import audit_log
from lumo_shared.privacy import mask_personal_data

MAX_DETAIL_TEXT = 500  # characters of one string in ``detail``
MAX_PAGE = 200


@dataclass(frozen=True)
class AuditEntry:
    id: int
    created_at: dt.datetime
    actor_id: Optional[int]
    actor_username: Optional[str]
    action: str
    target: Optional[str]
    detail: Optional[Dict[str, Any]] = field(hash=False)
    client_address: Optional[str]


class Digest(str):
    """A hex digest the service computed (liveagent.auditing.subject_digest): kept whole, never masked."""


def masked(value: Any) -> Any:
    """``value`` (JSON-like) with personal data masked in every string but a `Digest`, long strings cut."""
    if isinstance(value, Digest):
        return str(value)
    if isinstance(value, str):
        return mask_personal_data(value[:MAX_DETAIL_TEXT])
    if isinstance(value, dict):
        return {str(key): masked(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [masked(item) for item in value]
    return value


@survives_reconnects
class AuditLog(Repository):
    async def record(
        self,
        action: str,
        *,
        actor_id: Optional[int] = None,
        actor_username: Optional[str] = None,
        target: Optional[str] = None,
        detail: Optional[Dict[str, Any]] = None,
        client_address: Optional[str] = None,
        now: Optional[dt.datetime] = None,
    ) -> AuditEntry:
        """Append one entry; ``detail`` is masked here, whatever the caller passed."""
        values = {
            "created_at": now or self._clock(),
            "actor_id": actor_id,
            "actor_username": actor_username[:64] if actor_username else None,
            "action": action[:32],
            "target": target[:160] if target else None,
            "detail": masked(detail) if detail else None,
            "client_address": client_address[:64] if client_address else None,
        }
        async with self._writer.begin() as conn:
            result = await conn.execute(audit_log.insert().values(**values))
            row = (await conn.execute(
                sa.select(audit_log).where(audit_log.c.id == result.inserted_primary_key[0]))).one()
        return build(AuditEntry, row)

    async def purge_before(self, cutoff: dt.datetime) -> int:
        """Retention of the log itself (it holds client addresses): entries older than ``cutoff`` go,
        except the newest retention entry, which the schedule reads to know when it last ran."""
        newest_retention = sa.select(sa.func.max(audit_log.c.id)).where(audit_log.c.action == "retention")
        async with self._writer.begin() as conn:
            gone = await conn.execute(audit_log.delete().where(
                audit_log.c.created_at < cutoff,
                audit_log.c.id != sa.func.coalesce(newest_retention.scalar_subquery(), -1)))
        return gone.rowcount

    async def entries(
        self,
        limit: int = 50,
        before_id: Optional[int] = None,
        action: Optional[str] = None,
        target: Optional[str] = None,
    ) -> List[AuditEntry]:
        """Newest first; the next page starts before the last entry's id (keyset paging)."""
        query = sa.select(audit_log).order_by(audit_log.c.id.desc()).limit(max(1, min(limit, MAX_PAGE)))
        if before_id is not None:
            query = query.where(audit_log.c.id < before_id)
        if action:
            query = query.where(audit_log.c.action == action)
        if target:
            query = query.where(audit_log.c.target == target)
        async with self._engine.connect() as conn:
            return [build(AuditEntry, row) for row in await conn.execute(query)]
