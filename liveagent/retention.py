"""How long the service keeps visitors' data, and erasing one visitor's data on request.

Retention: conversations closed or idle for more than LIVEAGENT_RETENTION_DAYS go, with everything
hanging off them (liveagent/store/retention.py). The service's sweep runs it at most once a day; the
audit log's newest "retention" entry says when it last ran, so replicas and restarts agree.

Erasure: the visitor's Rasa trackers are emptied first (Rasa's ``PUT .../tracker/events`` with no
events) and read back; only then is the service's copy deleted. If Rasa cannot be reached nothing is
deleted, so the request can simply be repeated. If Rasa still reports messages afterwards (its SQL
tracker store only ever appends, see docs/security.md) the service's copy is deleted anyway and the
conversations whose trackers still hold text are reported, never hidden.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence

from liveagent.rasa_client import RasaClient, RasaUnavailable
from liveagent.store import Store
from liveagent.store.retention import Deleted

logger = logging.getLogger(__name__)
EVERY = dt.timedelta(days=1)
TEXT_EVENTS = ("user", "bot")  # the events that carry what the visitor or the bot/agent wrote


async def purge(store: Store, retention_days: int, now: dt.datetime) -> Deleted:
    """Delete what is older than the retention period now; recorded in the audit log (counts only)."""
    deleted = await store.retention.purge(now - dt.timedelta(days=retention_days))
    await store.audit.record("retention", detail={"days": retention_days, **deleted.as_dict()}, now=now)
    if deleted.conversations or deleted.tickets:
        logger.info("Retention: deleted %d conversations and %d tickets older than %d days",
                    deleted.conversations, deleted.tickets, retention_days)
    return deleted


class RetentionSchedule:
    """Runs ``purge`` when the last run (by any replica) is at least a day old."""

    def __init__(self, store: Store, retention_days: int, every: dt.timedelta = EVERY) -> None:
        self._store = store
        self._days = retention_days
        self._every = every
        self._last: Optional[dt.datetime] = None  # known here; saves a query on most sweeps

    async def run_if_due(self, now: dt.datetime) -> Optional[Deleted]:
        if self._last is not None and now - self._last < self._every:
            return None
        newest = await self._store.audit.entries(limit=1, action="retention")
        if newest and now - newest[0].created_at < self._every:
            self._last = newest[0].created_at
            return None
        self._last = now
        return await purge(self._store, self._days, now)


class ErasureFailed(RuntimeError):
    """Rasa could not be reached: nothing was deleted."""


@dataclass(frozen=True)
class Erasure:
    conversation_ids: List[str]
    deleted: Deleted
    rasa_remaining: List[str]  # conversations whose Rasa tracker still reports text

    @property
    def complete(self) -> bool:
        return not self.rasa_remaining

    def counts(self) -> Dict[str, Any]:
        return {**self.deleted.as_dict(), "rasa_trackers": len(self.conversation_ids),
                "rasa_trackers_still_with_text": len(self.rasa_remaining)}


async def erase(store: Store, rasa: RasaClient, conversation_ids: Sequence[str]) -> Erasure:
    """Everything about these conversations, in Rasa and in the service."""
    ids = list(dict.fromkeys(conversation_ids))
    try:
        for conversation_id in ids:
            await rasa.erase_tracker(conversation_id)
    except RasaUnavailable as error:
        raise ErasureFailed(str(error)) from error
    remaining: List[str] = []
    for conversation_id in ids:
        try:
            events = await rasa.tracker_events(conversation_id)
        except RasaUnavailable:
            events = [{"event": "user"}]  # not confirmed empty: reported as remaining
        if any(isinstance(e, dict) and e.get("event") in TEXT_EVENTS for e in events):
            remaining.append(conversation_id)
    if remaining:
        logger.warning("Erasure: Rasa still holds messages of %d conversations (see docs/security.md)",
                       len(remaining))
    deleted = await store.retention.delete_conversations(ids)
    return Erasure(ids, deleted, remaining)
