"""Initial live-agent schema: agents, conversations, messages, events, read marks, canned replies, tickets.

Written out by hand (not imported from schema.py) so this revision keeps describing the first schema
after schema.py moves on.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _when() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "agents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("display_name", sa.String(64), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("presence", sa.String(16), server_default="offline", nullable=False),
        sa.Column("last_seen_at", _when(), nullable=True),
        sa.Column("failed_logins", sa.Integer(), server_default="0", nullable=False),
        sa.Column("locked_until", _when(), nullable=True),
        sa.CheckConstraint("role IN ('agent', 'supervisor', 'editor')", name="ck_agents_role"),
        sa.CheckConstraint("presence IN ('online', 'away', 'offline')", name="ck_agents_presence"),
        sa.PrimaryKeyConstraint("id", name="pk_agents"),
        sa.UniqueConstraint("username", name="uq_agents_username"),
    )
    op.create_table(
        "conversations",
        sa.Column("id", sa.String(128), nullable=False),
        sa.Column("state", sa.String(16), server_default="bot", nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), server_default="0", nullable=False),
        sa.Column("escalation_reason", sa.String(64), nullable=True),
        sa.Column("handoff", sa.Text(), nullable=True),
        sa.Column("customer_id", sa.String(64), nullable=True),
        sa.Column("created_at", _when(), nullable=False),
        sa.Column("updated_at", _when(), nullable=False),
        sa.Column("waiting_since", _when(), nullable=True),
        sa.Column("last_visitor_message_at", _when(), nullable=True),
        sa.Column("last_agent_message_at", _when(), nullable=True),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.CheckConstraint("state IN ('bot', 'waiting', 'assigned', 'closed')", name="ck_conversations_state"),
        sa.CheckConstraint("rating BETWEEN 1 AND 5", name="ck_conversations_rating"),
        sa.ForeignKeyConstraint(["agent_id"], ["agents.id"], name="fk_conversations_agent_id_agents"),
        sa.PrimaryKeyConstraint("id", name="pk_conversations"),
    )
    op.create_index("ix_conversations_agent_id", "conversations", ["agent_id"])
    op.create_index("ix_conversations_state_waiting_since", "conversations", ["state", "waiting_since"])
    op.create_table(
        "messages",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("conversation_id", sa.String(128), nullable=False),
        sa.Column("sender", sa.String(16), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=True),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("created_at", _when(), nullable=False),
        sa.CheckConstraint("sender IN ('visitor', 'bot', 'agent', 'system')", name="ck_messages_sender"),
        sa.CheckConstraint("kind IN ('text', 'status', 'note')", name="ck_messages_kind"),
        sa.ForeignKeyConstraint(["agent_id"], ["agents.id"], name="fk_messages_agent_id_agents"),
        sa.ForeignKeyConstraint(
            ["conversation_id"], ["conversations.id"], name="fk_messages_conversation_id_conversations"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_messages"),
    )
    op.create_index("ix_messages_conversation_id_id", "messages", ["conversation_id", "id"])
    op.create_table(
        "conversation_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("conversation_id", sa.String(128), nullable=False),
        sa.Column("transition", sa.String(32), nullable=False),
        sa.Column("from_state", sa.String(16), nullable=False),
        sa.Column("to_state", sa.String(16), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("created_at", _when(), nullable=False),
        sa.ForeignKeyConstraint(["agent_id"], ["agents.id"], name="fk_conversation_events_agent_id_agents"),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name="fk_conversation_events_conversation_id_conversations",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_conversation_events"),
    )
    op.create_index("ix_conversation_events_conversation_id_id", "conversation_events", ["conversation_id", "id"])
    op.create_table(
        "read_marks",
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(128), nullable=False),
        sa.Column("last_read_message_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["agent_id"], ["agents.id"], name="fk_read_marks_agent_id_agents"),
        sa.ForeignKeyConstraint(
            ["conversation_id"], ["conversations.id"], name="fk_read_marks_conversation_id_conversations"
        ),
        sa.PrimaryKeyConstraint("agent_id", "conversation_id", name="pk_read_marks"),
    )
    op.create_table(
        "canned_replies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.Column("updated_at", _when(), nullable=False),
        sa.ForeignKeyConstraint(["updated_by"], ["agents.id"], name="fk_canned_replies_updated_by_agents"),
        sa.PrimaryKeyConstraint("id", name="pk_canned_replies"),
    )
    op.create_table(
        "tickets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(128), nullable=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("contact", sa.String(200), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("created_at", _when(), nullable=False),
        sa.Column("handled_by", sa.Integer(), nullable=True),
        sa.Column("handled_at", _when(), nullable=True),
        sa.ForeignKeyConstraint(
            ["conversation_id"], ["conversations.id"], name="fk_tickets_conversation_id_conversations"
        ),
        sa.ForeignKeyConstraint(["handled_by"], ["agents.id"], name="fk_tickets_handled_by_agents"),
        sa.PrimaryKeyConstraint("id", name="pk_tickets"),
    )


def downgrade() -> None:
    for table in (
        "tickets",
        "canned_replies",
        "read_marks",
        "conversation_events",
        "messages",
        "conversations",
        "agents",
    ):
        op.drop_table(table)
