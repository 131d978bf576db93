"""Insights (docs/metrics.md): each conversation's first day, topic and bot turns; escalation reasons per
event; the indexes the period queries need (conversations by first day, contact requests by conversation,
agents' replies by conversation and time).

Existing rows are filled in: ``started_on`` from ``created_at`` (the first visitor message creates the row),
the reason of escalation events from the conversation's last escalation reason (the only one stored
before), the first escalation and claim (or automatic assignment) from the events, the start of each
current assignment (the claim or assignment that took it from the queue; a transfer keeps it), and
harvested conversations are harvested again so their topic and turns come from Rasa's tracker.

``assignment_started_at`` is not 0006's ``assigned_at`` (when the current holder got the chat, for the
response-time limit): a transfer moves that one and keeps this one, which the handle time counts from.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-10
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

REPORTING_ZONE = "Europe/Helsinki"  # liveagent.store.schema.REPORTING_ZONE when this was written
BATCH = 1000
TAKES = "'claim', 'assign'"  # the transitions that take a conversation from the queue (store/state.py)


def _backfill_started_on(bind: sa.engine.Connection) -> None:
    if bind.dialect.name == "postgresql":
        bind.execute(sa.text("UPDATE conversations SET started_on = (created_at AT TIME ZONE :zone)::date"),
                     {"zone": REPORTING_ZONE})
        return
    zone = ZoneInfo(REPORTING_ZONE)
    table = sa.table("conversations", sa.column("id", sa.String), sa.column("created_at", sa.DateTime),
                     sa.column("started_on", sa.Date))
    rows = bind.execute(sa.select(table.c.id, table.c.created_at)).fetchall()
    days = []
    for conversation_id, created_at in rows:
        if isinstance(created_at, str):  # SQLite keeps naive UTC text
            created_at = dt.datetime.fromisoformat(created_at)
        if created_at.tzinfo is None:
            created_at = created_at.replace(tzinfo=dt.timezone.utc)
        days.append({"key": conversation_id, "day": created_at.astimezone(zone).date()})
    update = table.update().where(table.c.id == sa.bindparam("key")).values(started_on=sa.bindparam("day"))
    for start in range(0, len(days), BATCH):
        bind.execute(update, days[start:start + BATCH])


def upgrade() -> None:
    # Plain ALTERs (as in 0004): a batch copy of the table would rename its CHECK constraints.
    op.add_column("conversations", sa.Column("started_on", sa.Date(), nullable=True))
    op.add_column("conversations", sa.Column("first_escalated_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("conversations", sa.Column("first_escalation_reason", sa.String(64), nullable=True))
    op.add_column("conversations", sa.Column("first_claimed_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("conversations", sa.Column("assignment_started_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("conversations", sa.Column("topic", sa.String(128), nullable=True))
    op.add_column("conversations", sa.Column("bot_turns", sa.Integer(), nullable=True))
    op.add_column("conversations", sa.Column("fallback_turns", sa.Integer(), nullable=True))
    op.add_column("conversation_events", sa.Column("reason", sa.String(64), nullable=True))
    op.add_column("conversation_events", sa.Column("span_started_at", sa.DateTime(timezone=True), nullable=True))
    bind = op.get_bind()
    _backfill_started_on(bind)
    bind.execute(sa.text(
        "UPDATE conversation_events SET reason = (SELECT c.escalation_reason FROM conversations c "
        "WHERE c.id = conversation_events.conversation_id) WHERE transition = 'escalate'"))
    escalations = "'escalate'"
    first = ("(SELECT {what} FROM conversation_events e WHERE e.conversation_id = conversations.id AND "
             "e.transition IN ({transition}) ORDER BY e.id LIMIT 1)")
    bind.execute(sa.text(
        f"UPDATE conversations SET first_escalated_at = {first.format(what='created_at', transition=escalations)}, "
        f"first_escalation_reason = {first.format(what='reason', transition=escalations)}, "
        f"first_claimed_at = {first.format(what='created_at', transition=TAKES)}"))
    # when what each event ends began: the wait (the event before), or the assignment (the last claim or
    # automatic assignment: a transfer keeps the assignment's start)
    before = ("(SELECT p.created_at FROM conversation_events p WHERE p.conversation_id = conversation_events."
              "conversation_id AND p.id < conversation_events.id {claims}ORDER BY p.id DESC LIMIT 1)")
    previous_event, last_claim = before.format(claims=""), before.format(claims=f"AND p.transition IN ({TAKES}) ")
    bind.execute(sa.text(f"UPDATE conversation_events SET span_started_at = {previous_event} "
                         "WHERE from_state = 'waiting'"))
    bind.execute(sa.text(f"UPDATE conversation_events SET span_started_at = {last_claim} "
                         "WHERE from_state = 'assigned' AND to_state <> 'assigned'"))
    bind.execute(sa.text(
        "UPDATE conversations SET assignment_started_at = (SELECT e.created_at FROM conversation_events e "
        f"WHERE e.conversation_id = conversations.id AND e.transition IN ({TAKES}) ORDER BY e.id DESC LIMIT 1) "
        "WHERE state = 'assigned'"))
    bind.execute(sa.text("UPDATE conversations SET harvested_at = NULL"))  # topics and turns from the trackers
    op.create_index("ix_conversations_started_on", "conversations", ["started_on"])
    op.create_index("ix_tickets_conversation_id", "tickets", ["conversation_id"])
    replies = sa.text("sender = 'agent' AND kind = 'text'")
    op.create_index("ix_messages_agent_replies", "messages", ["conversation_id", "created_at"],
                    postgresql_where=replies, sqlite_where=replies)


def downgrade() -> None:
    op.drop_index("ix_messages_agent_replies", table_name="messages")
    op.drop_index("ix_tickets_conversation_id", table_name="tickets")
    op.drop_index("ix_conversations_started_on", table_name="conversations")
    op.drop_column("conversation_events", "span_started_at")
    op.drop_column("conversation_events", "reason")
    op.drop_column("conversations", "fallback_turns")
    op.drop_column("conversations", "bot_turns")
    op.drop_column("conversations", "topic")
    op.drop_column("conversations", "assignment_started_at")
    op.drop_column("conversations", "first_claimed_at")
    op.drop_column("conversations", "first_escalation_reason")
    op.drop_column("conversations", "first_escalated_at")
    op.drop_column("conversations", "started_on")
