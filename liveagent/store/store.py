"""Persistence of conversations, messages, agents and their bookkeeping over an async SQLAlchemy engine.

`Store.transition` is the only code that changes a conversation's state: it asks `state.plan`, writes
with optimistic locking (`version`) and appends the audit event in the same transaction. Everything
returns small frozen dataclasses so callers never hold rows or connections.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import json
from dataclasses import dataclass, field, fields
from typing import Any, AsyncIterator, Callable, Dict, Iterable, List, Mapping, Optional, Tuple, Type, TypeVar

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Row, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import AsyncAdaptedQueuePool

from liveagent.store import migrate, sqlite_driver
from liveagent.store.audit import AuditLog
from liveagent.store.content import ContentLog
from liveagent.store.logins import LoginFailures
from liveagent.store.reconnect import survives_reconnects
from liveagent.store.retention import VisitorData
from liveagent.store.schema import (
    KINDS,
    PRESENCES,
    ROLES,
    SENDERS,
    agents,
    canned_replies,
    conversation_events,
    conversations,
    messages,
    read_marks,
    tickets,
)
from liveagent.store.sessions import AgentSessions
from liveagent.store.state import ConversationState, NoChange, Transition, TransitionError, plan

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///var/liveagent.sqlite"
SQLITE_POOL_SIZE = 8
_MAX_ATTEMPTS = 20  # optimistic-locking retries; each retry means another writer succeeded
_WRITE = "liveagent_write"  # execution option: on SQLite such transactions start with BEGIN IMMEDIATE


class NotFound(LookupError):
    """The conversation, agent, reply or ticket does not exist."""


class ConcurrentUpdate(RuntimeError):
    """A transition lost the optimistic-locking race more times than is plausible."""


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


@dataclass(frozen=True)
class Conversation:
    id: str
    state: ConversationState
    agent_id: Optional[int]
    version: int
    escalation_reason: Optional[str]
    handoff: Optional[Dict[str, Any]] = field(hash=False)
    customer_id: Optional[str]
    created_at: dt.datetime
    updated_at: dt.datetime
    waiting_since: Optional[dt.datetime]
    last_visitor_message_at: Optional[dt.datetime]
    last_agent_message_at: Optional[dt.datetime]
    rating: Optional[int]


@dataclass(frozen=True)
class TransitionResult:
    """What a transition did: the conversation after it, and (when it changed something) before it."""

    conversation: Conversation
    changed: bool  # False for an idempotent repeat: nothing was written
    transition: Optional[Transition] = None
    previous: Optional[Conversation] = None  # the row the change was planned against (None: no change)


@dataclass(frozen=True)
class ConversationEvent:
    id: int
    conversation_id: str
    transition: Transition
    from_state: ConversationState
    to_state: ConversationState
    agent_id: Optional[int]
    created_at: dt.datetime


@dataclass(frozen=True)
class Message:
    id: int
    conversation_id: str
    sender: str
    kind: str
    text: str
    payload: Optional[Any] = field(hash=False)
    agent_id: Optional[int]
    created_at: dt.datetime


@dataclass(frozen=True)
class Agent:
    """An agent without the password hash, which never leaves the store."""

    id: int
    username: str
    display_name: str
    role: str
    presence: str
    last_seen_at: Optional[dt.datetime]
    active: bool


@dataclass(frozen=True)
class CannedReply:
    id: int
    title: str
    text: str
    updated_by: Optional[int]
    updated_at: dt.datetime


@dataclass(frozen=True)
class Ticket:
    id: int
    conversation_id: Optional[str]
    name: str
    contact: str
    message: str
    created_at: dt.datetime
    handled_by: Optional[int]
    handled_at: Optional[dt.datetime]


T = TypeVar("T")

# The statements of every visitor message, built once (building one costs more than running it on SQLite).
_FIND_CONVERSATION = sa.select(conversations).where(conversations.c.id == sa.bindparam("conversation_id"))
_TOUCH_CONVERSATION = conversations.update().where(conversations.c.id == sa.bindparam("conversation_id"))
_INSERT_MESSAGE = messages.insert()


def _build(cls: Type[T], row: Row) -> T:
    values = {f.name: row._mapping[f.name] for f in fields(cls)}  # type: ignore[arg-type]
    for name in ("state", "from_state", "to_state"):
        if name in values:
            values[name] = ConversationState(values[name])
    if "transition" in values:
        values["transition"] = Transition(values["transition"])
    return cls(**values)


def _one_of(name: str, value: str, allowed: Iterable[str]) -> str:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(allowed)}, not {value!r}")
    return value


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


def _json_round_trip(value: Any) -> Any:
    """``value`` as the JSONText column gives it back (schema.JSONText)."""
    return None if value is None else json.loads(json.dumps(value, ensure_ascii=False, sort_keys=True))


def make_engine(database_url: str = DEFAULT_DATABASE_URL) -> AsyncEngine:
    """An AsyncEngine; for SQLite with WAL, foreign keys, a busy timeout and explicit transactions.

    pysqlite's own implicit BEGIN does not cover SELECTs, so it is switched off and the engine emits
    BEGIN itself; write transactions use BEGIN IMMEDIATE, so two writers queue on the busy timeout
    instead of failing when one's read snapshot turns stale.
    """
    options: Dict[str, Any] = {}
    if make_url(database_url).get_backend_name() == "sqlite":
        # SQLAlchemy 1.4 gives file SQLite a NullPool: a new connection, aiosqlite thread and
        # PRAGMAs for every query (most of the service's ~30 ms per message, measured). A
        # pool keeps them; WAL lets the pooled readers run beside the one writer.
        options = {"poolclass": AsyncAdaptedQueuePool, "pool_size": SQLITE_POOL_SIZE, "max_overflow": 0}
        if make_url(database_url).get_driver_name() == "aiosqlite":  # one thread trip per statement, not four
            options["module"] = sqlite_driver.dbapi()
    else:  # a restarted PostgreSQL leaves dead connections in the pool: test each at checkout
        options = {"pool_pre_ping": True}
    engine = create_async_engine(database_url, **options)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine.sync_engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            for pragma in ("journal_mode=WAL", "foreign_keys=ON", "busy_timeout=10000"):
                cursor.execute(f"PRAGMA {pragma}")
            cursor.close()

        @event.listens_for(engine.sync_engine, "begin")
        def _on_begin(connection: Any) -> None:
            begin = "BEGIN IMMEDIATE" if connection.get_execution_options().get(_WRITE) else "BEGIN"
            adapted = connection.connection.dbapi_connection
            if isinstance(adapted, sqlite_driver.OneTripConnection):
                adapted.begin_with_next(begin)  # in the same trip as the transaction's first statement
            else:
                connection.exec_driver_sql(begin)

    return engine


class Writer:
    """Opens write transactions (BEGIN IMMEDIATE on SQLite); on SQLite one at a time per process.

    SQLite has one writer at a time. Left to SQLite, a second writer sleeps in its busy handler
    and retries at growing intervals (up to 100 ms a try), so under load some writes wait far
    longer than others; an asyncio lock queues them in arrival order instead. PostgreSQL
    writes run concurrently.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine.execution_options(**{_WRITE: True})
        self._lock = asyncio.Lock() if engine.dialect.name == "sqlite" else None

    @contextlib.asynccontextmanager
    async def begin(self) -> AsyncIterator[AsyncConnection]:
        if self._lock is None:
            async with self._engine.begin() as conn:
                yield conn
            return
        async with self._lock, self._engine.begin() as conn:
            yield conn


@survives_reconnects
class Store:
    """All persistence of the live-agent service. Create with `await Store.open(url)`."""

    def __init__(
        self,
        engine: AsyncEngine,
        clock: Callable[[], dt.datetime] = utcnow,
        hasher: Optional[PasswordHasher] = None,
    ) -> None:
        self._engine = engine
        self._writer = Writer(engine)
        self._clock = clock
        self._hasher = hasher or PasswordHasher()
        self._dummy_hash: Optional[str] = None
        self.content = ContentLog(engine, self._writer, clock)
        self.audit = AuditLog(engine, self._writer, clock)
        self.retention = VisitorData(engine, self._writer, clock)
        self.sessions = AgentSessions(engine, self._writer, clock)
        self.logins = LoginFailures(engine, self._writer, clock)

    @classmethod
    async def open(cls, database_url: str = DEFAULT_DATABASE_URL, **options: Any) -> "Store":
        """Migrate the database to the newest schema, then connect (nothing connects at import)."""
        await asyncio.to_thread(migrate.upgrade, database_url)
        return cls(make_engine(database_url), **options)

    async def close(self) -> None:
        await self._engine.dispose()

    @property
    def engine(self) -> AsyncEngine:
        return self._engine

    def _insert(self, table: sa.Table) -> Any:
        """An INSERT that supports ON CONFLICT on both backends."""
        dialect = postgresql if self._engine.dialect.name == "postgresql" else sqlite
        return dialect.insert(table)

    # conversations and the state machine

    async def _load(self, conn: AsyncConnection, conversation_id: str) -> Row:
        row = (await conn.execute(_FIND_CONVERSATION, {"conversation_id": conversation_id})).first()
        if row is None:
            raise NotFound(f"conversation {conversation_id!r}")
        return row

    async def find_conversation(self, conversation_id: str) -> Optional[Conversation]:
        async with self._engine.connect() as conn:
            row = (await conn.execute(_FIND_CONVERSATION, {"conversation_id": conversation_id})).first()
        return None if row is None else _build(Conversation, row)

    async def get_or_create_conversation(
        self, conversation_id: str, *, now: Optional[dt.datetime] = None
    ) -> Conversation:
        """The conversation of a visitor session, created in the BOT state on first sight."""
        existing = await self.find_conversation(conversation_id)
        if existing is not None:
            return existing
        now = now or self._clock()
        async with self._writer.begin() as conn:
            insert = self._insert(conversations).values(
                id=conversation_id, state=ConversationState.BOT.value, version=0, created_at=now, updated_at=now
            )
            await conn.execute(insert.on_conflict_do_nothing(index_elements=["id"]))
            return _build(Conversation, await self._load(conn, conversation_id))

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
        carries the conversation after the change, built from what was written (no second read).
        """
        transition = Transition(transition)
        now = (now or self._clock()).astimezone(dt.timezone.utc)
        known = current if current is not None and current.id == conversation_id else None
        for _attempt in range(_MAX_ATTEMPTS):
            async with self._writer.begin() as conn:
                row = known if known is not None else _build(Conversation, await self._load(conn, conversation_id))
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
                if transition is Transition.ESCALATE:
                    values["escalation_reason"] = reason
                    values["handoff"] = dict(handoff) if handoff is not None else None
                    values["customer_id"] = _verified_customer(handoff)
                updated = await conn.execute(
                    conversations.update()
                    .where(conversations.c.id == conversation_id, conversations.c.version == row.version)
                    .values(**values)
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
            return [_build(ConversationEvent, row) for row in await conn.execute(query)]

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
            return _build(Conversation, await self._load(conn, conversation_id))

    # messages

    async def add_message(
        self,
        conversation_id: str,
        sender: str,
        kind: str,
        text: str,
        payload: Optional[Any] = None,
        agent_id: Optional[int] = None,
        *,
        now: Optional[dt.datetime] = None,
    ) -> Message:
        """Append a message; visitor and agent texts move the timestamps the requeue check reads.

        An agent's internal note does not count as answering the visitor.
        """
        _one_of("sender", sender, SENDERS)
        _one_of("kind", kind, KINDS)
        now = (now or self._clock()).astimezone(dt.timezone.utc)
        stamps: Dict[str, Any] = {"updated_at": now}
        if sender == "visitor":
            stamps["last_visitor_message_at"] = now
        elif sender == "agent" and kind == "text":
            stamps["last_agent_message_at"] = now
        async with self._writer.begin() as conn:
            touched = await conn.execute(_TOUCH_CONVERSATION, {"conversation_id": conversation_id, **stamps})
            if touched.rowcount != 1:
                raise NotFound(f"conversation {conversation_id!r}")
            result = await conn.execute(_INSERT_MESSAGE, {
                "conversation_id": conversation_id, "sender": sender, "kind": kind, "text": text,
                "payload": payload, "agent_id": agent_id, "created_at": now,
            })
            message_id = result.inserted_primary_key[0]
        return Message(message_id, conversation_id, sender, kind, text, payload, agent_id, now)

    async def messages_after(
        self, conversation_id: str, after_id: int, visible_to: str, limit: int = 500
    ) -> List[Message]:
        """Messages with id > `after_id` in order: what a reconnecting client missed.

        Visitors never receive internal notes.
        """
        _one_of("visible_to", visible_to, ("visitor", "agent"))
        query = (
            sa.select(messages)
            .where(messages.c.conversation_id == conversation_id, messages.c.id > after_id)
            .order_by(messages.c.id)
            .limit(limit)
        )
        if visible_to == "visitor":
            query = query.where(messages.c.kind != "note")
        async with self._engine.connect() as conn:
            return [_build(Message, row) for row in await conn.execute(query)]

    async def transcript(self, conversation_id: str, visible_to: str = "agent") -> List[Message]:
        """The whole conversation in order (for agents by default, notes included)."""
        _one_of("visible_to", visible_to, ("visitor", "agent"))
        query = sa.select(messages).where(messages.c.conversation_id == conversation_id).order_by(messages.c.id)
        if visible_to == "visitor":
            query = query.where(messages.c.kind != "note")
        async with self._engine.connect() as conn:
            return [_build(Message, row) for row in await conn.execute(query)]

    # the queue and assignment

    async def _conversations(self, query: Any) -> List[Conversation]:
        async with self._engine.connect() as conn:
            return [_build(Conversation, row) for row in await conn.execute(query)]

    async def queue(self) -> List[Conversation]:
        """Waiting conversations, longest-waiting first."""
        c = conversations.c
        return await self._conversations(
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
        return await self._conversations(
            sa.select(conversations)
            .where(c.state == ConversationState.ASSIGNED.value, c.agent_id == agent_id)
            .order_by(c.created_at, c.id)
        )

    async def conversations_needing_requeue(
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
        return await self._conversations(
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

    # agents

    async def create_agent(self, username: str, display_name: str, password: str, role: str = "agent") -> Agent:
        """A new agent (presence offline); ValueError for an unknown role or a taken username."""
        _one_of("role", role, ROLES)
        password_hash = await asyncio.to_thread(self._hasher.hash, password)
        values = {"username": username, "display_name": display_name, "password_hash": password_hash, "role": role}
        try:  # the unique constraint decides, so two simultaneous sign-ups cannot both win
            async with self._writer.begin() as conn:
                agent_id = (await conn.execute(agents.insert().values(**values))).inserted_primary_key[0]
                return _build(Agent, (await conn.execute(sa.select(agents).where(agents.c.id == agent_id))).one())
        except sa.exc.IntegrityError as error:
            raise ValueError(f"username {username!r} is taken") from error

    def _verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    async def verify_login(self, username: str, password: str, now: Optional[dt.datetime] = None) -> Optional[Agent]:
        """The agent when the password is right and the agent is active, else None.

        Every attempt costs one hash check, also for an unknown username (a dummy hash) and for a
        deactivated agent, so neither the answer nor its timing tells which usernames exist. The
        backoff after failures is liveagent/login_backoff.py's. Hashing runs in a thread to keep the
        event loop responsive.
        """
        async with self._engine.connect() as conn:
            row = (await conn.execute(sa.select(agents).where(agents.c.username == username))).first()
        if row is None:
            if self._dummy_hash is None:
                self._dummy_hash = await asyncio.to_thread(self._hasher.hash, "not-a-real-password")
            await asyncio.to_thread(self._verify, self._dummy_hash, password)
            return None
        ok = await asyncio.to_thread(self._verify, row.password_hash, password)
        if not ok or not row.active:
            return None
        if self._hasher.check_needs_rehash(row.password_hash):
            new_hash = await asyncio.to_thread(self._hasher.hash, password)
            async with self._writer.begin() as conn:
                await conn.execute(agents.update().where(agents.c.id == row.id).values(password_hash=new_hash))
        return _build(Agent, row)

    # Changes that end every session of the agent, in the same transaction (docs/security.md).

    async def _change_agent(self, username: str, values: Dict[str, Any], reason: Optional[str]) -> Agent:
        async with self._writer.begin() as conn:
            row = (await conn.execute(sa.select(agents).where(agents.c.username == username))).first()
            if row is None:
                raise NotFound(f"agent {username!r}")
            await conn.execute(agents.update().where(agents.c.id == row.id).values(**values))
            if reason is not None:
                await self.sessions.end_agent(row.id, reason, self._clock(), conn=conn)
            return _build(Agent, (await conn.execute(sa.select(agents).where(agents.c.id == row.id))).one())

    async def set_password(self, username: str, password: str) -> Agent:
        """A new password; every session of the agent ends."""
        password_hash = await asyncio.to_thread(self._hasher.hash, password)
        return await self._change_agent(username, {"password_hash": password_hash}, "password")

    async def set_role(self, username: str, role: str) -> Agent:
        """A new role; every session of the agent ends (the next login carries the new rights)."""
        _one_of("role", role, ROLES)
        return await self._change_agent(username, {"role": role}, "role")

    async def set_active(self, username: str, active: bool) -> Agent:
        """Deactivating ends every session and refuses logins (presence goes offline); activating allows them."""
        if active:
            return await self._change_agent(username, {"active": True}, None)
        return await self._change_agent(username, {"active": False, "presence": "offline"}, "deactivated")

    async def touch_agent(self, agent_id: int, now: dt.datetime) -> None:
        """Record that the agent's console is alive (a heartbeat) without changing presence."""
        async with self._writer.begin() as conn:
            await conn.execute(agents.update().where(agents.c.id == agent_id).values(last_seen_at=now))

    async def set_presence(self, agent_id: int, presence: str, now: dt.datetime) -> Agent:
        _one_of("presence", presence, PRESENCES)
        async with self._writer.begin() as conn:
            updated = await conn.execute(
                agents.update().where(agents.c.id == agent_id).values(presence=presence, last_seen_at=now)
            )
            if updated.rowcount != 1:
                raise NotFound(f"agent {agent_id}")
            return _build(Agent, (await conn.execute(sa.select(agents).where(agents.c.id == agent_id))).one())

    async def get_agent(self, agent_id: int) -> Optional[Agent]:
        async with self._engine.connect() as conn:
            row = (await conn.execute(sa.select(agents).where(agents.c.id == agent_id))).first()
        return None if row is None else _build(Agent, row)

    async def list_agents(self, online_only: bool = False) -> List[Agent]:
        query = sa.select(agents).order_by(agents.c.display_name, agents.c.id)
        if online_only:
            query = query.where(agents.c.presence == "online")
        async with self._engine.connect() as conn:
            return [_build(Agent, row) for row in await conn.execute(query)]

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

    # canned replies

    async def create_canned_reply(
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
            return _build(CannedReply, row)

    async def get_canned_reply(self, reply_id: int) -> Optional[CannedReply]:
        async with self._engine.connect() as conn:
            row = (await conn.execute(sa.select(canned_replies).where(canned_replies.c.id == reply_id))).first()
        return None if row is None else _build(CannedReply, row)

    async def list_canned_replies(self) -> List[CannedReply]:
        query = sa.select(canned_replies).order_by(canned_replies.c.title, canned_replies.c.id)
        async with self._engine.connect() as conn:
            return [_build(CannedReply, row) for row in await conn.execute(query)]

    async def update_canned_reply(
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
            return _build(CannedReply, (await conn.execute(sa.select(canned_replies).where(by_id))).one())

    async def delete_canned_reply(self, reply_id: int) -> bool:
        async with self._writer.begin() as conn:
            deleted = await conn.execute(canned_replies.delete().where(canned_replies.c.id == reply_id))
        return deleted.rowcount == 1

    # tickets (messages left when no agent could take the conversation)

    async def create_ticket(
        self,
        conversation_id: Optional[str],
        name: str,
        contact: str,
        message: str,
        *,
        now: Optional[dt.datetime] = None,
    ) -> Ticket:
        async with self._writer.begin() as conn:
            result = await conn.execute(
                tickets.insert().values(
                    conversation_id=conversation_id,
                    name=name,
                    contact=contact,
                    message=message,
                    created_at=now or self._clock(),
                )
            )
            ticket_id = result.inserted_primary_key[0]
            return _build(Ticket, (await conn.execute(sa.select(tickets).where(tickets.c.id == ticket_id))).one())

    async def list_tickets(self, unhandled_only: bool = False) -> List[Ticket]:
        query = sa.select(tickets).order_by(tickets.c.id)
        if unhandled_only:
            query = query.where(tickets.c.handled_at.is_(None))
        async with self._engine.connect() as conn:
            return [_build(Ticket, row) for row in await conn.execute(query)]

    async def ticket_page(
        self, limit: int, before: Optional[int] = None, unhandled_only: bool = False
    ) -> Tuple[List[Ticket], Optional[int]]:
        """At most ``limit`` tickets, newest first, with ids below ``before``; and the ``before`` of
        the next page (None on the last one)."""
        query = sa.select(tickets).order_by(tickets.c.id.desc()).limit(limit + 1)
        if before is not None:
            query = query.where(tickets.c.id < before)
        if unhandled_only:
            query = query.where(tickets.c.handled_at.is_(None))
        async with self._engine.connect() as conn:
            page = [_build(Ticket, row) for row in await conn.execute(query)]
        if len(page) > limit:
            return page[:limit], page[limit - 1].id
        return page, None

    async def count_unhandled_tickets(self) -> int:
        query = sa.select(sa.func.count()).select_from(tickets).where(tickets.c.handled_at.is_(None))
        async with self._engine.connect() as conn:
            return int((await conn.execute(query)).scalar_one())

    async def mark_ticket_handled(
        self, ticket_id: int, agent_id: int, now: Optional[dt.datetime] = None
    ) -> Optional[Ticket]:
        """Mark a ticket handled (None when it does not exist); a second call keeps the first handler and time."""
        by_id = tickets.c.id == ticket_id
        async with self._writer.begin() as conn:
            await conn.execute(
                tickets.update()
                .where(by_id, tickets.c.handled_at.is_(None))
                .values(handled_by=agent_id, handled_at=now or self._clock())
            )
            row = (await conn.execute(sa.select(tickets).where(by_id))).first()
        return None if row is None else _build(Ticket, row)
