"""Persistence of conversations: the state machine's writes, its event trail, the queue and requeueing.

`Conversations.transition` is the only code that changes a conversation's state: it asks
`state.plan`, writes with optimistic locking (`version`) and appends the event in the same
transaction. Shares the service's engine (``Store.conversations``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from typing import Any, Dict, Iterable, List, Mapping, Optional, Tuple
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from liveagent.store.assignment import QUEUE_ORDER, AgentLoad, choose_agent, hold_assignment_lock
from liveagent.store.engine import ConcurrentUpdate, NotFound, Repository, build
from liveagent.store.reconnect import survives_reconnects
from liveagent.store.records import Conversation, ConversationEvent, TransitionResult
from liveagent.store.schema import REPORTING_ZONE, agents, conversation_events, conversations
from liveagent.store.sqlite_driver import Prepared
from liveagent.store.state import TAKES, Change, ConversationState, NoChange, Transition, TransitionError, plan

_MAX_ATTEMPTS = 20  # optimistic-locking retries; each retry means another writer succeeded
# Read for every visitor message and transition: built once (building costs more than running it on SQLite).
_FIND = sa.select(conversations).where(conversations.c.id == sa.bindparam("conversation_id"))
_CREATED_COLUMNS = ("id", "state", "version", "created_at", "updated_at", "started_on")  # a new conversation's
_ZONE = ZoneInfo(REPORTING_ZONE)


def reporting_day(when: dt.datetime) -> dt.date:
    """The calendar day of ``when`` (aware) in the zone the insights count days in."""
    return when.astimezone(_ZONE).date()


def _json_round_trip(value: Any) -> Any:
    """``value`` as the JSONText column gives it back (schema.JSONText)."""
    return None if value is None else json.loads(json.dumps(value, ensure_ascii=False, sort_keys=True))


def verified_customer(handoff: Optional[Mapping[str, Any]]) -> Optional[str]:
    """The customer id in a handoff signal (or its bare summary), only when the bot verified the token.

    See docs/handoff.md: `summary.customer` is `{"verified": true, "customer_id": ...}` or unverified.
    """
    handoff = handoff or {}
    summary = handoff.get("summary") if isinstance(handoff.get("summary"), Mapping) else handoff
    customer = summary.get("customer") if isinstance(summary.get("customer"), Mapping) else {}
    if customer.get("verified") is True and customer.get("customer_id"):
        return str(customer["customer_id"])
    return None


def _gives_a_chat(row: Conversation, outcome: Change) -> bool:
    """Whether the change gives the conversation to an agent who does not hold it now."""
    return outcome.state is ConversationState.ASSIGNED and outcome.agent_id != row.agent_id


def _values(row: Conversation, transition: Transition, outcome: Change, now: dt.datetime) -> Dict[str, Any]:
    """The columns every transition writes: the state, its holder, the version and the state's times.

    ``waiting_since`` is the start of the current wait (the queue's order; a requeue starts a new one),
    ``assigned_at`` when the holder got it (the response-time limit), ``assignment_started_at`` when
    the claim or automatic assignment that took it from the queue began the current assignment (a
    transfer keeps it: the insights' handle time, docs/metrics.md), ``missed_by`` is cleared (only a
    response-time hand-over sets it, ``hand_over_unanswered``)."""
    assigned = outcome.state is ConversationState.ASSIGNED
    return {
        "state": outcome.state.value,
        "agent_id": outcome.agent_id,
        "version": row.version + 1,
        "updated_at": now,
        "waiting_since": now if outcome.state is ConversationState.WAITING else None,
        "assigned_at": (now if outcome.agent_id != row.agent_id else row.assigned_at) if assigned else None,
        "assignment_started_at": (now if transition in TAKES else row.assignment_started_at) if assigned else None,
        "missed_by": None,
    }


def _span_start(row: Conversation, to_state: ConversationState) -> Any:
    """When what this transition ends began: the wait, for a conversation leaving the queue; the
    assignment (its claim or automatic assignment), for one leaving an agent. The insights'
    durations (docs/metrics.md).

    A chat requeued by the response-time limit (``missed_by`` set) keeps its place in the queue:
    its ``waiting_since`` is when it first joined, so its wait began with the requeue, the event
    before this one."""
    if row.state is ConversationState.WAITING:
        if row.missed_by is None:
            return row.waiting_since
        e = conversation_events.c
        return (sa.select(e.created_at).where(e.conversation_id == row.id)
                .order_by(e.id.desc()).limit(1).scalar_subquery())
    if row.state is ConversationState.ASSIGNED and to_state is not ConversationState.ASSIGNED:
        return row.assignment_started_at
    return None


def _firsts(transition: Transition, reason: Optional[str], now: dt.datetime) -> Dict[str, Any]:
    """The insights' record of a conversation's first escalation (with its reason) and first claim or
    automatic assignment (docs/metrics.md): written by the transition that is the first of its kind,
    kept by later ones."""
    c = conversations.c
    if transition is Transition.ESCALATE:
        first = c.first_escalated_at.is_(None)
        return {"first_escalated_at": sa.func.coalesce(c.first_escalated_at, now),
                "first_escalation_reason": sa.case((first, reason), else_=c.first_escalation_reason)}
    if transition in TAKES:
        return {"first_claimed_at": sa.func.coalesce(c.first_claimed_at, now)}
    return {}


def _result(row: Conversation, transition: Transition, values: Dict[str, Any]) -> TransitionResult:
    """The conversation after a written change, built from what was written (no second read)."""
    values = dict(values)
    if "handoff" in values:  # stored as JSON text: hand out what a read would give back
        values["handoff"] = _json_round_trip(values["handoff"])
    values["state"] = ConversationState(values["state"])
    return TransitionResult(dataclasses.replace(row, **values), changed=True, transition=transition, previous=row)


@survives_reconnects
class Conversations(Repository):
    """Conversations, their state changes and event trail, the queue and requeueing."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # compiled once, and only where the lane runs them (SQLite)
        self._find_on_lane = self._create_on_lane = None
        if self._lane is not None:
            self._find_on_lane = Prepared(_FIND, self._engine.dialect)
            self._create_on_lane = Prepared(
                self._insert(conversations).on_conflict_do_nothing(index_elements=["id"]), self._engine.dialect,
                _CREATED_COLUMNS)

    async def _load(self, conn: AsyncConnection, conversation_id: str) -> Row:
        row = (await conn.execute(_FIND, {"conversation_id": conversation_id})).first()
        if row is None:
            raise NotFound(f"conversation {conversation_id!r}")
        return row

    async def find(self, conversation_id: str) -> Optional[Conversation]:
        if self._lane is not None and self._find_on_lane is not None:  # SQLite: every visitor message reads it
            rows = await self._lane.fetch(self._find_on_lane, {"conversation_id": conversation_id})
            return build(Conversation, rows[0]) if rows else None
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
        values = {"id": conversation_id, "state": ConversationState.BOT.value, "version": 0, "created_at": now,
                  "updated_at": now, "started_on": reporting_day(now)}
        if self._create_on_lane is not None:  # SQLite: a new visitor's first message, on the lane
            create = self._create_on_lane
            await self._writer.run_on_lane([(create.sql, create.parameters(values), None)])
            created = await self.find(conversation_id)  # also when another writer created it first
            assert created is not None
            return created
        async with self._writer.begin() as conn:
            insert = self._insert(conversations).values(**values)
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
        priority: int = 0,
        require_online: bool = False,
    ) -> TransitionResult:
        """Apply `transition`: the single place where a conversation's state changes.

        Optimistic locking: the UPDATE only matches the version that was planned against; when a
        concurrent writer got there first, reload and plan again, so of two simultaneous claims one
        wins and the other sees "already_claimed". `current` is the row the caller has just read (the
        first plan uses it instead of reading it again; a refusal or no-change on it is checked
        against a fresh read, since only a write proves the version). `handoff` is the bot's handoff
        signal (or just its summary), stored as given; `customer_id` is set from it only when the bot
        verified the visitor, and cleared otherwise; `priority` is the escalation's place in the
        queue's order (liveagent/priorities.py). `agent_id` on the event row is the acting agent,
        or the agent who held the conversation when no actor is given (e.g. a requeue). The result
        carries the conversation after the change, built from what was written (no second read;
        columns no transition writes, such as the message times, are as ``current`` had them).

        A conversation that comes to an agent who does not hold it (claim, assignment, transfer) is
        written under the assignment lock (store/assignment.py) after counting the agent's chats:
        "at_capacity" when they have as many as their capacity allows, "agent_not_online" with
        ``require_online`` when they are not online.
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
                if _gives_a_chat(row, outcome):
                    await hold_assignment_lock(conn)
                    if known is not None and (await self._load(conn, conversation_id)).version != known.version:
                        known = None  # the caller's copy is stale: plan again on the stored row
                        continue
                    await self._check_room(conn, outcome.agent_id, require_online)
                known = None
                values = _values(row, transition, outcome, now)
                if transition is Transition.ESCALATE:
                    values["escalation_reason"] = reason
                    values["handoff"] = dict(handoff) if handoff is not None else None
                    values["customer_id"] = verified_customer(handoff)
                    values["priority"] = priority
                    values["queued_at"] = now
                if not await self._write(conn, row, transition, values, agent_id, now):
                    continue  # someone else changed it since it was read: plan again on fresh data
            return _result(row, transition, values)
        raise ConcurrentUpdate(f"conversation {conversation_id!r} kept changing under {transition.value}")

    async def _check_room(self, conn: AsyncConnection, agent_id: int, require_online: bool) -> None:
        """Refuses a chat for an agent at capacity (or, with ``require_online``, not online); the caller
        holds the assignment lock, so the count stays true until its transaction ends."""
        a, c = agents.c, conversations.c
        agent = (await conn.execute(sa.select(a.capacity, a.presence).where(a.id == agent_id))).first()
        if agent is None:
            raise TransitionError("agent_not_online" if require_online else "not_allowed", f"no agent {agent_id}")
        if require_online and agent.presence != "online":
            raise TransitionError("agent_not_online")
        active = (await conn.execute(sa.select(sa.func.count()).where(
            c.state == ConversationState.ASSIGNED.value, c.agent_id == agent_id))).scalar_one()
        if active >= agent.capacity:
            raise TransitionError("at_capacity", f"agent {agent_id} has {active} of {agent.capacity} chats")

    async def _write(self, conn: AsyncConnection, row: Conversation, transition: Transition, values: Dict[str, Any],
                     actor: Optional[int], now: dt.datetime, *conditions: Any) -> bool:
        """Writes a planned change if the row is still at the version it was planned on (and meets
        ``conditions``), with its event row; a chat coming to an agent moves their last assignment
        time. The insights' columns (``_firsts``, the event's reason and span) are written here too, so
        every path (claims, automatic assignment, hand-overs) records them. False: the row changed
        meanwhile, nothing was written."""
        c = conversations.c
        reason = values.get("escalation_reason") if transition is Transition.ESCALATE else None
        updated = await conn.execute(
            conversations.update().where(c.id == row.id, c.version == row.version, *conditions)
            .values(**values, **_firsts(transition, reason, now)))
        if updated.rowcount != 1:
            return False
        await conn.execute(
            conversation_events.insert().values(
                conversation_id=row.id,
                transition=transition.value,
                from_state=row.state.value,
                to_state=values["state"],
                agent_id=actor if actor is not None else row.agent_id,
                created_at=now,
                reason=reason,
                span_started_at=_span_start(row, ConversationState(values["state"])),
            )
        )
        if values["state"] == ConversationState.ASSIGNED.value and values["agent_id"] != row.agent_id:
            await conn.execute(agents.update().where(agents.c.id == values["agent_id"]).values(last_assigned_at=now))
        return True

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

    async def set_rating(self, conversation_id: str, rating: int, comment: Optional[str] = None) -> Conversation:
        """The visitor's 1-5 rating of the conversation, with their optional comment (the latest counts)."""
        if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
            raise ValueError(f"rating must be an integer from 1 to 5, not {rating!r}")
        async with self._writer.begin() as conn:
            await self._load(conn, conversation_id)
            await conn.execute(
                conversations.update().where(conversations.c.id == conversation_id)
                .values(rating=rating, rating_comment=comment or None)
            )
            return build(Conversation, await self._load(conn, conversation_id))

    # the queue and assignment

    async def _select(self, query: Any) -> List[Conversation]:
        async with self._engine.connect() as conn:
            return [build(Conversation, row) for row in await conn.execute(query)]

    async def queue(self) -> List[Conversation]:
        """Waiting conversations in the queue's order (store/assignment.py ``QUEUE_ORDER``)."""
        c = conversations.c
        return await self._select(
            sa.select(conversations).where(c.state == ConversationState.WAITING.value).order_by(*QUEUE_ORDER)
        )

    async def queue_position(self, conversation_id: str) -> Optional[int]:
        """1-based place in the queue (the order of ``queue``), or None when the conversation is not waiting."""
        c = conversations.c
        query = sa.select(c.id).where(c.state == ConversationState.WAITING.value).order_by(*QUEUE_ORDER)
        async with self._engine.connect() as conn:
            waiting = list((await conn.execute(query)).scalars())
        return waiting.index(conversation_id) + 1 if conversation_id in waiting else None

    async def _loads(self, conn: AsyncConnection, roles: Iterable[str]) -> List[AgentLoad]:
        """Online, active agents of ``roles`` with their capacity and how many chats they hold now."""
        a, c = agents.c, conversations.c
        active = sa.func.count(c.id)
        joined = agents.outerjoin(
            conversations, sa.and_(c.agent_id == a.id, c.state == ConversationState.ASSIGNED.value))
        query = (
            sa.select(a.id, a.capacity, active.label("active"), a.last_assigned_at)
            .select_from(joined)
            .where(a.presence == "online", a.active.is_(True), a.role.in_(list(roles)))
            .group_by(a.id, a.capacity, a.last_assigned_at)
        )
        return [AgentLoad(row.id, row.capacity, int(row.active), row.last_assigned_at)
                for row in await conn.execute(query)]

    async def assign_waiting(self, roles: Iterable[str], *,
                             now: Optional[dt.datetime] = None) -> List[TransitionResult]:
        """Automatic assignment: waiting conversations, in the queue's order, to online agents of ``roles``
        with room (``choose_agent``), until nobody has room; never to the agent who let the chat's
        response time run out (``missed_by``). One transaction under the assignment lock, so it sees
        every change committed before it started and no other assignment runs meanwhile. Returns the
        ASSIGN transitions made, in order (the caller announces them)."""
        now = (now or self._clock()).astimezone(dt.timezone.utc)
        roles = list(roles)
        c = conversations.c
        results: List[TransitionResult] = []
        async with self._writer.begin() as conn:
            await hold_assignment_lock(conn)
            waiting = [build(Conversation, row) for row in await conn.execute(
                sa.select(conversations).where(c.state == ConversationState.WAITING.value).order_by(*QUEUE_ORDER))]
            loads = await self._loads(conn, roles) if waiting else []
            for row in waiting:
                if not any(load.has_room for load in loads):
                    break
                choice = choose_agent(loads, exclude={row.missed_by} if row.missed_by is not None else ())
                if choice is None:
                    continue
                outcome = Change(ConversationState.ASSIGNED, choice.agent_id)
                values = _values(row, Transition.ASSIGN, outcome, now)
                if not await self._write(conn, row, Transition.ASSIGN, values, choice.agent_id, now):
                    continue  # cancelled or closed since it was read: it is no longer waiting
                results.append(_result(row, Transition.ASSIGN, values))
                loads = [load.with_one_more(now) if load is choice else load for load in loads]
        return results

    def _unanswered(self, cutoff: dt.datetime) -> Any:
        """Assigned at or before ``cutoff`` and no agent text since the assignment."""
        c = conversations.c
        return sa.and_(
            c.state == ConversationState.ASSIGNED.value,
            c.assigned_at <= cutoff,
            sa.or_(c.last_agent_message_at.is_(None), c.last_agent_message_at < c.assigned_at),
        )

    async def over_response_limit(self, now: dt.datetime, limit: dt.timedelta) -> List[Conversation]:
        """Assigned conversations whose holder has not written to the visitor within ``limit`` of getting
        them (notes do not count), those that waited longest first."""
        c = conversations.c
        return await self._select(
            sa.select(conversations).where(self._unanswered(now - limit)).order_by(c.assigned_at, c.id))

    async def hand_over_unanswered(
        self, conversation_id: str, roles: Iterable[str], limit: dt.timedelta, *, automatic: bool,
        now: Optional[dt.datetime] = None,
    ) -> Optional[Tuple[TransitionResult, int]]:
        """The response-time limit: a conversation still unanswered ``limit`` after its holder got it
        goes to the online agent of ``roles`` with room whom ``choose_agent`` picks, other than the
        holder (``automatic``), as a TRANSFER; otherwise back to the queue (REQUEUE) at the place it had
        when it first joined (its ``queued_at``: ahead of everyone who came later), marked ``missed_by``
        the holder, who is then never given it automatically. The holder's count of limits missed in a
        row grows by one. Under the assignment lock, and written only if the holder still has not
        written (an answer racing the hand-over wins). Returns the transition and the holder's new count,
        or None when there is nothing to hand over."""
        now = (now or self._clock()).astimezone(dt.timezone.utc)
        unanswered = self._unanswered(now - limit)
        async with self._writer.begin() as conn:
            await hold_assignment_lock(conn)
            found = (await conn.execute(
                sa.select(conversations).where(conversations.c.id == conversation_id, unanswered))).first()
            if found is None:
                return None
            row = build(Conversation, found)
            holder = row.agent_id
            assert holder is not None
            target = choose_agent(await self._loads(conn, roles), exclude={holder}) if automatic else None
            if target is not None:
                transition = Transition.TRANSFER
                values = _values(row, transition, Change(ConversationState.ASSIGNED, target.agent_id), now)
                actor: Optional[int] = target.agent_id
            else:
                transition = Transition.REQUEUE
                values = _values(row, transition, Change(ConversationState.WAITING, None), now)
                values.update(waiting_since=row.queued_at or now, missed_by=holder)
                actor = None
            if not await self._write(conn, row, transition, values, actor, now, unanswered):
                return None  # the holder answered (or something else changed it) meanwhile
            a = agents.c
            await conn.execute(agents.update().where(a.id == holder).values(missed_in_row=a.missed_in_row + 1))
            misses = (await conn.execute(sa.select(a.missed_in_row).where(a.id == holder))).scalar_one()
        return _result(row, transition, values), int(misses)

    async def assigned_to(self, agent_id: int) -> List[Conversation]:
        c = conversations.c
        return await self._select(
            sa.select(conversations)
            .where(c.state == ConversationState.ASSIGNED.value, c.agent_id == agent_id)
            .order_by(c.created_at, c.id)
        )

    async def assigned(self) -> List[Conversation]:
        """Every conversation an agent holds now, the longest held first (the supervisors' floor)."""
        c = conversations.c
        return await self._select(
            sa.select(conversations).where(c.state == ConversationState.ASSIGNED.value)
            .order_by(c.assigned_at, c.id))

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

