"""The Store on both backends: SQLite in a temporary file and PostgreSQL on 127.0.0.1:5432 (database test).

PostgreSQL being down fails these tests instead of skipping them: a green run must mean both backends
were exercised.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any, List

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from argon2 import PasswordHasher

from liveagent.store import (
    ConversationState,
    NotFound,
    Store,
    Transition,
    TransitionError,
    TransitionResult,
    make_engine,
)
from liveagent.store.schema import TABLES, conversations, metadata, read_marks

S, T = ConversationState, Transition
PG_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
PG_SYNC_URL = "postgresql://postgres@127.0.0.1:5432/test"
OUR_TABLES = {table.name for table in TABLES}
NOW = dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.timezone.utc)
# cheap argon2 parameters: the tests check the login logic, not the hash strength
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
HANDOFF = {  # the bot's handoff signal, docs/handoff.md
    "version": 1,
    "reason": "visitor_request",
    "conversation_id": "visitor-1",
    "summary": {
        "intents": ["request_human"],
        "last_messages": ["haluan puhua ihmisen kanssa"],
        "customer": {"verified": True, "customer_id": "LUMO-1004"},
        "turns": 1,
    },
}


def at(minutes: float) -> dt.datetime:
    return NOW + dt.timedelta(minutes=minutes)


def reset_postgres() -> None:
    """Drop the service's tables and alembic_version so the migrations run from scratch.

    Only this service's tables: other test modules keep their own tables in the same database.
    """
    engine = sa.create_engine(PG_SYNC_URL, poolclass=sa.pool.NullPool, connect_args={"connect_timeout": 5})
    try:
        with engine.begin() as connection:
            names = ", ".join(f'"{name}"' for name in sorted(OUR_TABLES | {"alembic_version"}))
            connection.execute(sa.text(f"DROP TABLE IF EXISTS {names} CASCADE"))
    except sa.exc.OperationalError as error:
        pytest.fail(f"PostgreSQL is not reachable at {PG_SYNC_URL}; start it (trust auth, database test): {error}")
    finally:
        engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path}/not-yet-created/liveagent.sqlite"
        return
    reset_postgres()
    yield PG_URL
    reset_postgres()


@pytest.fixture
async def store(database_url):
    store = await Store.open(database_url, hasher=FAST_HASHER)
    yield store
    await store.close()


async def agent(store: Store, username: str, presence: str = "offline", role: str = "agent") -> int:
    created = await store.create_agent(username, username.capitalize(), f"pw-{username}", role)
    if presence != "offline":
        await store.set_presence(created.id, presence, NOW)
    return created.id


async def waiting(store: Store, conversation_id: str, minutes: float = 0) -> None:
    await store.get_or_create_conversation(conversation_id, now=at(minutes))
    await store.transition(conversation_id, T.ESCALATE, reason="visitor_request", now=at(minutes))


async def assigned(store: Store, conversation_id: str, agent_id: int, minutes: float = 0) -> None:
    await waiting(store, conversation_id, minutes)
    await store.transition(conversation_id, T.CLAIM, agent_id=agent_id, now=at(minutes))


# schema


async def test_migrations_create_the_schema(store):
    def inspect(connection: Any):
        context = MigrationContext.configure(
            connection,
            opts={"include_name": lambda name, kind, _parent: kind != "table" or name in OUR_TABLES},
        )
        tables = set(sa.inspect(connection).get_table_names())
        return context.get_current_revision(), compare_metadata(context, metadata), tables

    async with store.engine.connect() as connection:
        revision, differences, tables = await connection.run_sync(inspect)
    assert revision == "0004"
    assert differences == []
    assert OUR_TABLES | {"alembic_version"} <= tables


async def test_the_database_enforces_constraints_and_foreign_keys(store):
    await store.get_or_create_conversation("c1", now=NOW)
    with pytest.raises(sa.exc.IntegrityError):
        async with store.engine.begin() as connection:
            await connection.execute(conversations.update().values(state="lost"))
    with pytest.raises(sa.exc.IntegrityError):
        async with store.engine.begin() as connection:
            orphan = read_marks.insert().values(agent_id=999, conversation_id="c1", last_read_message_id=1)
            await connection.execute(orphan)


# the state machine persisted


async def test_full_lifecycle_records_exact_events(store):
    anna, ben = await agent(store, "anna"), await agent(store, "ben")
    created = await store.get_or_create_conversation("visitor-1", now=NOW)
    assert (created.state, created.agent_id, created.version) == (S.BOT, None, 0)
    assert await store.get_or_create_conversation("visitor-1") == created

    escalated = await store.transition("visitor-1", T.ESCALATE, reason="visitor_request", handoff=HANDOFF, now=at(1))
    c = escalated.conversation
    assert escalated.changed and c.state is S.WAITING and c.waiting_since == at(1)
    assert (c.escalation_reason, c.handoff, c.customer_id) == ("visitor_request", HANDOFF, "LUMO-1004")

    repeat = await store.transition("visitor-1", T.ESCALATE, reason="again", now=at(2))
    assert not repeat.changed and repeat.conversation == c

    claimed = (await store.transition("visitor-1", T.CLAIM, agent_id=anna, now=at(3))).conversation
    assert (claimed.state, claimed.agent_id, claimed.waiting_since) == (S.ASSIGNED, anna, None)
    assert not (await store.transition("visitor-1", T.CLAIM, agent_id=anna, now=at(3.5))).changed

    assert (await store.transition("visitor-1", T.TRANSFER, agent_id=ben, now=at(4))).conversation.agent_id == ben
    requeued = (await store.transition("visitor-1", T.REQUEUE, now=at(5))).conversation
    assert (requeued.state, requeued.agent_id, requeued.waiting_since) == (S.WAITING, None, at(5))
    await store.transition("visitor-1", T.CLAIM, agent_id=ben, now=at(6))
    back = (await store.transition("visitor-1", T.RETURN_TO_BOT, agent_id=ben, now=at(7))).conversation
    assert (back.state, back.agent_id) == (S.BOT, None)

    unverified = {"customer": {"verified": False}, "turns": 4}  # a bare summary is accepted too
    again = await store.transition("visitor-1", T.ESCALATE, reason="repeated_fallback", handoff=unverified, now=at(8))
    assert (again.conversation.escalation_reason, again.conversation.customer_id) == ("repeated_fallback", None)
    assert again.conversation.handoff == unverified
    assert (await store.transition("visitor-1", T.CLOSE, agent_id=anna, now=at(9))).conversation.state is S.CLOSED
    assert not (await store.transition("visitor-1", T.CLOSE, now=at(9.5))).changed
    final = (await store.transition("visitor-1", T.REOPEN, now=at(10))).conversation

    with pytest.raises(TransitionError) as refused:
        await store.transition("visitor-1", T.CLAIM, agent_id=anna, now=at(11))
    assert refused.value.code == "not_allowed"
    with pytest.raises(NotFound):
        await store.transition("nobody", T.ESCALATE)

    trail = await store.events("visitor-1")
    events = [(e.transition, e.from_state, e.to_state, e.agent_id, e.created_at) for e in trail]
    assert events == [
        (T.ESCALATE, S.BOT, S.WAITING, None, at(1)),
        (T.CLAIM, S.WAITING, S.ASSIGNED, anna, at(3)),
        (T.TRANSFER, S.ASSIGNED, S.ASSIGNED, ben, at(4)),
        (T.REQUEUE, S.ASSIGNED, S.WAITING, ben, at(5)),  # no actor given: the agent who held it
        (T.CLAIM, S.WAITING, S.ASSIGNED, ben, at(6)),
        (T.RETURN_TO_BOT, S.ASSIGNED, S.BOT, ben, at(7)),
        (T.ESCALATE, S.BOT, S.WAITING, None, at(8)),
        (T.CLOSE, S.WAITING, S.CLOSED, anna, at(9)),
        (T.REOPEN, S.CLOSED, S.BOT, None, at(10)),
    ]
    assert final.version == len(events)
    assert await store.find_conversation("visitor-1") == final


async def test_two_agents_claiming_at_once_on_separate_stores(store, database_url):
    other = await Store.open(database_url, hasher=FAST_HASHER)
    try:
        anna, ben = await agent(store, "anna"), await agent(store, "ben")
        ids = [f"race-{n}" for n in range(8)]
        for conversation_id in ids:
            await waiting(store, conversation_id)
        for conversation_id in ids:
            results = await asyncio.gather(
                store.transition(conversation_id, T.CLAIM, agent_id=anna),
                other.transition(conversation_id, T.CLAIM, agent_id=ben),
                return_exceptions=True,
            )
            winners = [r for r in results if isinstance(r, TransitionResult)]
            losers = [r for r in results if isinstance(r, TransitionError)]
            assert len(winners) == 1 and winners[0].changed, results
            assert len(losers) == 1 and losers[0].code == "already_claimed", results
            final = await other.find_conversation(conversation_id)
            assert final.agent_id == winners[0].conversation.agent_id
            claims = [e for e in await store.events(conversation_id) if e.transition is T.CLAIM]
            assert [e.agent_id for e in claims] == [final.agent_id]
    finally:
        await other.close()


async def test_a_lost_optimistic_race_is_planned_again(database_url):
    """A rival claim lands between our read and our UPDATE: the version check catches it."""

    class RivalInterferes(Store):
        loads = 0

        async def _load(self, conn, conversation_id):
            row = await super()._load(conn, conversation_id)
            self.loads += 1
            if self.loads == 1:
                await conn.execute(
                    conversations.update()
                    .where(conversations.c.id == conversation_id)
                    .values(state="assigned", agent_id=self.rival, version=conversations.c.version + 1)
                )
            return row

    setup = await Store.open(database_url, hasher=FAST_HASHER)
    anna, ben = await agent(setup, "anna"), await agent(setup, "ben")
    await waiting(setup, "c1")
    await setup.close()

    racer = RivalInterferes(make_engine(database_url), hasher=FAST_HASHER)
    racer.rival = ben
    try:
        with pytest.raises(TransitionError) as lost:
            await racer.transition("c1", T.CLAIM, agent_id=anna)
        assert lost.value.code == "already_claimed"
        assert racer.loads == 2
        assert (await racer.find_conversation("c1")).agent_id == ben
        assert [e.transition for e in await racer.events("c1")] == [T.ESCALATE]
    finally:
        await racer.close()


# messages


async def test_messages_after_returns_exactly_the_missed_messages_and_hides_notes(store):
    anna = await agent(store, "anna")
    await assigned(store, "c1", anna)
    await store.get_or_create_conversation("c2")
    buttons = {"buttons": [{"title": "Kyllä", "payload": "/affirm"}]}
    m1 = await store.add_message("c1", "visitor", "text", "hei", now=at(1))
    m2 = await store.add_message("c1", "bot", "text", "Haluatko jonoon?", payload=buttons, now=at(2))
    await store.add_message("c2", "visitor", "text", "toinen keskustelu", now=at(2.5))
    m3 = await store.add_message("c1", "agent", "note", "asiakas vaikuttaa kiireiseltä", agent_id=anna, now=at(3))
    m4 = await store.add_message("c1", "agent", "text", "Hei, olen Anna", agent_id=anna, now=at(4))
    m5 = await store.add_message("c1", "system", "status", "Anna liittyi", now=at(5))
    m6 = await store.add_message("c1", "visitor", "text", "kiitos", now=at(6))

    assert await store.messages_after("c1", 0, visible_to="visitor") == [m1, m2, m4, m5, m6]
    assert await store.messages_after("c1", 0, visible_to="agent") == [m1, m2, m3, m4, m5, m6]
    assert await store.messages_after("c1", m2.id, visible_to="visitor") == [m4, m5, m6]
    assert await store.messages_after("c1", m2.id, visible_to="visitor", limit=2) == [m4, m5]
    assert await store.messages_after("c1", m6.id, visible_to="agent") == []
    assert (await store.messages_after("c1", 0, visible_to="agent"))[1].payload == buttons
    assert await store.transcript("c1") == [m1, m2, m3, m4, m5, m6]
    assert await store.transcript("c1", visible_to="visitor") == [m1, m2, m4, m5, m6]

    c1 = await store.find_conversation("c1")
    assert c1.last_visitor_message_at == at(6)
    assert c1.last_agent_message_at == at(4)  # the note did not answer the visitor

    with pytest.raises(NotFound):
        await store.add_message("nobody", "visitor", "text", "hei")
    with pytest.raises(ValueError):
        await store.add_message("c1", "visitor", "whisper", "hei")
    with pytest.raises(ValueError):
        await store.messages_after("c1", 0, visible_to="everyone")


# the queue


async def test_queue_positions_follow_waiting_time(store):
    anna = await agent(store, "anna")
    for minutes, conversation_id in enumerate(["c", "a", "b"]):
        await waiting(store, conversation_id, minutes)
    await store.get_or_create_conversation("with-bot")

    assert [c.id for c in await store.queue()] == ["c", "a", "b"]
    assert [await store.queue_position(i) for i in ("c", "a", "b")] == [1, 2, 3]
    assert await store.queue_position("with-bot") is None
    assert await store.queue_position("unknown") is None

    await store.transition("c", T.CLAIM, agent_id=anna, now=at(5))
    assert [await store.queue_position(i) for i in ("c", "a", "b")] == [None, 1, 2]
    assert [c.id for c in await store.assigned_to(anna)] == ["c"]

    await store.transition("c", T.REQUEUE, now=at(6))  # back of the queue
    assert [await store.queue_position(i) for i in ("a", "b", "c")] == [1, 2, 3]
    assert await store.assigned_to(anna) == []


async def test_conversations_needing_requeue(store):
    anna, ben = await agent(store, "anna", "online"), await agent(store, "ben")
    limit = dt.timedelta(minutes=5)
    await assigned(store, "quiet-agent", anna, minutes=0)
    await store.add_message("quiet-agent", "visitor", "text", "hei?", now=at(1))
    await assigned(store, "offline-agent", ben, minutes=0)
    await waiting(store, "wrote-while-queued", minutes=0)
    await store.add_message("wrote-while-queued", "visitor", "text", "onko ketään?", now=at(0.5))
    await store.transition("wrote-while-queued", T.CLAIM, agent_id=anna, now=at(10))

    async def due(minutes: float) -> List[str]:
        return sorted(c.id for c in await store.conversations_needing_requeue(at(minutes), limit, [ben]))

    assert await due(5.5) == ["offline-agent"]
    assert await due(6) == ["offline-agent", "quiet-agent"]
    await store.add_message("quiet-agent", "agent", "text", "Hei, autan mielelläni", agent_id=anna, now=at(7))
    assert await due(12) == ["offline-agent"]  # answered; the other was only claimed at 10
    assert await due(15) == ["offline-agent", "wrote-while-queued"]
    await store.add_message("quiet-agent", "visitor", "text", "entä sitten?", now=at(16))
    assert await due(21) == ["offline-agent", "quiet-agent", "wrote-while-queued"]
    assert [c.id for c in await store.conversations_needing_requeue(at(21), limit, [])] == [
        "wrote-while-queued",
        "quiet-agent",
    ]


async def test_recover_on_start_requeues_work_of_agents_who_are_not_online(store):
    anna = await agent(store, "anna", "online")
    ben = await agent(store, "ben", "away")
    cara = await agent(store, "cara")
    await assigned(store, "with-anna", anna)
    await assigned(store, "with-ben", ben)
    await assigned(store, "with-cara", cara)
    await waiting(store, "queued")

    assert await store.recover_on_start(at(30)) == 2
    assert (await store.find_conversation("with-anna")).state is S.ASSIGNED
    for conversation_id, holder in (("with-ben", ben), ("with-cara", cara)):
        conversation = await store.find_conversation(conversation_id)
        assert (conversation.state, conversation.agent_id, conversation.waiting_since) == (S.WAITING, None, at(30))
        last = (await store.events(conversation_id))[-1]
        assert (last.transition, last.from_state, last.agent_id) == (T.REQUEUE, S.ASSIGNED, holder)
    assert [c.id for c in await store.queue()] == ["queued", "with-ben", "with-cara"]
    assert await store.recover_on_start(at(31)) == 0


# agents


async def test_login_checks_the_password_and_never_hands_out_the_hash(store):
    anna = await agent(store, "anna")
    for _ in range(10):  # no lockout in the store: the backoff is liveagent/login_backoff.py's
        assert await store.verify_login("anna", "wrong", NOW) is None
    verified = await store.verify_login("anna", "pw-anna", NOW)
    assert verified is not None and verified.id == anna and verified.active
    assert not hasattr(verified, "password_hash")
    assert await store.verify_login("nobody", "pw-anna", NOW) is None


async def test_agents_presence_and_roles(store):
    anna = await agent(store, "anna", "online", role="supervisor")
    ben = await agent(store, "ben", "away")
    await agent(store, "cara", role="editor")
    with pytest.raises(ValueError):
        await store.create_agent("anna", "Anna", "x", "agent")
    with pytest.raises(ValueError):
        await store.create_agent("dave", "Dave", "x", "admin")
    with pytest.raises(ValueError):
        await store.set_presence(anna, "busy", NOW)
    with pytest.raises(NotFound):
        await store.set_presence(999, "online", NOW)

    assert [a.id for a in await store.list_agents(online_only=True)] == [anna]
    assert [a.username for a in await store.list_agents()] == ["anna", "ben", "cara"]
    updated = await store.set_presence(ben, "offline", at(3))
    assert (updated.presence, updated.last_seen_at) == ("offline", at(3))
    await store.touch_agent(anna, at(4))
    assert (await store.get_agent(anna)).last_seen_at == at(4)
    assert (await store.get_agent(anna)).role == "supervisor"
    assert await store.get_agent(999) is None


# read marks


async def test_read_marks_only_move_forward_and_drive_unread_counts(store):
    anna, ben = await agent(store, "anna"), await agent(store, "ben")
    await assigned(store, "mine", anna)
    await assigned(store, "quiet", anna)
    await assigned(store, "bens", ben)
    visitor = [await store.add_message("mine", "visitor", "text", f"viesti {n}") for n in range(3)]
    await store.add_message("mine", "agent", "text", "vastaus", agent_id=anna)
    await store.add_message("bens", "visitor", "text", "hei")

    assert await store.unread_counts(anna) == {"mine": 3, "quiet": 0}
    assert await store.mark_read(anna, "mine", visitor[1].id) == visitor[1].id
    assert await store.unread_counts(anna) == {"mine": 1, "quiet": 0}
    assert await store.mark_read(anna, "mine", visitor[0].id) == visitor[1].id  # never backwards
    assert await store.unread_counts(anna) == {"mine": 1, "quiet": 0}
    await store.mark_read(anna, "mine", visitor[2].id)
    assert await store.unread_counts(anna) == {"mine": 0, "quiet": 0}
    assert await store.unread_counts(ben) == {"bens": 1}


# canned replies, tickets, ratings


async def test_canned_replies_crud(store):
    anna = await agent(store, "anna", role="supervisor")
    hours = await store.create_canned_reply("Aukioloajat", "Palvelemme arkisin 8-16.", updated_by=anna, now=at(1))
    thanks = await store.create_canned_reply("Kiitos", "Kiitos yhteydenotosta!", now=at(2))
    assert await store.list_canned_replies() == [hours, thanks]
    assert await store.get_canned_reply(hours.id) == hours

    changed = await store.update_canned_reply(hours.id, "Aukioloajat", "Arkisin 9-17.", updated_by=anna, now=at(3))
    assert (changed.text, changed.updated_by, changed.updated_at) == ("Arkisin 9-17.", anna, at(3))
    assert await store.update_canned_reply(999, "x", "y") is None
    assert await store.delete_canned_reply(thanks.id)
    assert not await store.delete_canned_reply(thanks.id)
    assert await store.list_canned_replies() == [changed]
    assert await store.get_canned_reply(thanks.id) is None


async def test_tickets(store):
    anna, ben = await agent(store, "anna"), await agent(store, "ben")
    await store.get_or_create_conversation("c1")
    first = await store.create_ticket("c1", "Maija", "maija@example.com", "Soittakaa huomenna", now=at(1))
    second = await store.create_ticket(None, "Pekka", "040 123 4567", "Kysymys laskusta", now=at(2))
    assert await store.list_tickets() == [first, second]

    handled = await store.mark_ticket_handled(first.id, anna, at(3))
    assert (handled.handled_by, handled.handled_at) == (anna, at(3))
    again = await store.mark_ticket_handled(first.id, ben, at(4))
    assert (again.handled_by, again.handled_at) == (anna, at(3))  # the first handler is kept
    assert await store.mark_ticket_handled(999, anna, at(4)) is None
    assert await store.list_tickets(unhandled_only=True) == [second]


async def test_ratings(store):
    await store.get_or_create_conversation("c1")
    assert (await store.set_rating("c1", 5)).rating == 5
    assert (await store.set_rating("c1", 1)).rating == 1
    for bad in (0, 6, 3.5, True, "4"):
        with pytest.raises(ValueError):
            await store.set_rating("c1", bad)
    with pytest.raises(NotFound):
        await store.set_rating("nobody", 3)


# restart


async def test_a_restart_keeps_conversations_messages_and_read_marks(database_url):
    first = await Store.open(database_url, hasher=FAST_HASHER)
    anna = await agent(first, "anna", "online")
    await waiting(first, "queued", minutes=1)
    await assigned(first, "talking", anna, minutes=2)
    sent = [
        await first.add_message("talking", "visitor", "text", "hei", now=at(3)),
        await first.add_message("talking", "agent", "note", "sisäinen", agent_id=anna, now=at(4)),
        await first.add_message("talking", "visitor", "text", "oletko siellä?", now=at(5)),
    ]
    await first.mark_read(anna, "talking", sent[0].id)
    before = (await first.find_conversation("queued"), await first.find_conversation("talking"))
    await first.close()

    second = await Store.open(database_url, hasher=FAST_HASHER)  # migrations run again: a no-op
    try:
        assert (await second.find_conversation("queued"), await second.find_conversation("talking")) == before
        assert [c.id for c in await second.queue()] == ["queued"]
        assert [c.id for c in await second.assigned_to(anna)] == ["talking"]
        assert await second.transcript("talking") == sent
        assert await second.unread_counts(anna) == {"talking": 1}
        assert await second.mark_read(anna, "talking", 0) == sent[0].id
        assert (await second.get_agent(anna)).presence == "online"
        assert await second.verify_login("anna", "pw-anna", NOW) is not None
    finally:
        await second.close()
