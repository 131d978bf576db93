"""How long the service keeps visitors' data, and erasing one visitor's data on request.

Retention: conversations closed or idle for more than LIVEAGENT_RETENTION_DAYS go, with everything
hanging off them (liveagent/store/retention.py), and so do their Rasa trackers: each is deleted in
Rasa first (``DELETE .../tracker``, rasa_runtime/erasure.py), then in the service. If Rasa cannot be
reached, the conversations not yet deleted there are kept until the next run, so no tracker is left
behind without its conversation; a Rasa that cannot delete from its tracker store (501) gets its
events replaced with none, is counted and logged, and the conversation goes anyway. The service's
sweep spends at most RASA_BUDGET_SECONDS on Rasa per run and continues at the next sweep; otherwise
it runs at most once a day: the audit log's newest "retention" entry says when it last ran and
whether it finished, so replicas and restarts agree.

Erasure: the visitor's Rasa trackers are deleted first; only then is the service's copy deleted. If
Rasa cannot be reached the service deletes nothing, so the request can simply be repeated. A Rasa
that cannot delete from its tracker store has the trackers' events replaced with none and read back;
if they still hold messages (a Mongo store, or Rasa's SQL store without rasa_runtime: they only ever
append, see docs/security.md) the service's copy is deleted anyway and those conversations are
reported, never hidden.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence

from liveagent.rasa_client import RasaClient, RasaUnavailable
from liveagent.store import Store
from liveagent.store.retention import Deleted

logger = logging.getLogger(__name__)
EVERY = dt.timedelta(days=1)
TEXT_EVENTS = ("user", "bot")  # the events that carry what the visitor or the bot/agent wrote
# Time a sweep's retention run spends deleting Rasa trackers (one request each); the rest waits for
# the next sweep. Well inside the sweep's lease (3 x LIVEAGENT_SWEEP_SECONDS, 45 s by default).
RASA_BUDGET_SECONDS = 20.0


@dataclass(frozen=True)
class Purge:
    """What one retention run did."""

    deleted: Deleted
    rasa_deleted: int = 0  # Rasa trackers deleted
    rasa_not_deleted: int = 0  # Rasa answered that it cannot delete them (emptied where its store allows)
    rasa_unreachable: bool = False  # the expired conversations not yet deleted in Rasa wait for the next run
    unfinished: bool = False  # the time budget ran out: the rest at the next sweep

    def detail(self) -> Dict[str, Any]:
        return {**self.deleted.as_dict(), "rasa_trackers_deleted": self.rasa_deleted,
                "rasa_trackers_not_deleted": self.rasa_not_deleted, "rasa_unreachable": self.rasa_unreachable,
                "unfinished": self.unfinished}


async def purge(store: Store, rasa: RasaClient, retention_days: int, now: dt.datetime,
                budget_seconds: Optional[float] = None, audit_retention_days: Optional[int] = None) -> Purge:
    """Delete what is older than the retention period now, in Rasa and in the service; recorded in
    the audit log (counts only). ``budget_seconds`` bounds the time spent on Rasa (None: no bound);
    audit entries older than ``audit_retention_days`` go too (None: the log is kept)."""
    cutoff = now - dt.timedelta(days=retention_days)
    deadline = None if budget_seconds is None else time.monotonic() + budget_seconds
    deleted, rasa_deleted, rasa_not_deleted = Deleted(), 0, 0
    unreachable = unfinished = False
    after = ""
    while not (unreachable or unfinished):
        ids = await store.retention.expired_conversations(cutoff, after=after)
        if not ids:
            break
        erased: List[str] = []
        for conversation_id in ids:
            if deadline is not None and time.monotonic() >= deadline:
                unfinished = True
                break
            try:
                if await rasa.erase_tracker(conversation_id):
                    rasa_deleted += 1
                else:
                    rasa_not_deleted += 1
            except Exception as error:  # noqa: BLE001 - whatever Rasa does, the run goes on without it
                unreachable = True
                logger.warning("Retention: Rasa could not delete a tracker (%s); expired conversations not yet "
                               "deleted in Rasa are kept until the next run", error)
                break
            erased.append(conversation_id)
        deleted += await store.retention.purge_conversations(cutoff, erased)
        after = ids[-1]
    deleted += await store.retention.purge_orphan_tickets(cutoff)
    if audit_retention_days is not None:
        audit_cutoff = now - dt.timedelta(days=audit_retention_days)
        deleted += Deleted(audit_entries=await store.audit.purge_before(audit_cutoff))
    result = Purge(deleted, rasa_deleted, rasa_not_deleted, unreachable, unfinished)
    await store.audit.record("retention", detail={"days": retention_days, **result.detail()}, now=now)
    if deleted.conversations or deleted.tickets:
        logger.info("Retention: deleted %d conversations (%d Rasa trackers) and %d tickets older than %d days",
                    deleted.conversations, rasa_deleted, deleted.tickets, retention_days)
    if rasa_not_deleted:
        logger.warning("Retention: Rasa could not delete %d trackers (its tracker store does not support it, "
                       "see docs/security.md); their events were replaced with none", rasa_not_deleted)
    if unfinished:
        logger.info("Retention: Rasa time budget used up; continuing at the next sweep")
    return result


class RetentionSchedule:
    """Runs ``purge`` when the last run (by any replica) is at least a day old or did not finish."""

    def __init__(self, store: Store, rasa: RasaClient, retention_days: int, every: dt.timedelta = EVERY,
                 budget_seconds: float = RASA_BUDGET_SECONDS, audit_retention_days: Optional[int] = None) -> None:
        self._store = store
        self._audit_days = audit_retention_days
        self._rasa = rasa
        self._days = retention_days
        self._every = every
        self._budget = budget_seconds
        self._last: Optional[dt.datetime] = None  # known here; saves a query on most sweeps

    async def run_if_due(self, now: dt.datetime) -> Optional[Purge]:
        if self._last is not None and now - self._last < self._every:
            return None
        newest = await self._store.audit.entries(limit=1, action="retention")
        if newest and now - newest[0].created_at < self._every and not (newest[0].detail or {}).get("unfinished"):
            self._last = newest[0].created_at
            return None
        self._last = now
        result = await purge(self._store, self._rasa, self._days, now, self._budget, self._audit_days)
        if result.unfinished:
            self._last = None  # the next sweep continues
        return result


class ErasureFailed(RuntimeError):
    """Rasa could not be reached: the service deleted nothing (Rasa perhaps some of the trackers)."""


@dataclass(frozen=True)
class Erasure:
    conversation_ids: List[str]
    deleted: Deleted
    rasa_remaining: List[str]  # conversations whose Rasa tracker still reports text
    rasa_deleted: int = 0  # trackers Rasa deleted (the others it could only empty)

    @property
    def complete(self) -> bool:
        return not self.rasa_remaining

    def counts(self) -> Dict[str, Any]:
        return {**self.deleted.as_dict(), "rasa_trackers": len(self.conversation_ids),
                "rasa_trackers_deleted": self.rasa_deleted,
                "rasa_trackers_still_with_text": len(self.rasa_remaining)}


async def erase(store: Store, rasa: RasaClient, conversation_ids: Sequence[str]) -> Erasure:
    """Everything about these conversations, in Rasa and in the service."""
    ids = list(dict.fromkeys(conversation_ids))
    emptied: List[str] = []  # Rasa could not delete these: their events were replaced with none
    try:
        for conversation_id in ids:
            if not await rasa.erase_tracker(conversation_id):
                emptied.append(conversation_id)
    except RasaUnavailable as error:
        raise ErasureFailed(str(error)) from error
    remaining: List[str] = []
    for conversation_id in emptied:  # a deleted tracker is not read back: that would start a new one
        try:
            events = await rasa.tracker_events(conversation_id)
        except RasaUnavailable:
            events = [{"event": "user"}]  # not confirmed empty: reported as remaining
        if any(isinstance(e, dict) and e.get("event") in TEXT_EVENTS for e in events):
            remaining.append(conversation_id)
    if remaining:
        logger.warning("Erasure: Rasa could not delete and still holds messages of %d conversations "
                       "(see docs/security.md)", len(remaining))
    deleted = await store.retention.delete_conversations(ids)
    return Erasure(ids, deleted, remaining, len(ids) - len(emptied))
