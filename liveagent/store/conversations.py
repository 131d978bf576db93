"""Persistence of conversations: the state machine's writes, its event trail, the queue and requeueing.

`Conversations.transition` is the only code that changes a conversation's state: it asks
`state.plan`, writes with optimistic locking (`version`) and appends the event in the same
transaction. Shares the service's engine (``Store.conversations``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from typing import Any, Dict, Iterable, List, Mapping, Optional
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from liveagent.store.engine import ConcurrentUpdate, NotFound, Repository, build
from liveagent.store.reconnect import survives_reconnects
from liveagent.store.records import Conversation, ConversationEvent, TransitionResult
from liveagent.store.schema import REPORTING_ZONE, agents, conversation_events, conversations
from liveagent.store.state import ConversationState, NoChange, Transition, TransitionError, plan

_MAX_ATTEMPTS = 20  # optimistic-locking retries; each retry means another writer succeeded
# Read for every visitor message and transition: built once (building costs more than running it on SQLite).
_FIND = sa.select(conversations).where(conversations.c.id == sa.bindparam("conversation_id"))
_ZONE = ZoneInfo(REPORTING_ZONE)


def reporting_day(when: dt.datetime) -> dt.date:
    """The calendar day of ``when`` (aware) in the zone the insights count days in."""
    return when.astimezone(_ZONE).date()


def _json_round_trip(value: Any) -> Any:
    """``value`` as the JSONText column gives it back (schema.JSONText)."""
    return None if value is None else json.loads(json.dumps(value, ensure_ascii=False, sort_keys=True))


def _verified_customer(handoff: Optional[Mapping[str, Any]]) -> Optional[str]:
    """The customer id in a handoff signal (or its bare summary), only when the bot verified the token.

    See docs/handoff.md: `summary.customer` is `{"verified": true, "customer_id": ...}` or unverified.
    """
    handoff = handoff or {}
    summary = handoff.get("summary") if isinstance(handoff.get("summary"), Mapping) else handoff
    customer = summary.get("customer") if isinstance(summary.get("customer"), Mapping) else {}
    if customer.get("verified") is True and customer.get("customer_id"):
        return str(customer["customer_id"])
    return None


def _span_start(row: Conversation, to_state: ConversationState) -> Optional[dt.datetime]:
    """When what this transition ends began: the wait, for a conversation leaving the queue; the
    assignment (its claim), for one leaving an agent. The insights' durations (docs/metrics.md)."""
    if row.state is ConversationState.WAITING:
        return row.waiting_since
    if row.state is ConversationState.ASSIGNED and to_state is not ConversationState.ASSIGNED:
        return row.assigned_at
    return None


def _firsts(transition: Transition, reason: Optional[str], now: dt.datetime) -> Dict[str, Any]:
    """The insights' record of a conversation's first escalation (with its reason) and first claim
    (docs/metrics.md): written by the transition that is the first of its kind, kept by later ones."""
    c = conversations.c
    if transition is Transition.ESCALATE:
        first = c.first_escalated_at.is_(None)
        return {"first_escalated_at": sa.func.coalesce(c.first_escalated_at, now),
                "first_escalation_reason": sa.case((first, reason), else_=c.first_escalation_reason)}
    if transition is Transition.CLAIM:
        return {"first_claimed_at": sa.func.coalesce(c.first_claimed_at, now)}
    return {}


@survives_reconnects
class Conversations(Repository):
    """Conversations, their state changes and event trail, the queue and requeueing."""

    async def _load(self, conn: AsyncConnection, conversation_id: str) -> Row:
        row = (await conn.execute(_FIND, {"conversation_id": conversation_id})).first()
        if row is None:
            raise NotFound(f"conversation {conversation_id!r}")
        return row

    async def find(self, conversation_id: str) -> Optional[Conversation]:
        async with self._engine.connect() as conn:
            row = (await conn.execute(_FIND, {"conversation_id": conversation_id})).first()
        return None if row is None else build(Conversation, row)

    async def get_or_create(
        self, conversation_id: str, *, now: Optional[dt.datetime] = None
    ) -> Conversation:
        """The conversation of a visitor session, created in the BOT state on first sight.

        Only the visitor's first message creates it, so ``created_at`` and ``started_on`` (its day for
        the insights, docs/metrics.md) are when the visitor first wrote."""
        existing = await self.find(conversation_id)
        if existing is not None:
            return existing
        now = now or self._clock()
        async with self._writer.begin() as conn:
            insert = self._insert(conversations).values(
                id=conversation_id, state=ConversationState.BOT.value, version=0, created_at=now, updated_at=now,
                started_on=reporting_day(now),
            )
            await conn.execute(insert.on_conflict_do_nothing(index_elements=["id"]))
            return build(Conversation, await self._load(conn, conversation_id))

    async def transition(
        self,
        conversation_id: str,
        transition: Transition,
        agent_id: Optional[int] = None,
        reason: Optional[str] = None,
        handoff: Optional[Mapping[str, Any]] = None,
        *,
        now: Optional[dt.datetime] = None,
        current: Optional[Conversation] = None,
    ) -> TransitionResult:
        """Apply `transition`: the single place where a conversation's state changes.

        Optimistic locking: the UPDATE only matches the version that was planned against; when a
        concurrent writer got there first, reload and plan again, so of two simultaneous claims one
        wins and the other sees "already_claimed". `current` is the row the caller has just read (the
        first plan uses it instead of reading it again; a refusal or no-change on it is checked
        against a fresh read, since only a write proves the version). `handoff` is the bot's handoff
        signal (or just its summary), stored as given; `customer_id` is set from it only when the bot
        verified the visitor, and cleared otherwise. `agent_id` on the event row is the acting agent,
        or the agent who held the conversation when no actor is given (e.g. a requeue). The result
        carries the conversation after the change, built from what was written (no second read;
        columns no transition writes, such as the message times, are as ``current`` had them).
        """
        transition = Transition(transition)
        now = (now or self._clock()).astimezone(dt.timezone.utc)
        known = current if current is not None and current.id == conversation_id else None
        for _attempt in range(_MAX_ATTEMPTS):
            async with self._writer.begin() as conn:
                row = known if known is not None else build(Conversation, await self._load(conn, conversation_id))
                try:
                    outcome = plan(row.state, row.agent_id, transition, agent_id)
                except TransitionError:
                    if known is None:
                        raise
                    outcome = None
                if outcome is None or outcome is NoChange:
                    if known is not None:  # decided on the caller's copy: decide again on the stored row
                        known = None
                        continue
                    return TransitionResult(row, changed=False, transition=transition)
                known = None
                values: Dict[str, Any] = {
                    "state": outcome.state.value,
                    "agent_id": outcome.agent_id,
                    "version": row.version + 1,
                    "updated_at": now,
                    "waiting_since": now if outcome.state is ConversationState.WAITING else None,
                }
                if transition is Transition.CLAIM:
                    values["assigned_at"] = now
                elif outcome.state is not ConversationState.ASSIGNED:
                    values["assigned_at"] = None  # a transfer keeps the assignment's start
                if transition is Transition.ESCALATE:
                    values["escalation_reason"] = reason
                    values["handoff"] = dict(handoff) if handoff is not None else None
                    values["customer_id"] = _verified_customer(handoff)
                updated = await conn.execute(
                    conversations.update()
                    .where(conversations.c.id == conversation_id, conversations.c.version == row.version)
                    .values(**values, **_firsts(transition, reason, now))
                )
                if updated.rowcount != 1:
                    continue  # someone else changed it since it was read: plan again on fresh data
                await conn.execute(
                    conversation_events.insert().values(
                        conversation_id=conversation_id,
                        transition=transition.value,
                        from_state=row.state.value,
                        to_state=outcome.state.value,
                        agent_id=agent_id if agent_id is not None else row.agent_id,
                        created_at=now,
                        reason=reason if transition is Transition.ESCALATE else None,
                        span_started_at=_span_start(row, outcome.state),
                    )
                )
            if "handoff" in values:  # stored as JSON text: hand out what a read would give back
                values["handoff"] = _json_round_trip(values["handoff"])
            values["state"] = outcome.state
            fresh = dataclasses.replace(row, **values)
            return TransitionResult(fresh, changed=True, transition=transition, previous=row)
        raise ConcurrentUpdate(f"conversation {conversation_id!r} kept changing under {transition.value}")

    async def events(self, conversation_id: str) -> List[ConversationEvent]:
        """The audit trail of transitions, oldest first."""
        query = (
            sa.select(conversation_events)
            .where(conversation_events.c.conversation_id == conversation_id)
            .order_by(conversation_events.c.id)
        )
        async with self._engine.connect() as conn:
            return [build(ConversationEvent, row) for row in await conn.execute(query)]

    async def ever_held(self, conversation_id: str, agent_id: int) -> bool:
        """Whether the agent holds the conversation or held it before (a claim or transfer to them).

        The agents' read access (liveagent/roles.py): the conversations they hold or held."""
        c, e = conversations.c, conversation_events.c
        holds = sa.select(c.id).where(c.id == conversation_id, c.agent_id == agent_id)
        held = sa.select(e.id).where(e.conversation_id == conversation_id, e.agent_id == agent_id,
                                     e.to_state == ConversationState.ASSIGNED.value)
        async with self._engine.connect() as conn:
            return (await conn.execute(sa.select(sa.exists(holds) | sa.exists(held)))).scalar_one()

    async def set_rating(self, conversation_id: str, rating: int) -> Conversation:
        """The visitor's 1-5 rating of the conversation."""
        if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
            raise ValueError(f"rating must be an integer from 1 to 5, not {rating!r}")
        async with self._writer.begin() as conn:
            await self._load(conn, conversation_id)
            await conn.execute(
                conversations.update().where(conversations.c.id == conversation_id).values(rating=rating)
            )
            return build(Conversation, await self._load(conn, conversation_id))

    # the queue and assignment

    async def _select(self, query: Any) -> List[Conversation]:
        async with self._engine.connect() as conn:
            return [build(Conversation, row) for row in await conn.execute(query)]

    async def queue(self) -> List[Conversation]:
        """Waiting conversations, longest-waiting first."""
        c = conversations.c
        return await self._select(
            sa.select(conversations).where(c.state == ConversationState.WAITING.value).order_by(c.waiting_since, c.id)
        )

    async def queue_position(self, conversation_id: str) -> Optional[int]:
        """1-based place in the queue, or None when the conversation is not waiting."""
        c = conversations.c
        async with self._engine.connect() as conn:
            row = (await conn.execute(sa.select(conversations).where(c.id == conversation_id))).first()
            if row is None or row.state != ConversationState.WAITING.value:
                return None
            ahead_or_same = sa.or_(
                c.waiting_since < row.waiting_since, sa.and_(c.waiting_since == row.waiting_since, c.id <= row.id)
            )
            query = sa.select(sa.func.count()).where(c.state == ConversationState.WAITING.value, ahead_or_same)
            return int((await conn.execute(query)).scalar_one())

    async def assigned_to(self, agent_id: int) -> List[Conversation]:
        c = conversations.c
        return await self._select(
            sa.select(conversations)
            .where(c.state == ConversationState.ASSIGNED.value, c.agent_id == agent_id)
            .order_by(c.created_at, c.id)
        )

    async def needing_requeue(
        self, now: dt.datetime, unanswered_after: dt.timedelta, offline_agent_ids: Iterable[int] = ()
    ) -> List[Conversation]:
        """Assigned conversations whose agent is offline, or whose visitor has waited too long for a reply.

        "Too long" counts from the later of the visitor's last message and the (latest) claim, so a
        visitor who wrote while queued is not requeued the moment an agent takes the conversation.
        """
        c, e = conversations.c, conversation_events.c
        cutoff = now - unanswered_after
        assigned_at = (
            sa.select(sa.func.max(e.created_at))
            .where(e.conversation_id == c.id, e.to_state == ConversationState.ASSIGNED.value)
            .scalar_subquery()
        )
        unanswered = sa.and_(
            c.last_visitor_message_at.isnot(None),
            sa.or_(c.last_agent_message_at.is_(None), c.last_visitor_message_at > c.last_agent_message_at),
            c.last_visitor_message_at <= cutoff,
            sa.or_(assigned_at.is_(None), assigned_at <= cutoff),
        )
        return await self._select(
            sa.select(conversations)
            .where(
                c.state == ConversationState.ASSIGNED.value,
                sa.or_(c.agent_id.in_(list(offline_agent_ids)), unanswered),
            )
            .order_by(c.last_visitor_message_at.is_(None), c.last_visitor_message_at, c.id)
        )

    async def recover_on_start(self, now: dt.datetime) -> int:
        """Requeue conversations held by agents who are not online: nobody would answer them.

        Returns how many went back to the queue.
        """
        query = (
            sa.select(conversations.c.id)
            .select_from(conversations.join(agents, conversations.c.agent_id == agents.c.id))
            .where(conversations.c.state == ConversationState.ASSIGNED.value, agents.c.presence != "online")
            .order_by(conversations.c.id)
        )
        async with self._engine.connect() as conn:
            stranded = list((await conn.execute(query)).scalars())
        requeued = 0
        for conversation_id in stranded:
            try:
                result = await self.transition(conversation_id, Transition.REQUEUE, now=now)
            except TransitionError:
                continue  # closed or returned meanwhile: already safe
            requeued += int(result.changed)
        return requeued

