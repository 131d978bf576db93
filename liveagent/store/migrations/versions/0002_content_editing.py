"""Content editing: change log, missed-messages inbox, publish runs; conversations.harvested_at.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _when() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("conversations") as batch:  # batch: SQLite cannot ALTER much in place
        batch.add_column(sa.Column("harvested_at", _when(), nullable=True))
    op.create_table(
        "content_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("topic", sa.String(64), nullable=False),
        sa.Column("path", sa.String(255), nullable=False),
        sa.Column("summary", sa.String(500), nullable=False),
        sa.Column("diff", sa.Text(), nullable=False),
        sa.Column("created_at", _when(), nullable=False),
        sa.ForeignKeyConstraint(["agent_id"], ["agents.id"], name="fk_content_changes_agent_id_agents"),
        sa.PrimaryKeyConstraint("id", name="pk_content_changes"),
    )
    op.create_table(
        "missed_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(128), nullable=False),
        sa.Column("event_timestamp", sa.Float(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("reason", sa.String(16), nullable=False),
        sa.Column("guess", sa.String(128), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("status", sa.String(16), server_default="open", nullable=False),
        sa.Column("topic", sa.String(64), nullable=True),
        sa.Column("resolved_by", sa.Integer(), nullable=True),
        sa.Column("resolved_at", _when(), nullable=True),
        sa.Column("created_at", _when(), nullable=False),
        sa.CheckConstraint("reason IN ('fallback', 'low_confidence', 'escalation')", name="ck_missed_messages_reason"),
        sa.CheckConstraint("status IN ('open', 'added', 'dismissed')", name="ck_missed_messages_status"),
        sa.ForeignKeyConstraint(
            ["conversation_id"], ["conversations.id"], name="fk_missed_messages_conversation_id_conversations"
        ),
        sa.ForeignKeyConstraint(["resolved_by"], ["agents.id"], name="fk_missed_messages_resolved_by_agents"),
        sa.PrimaryKeyConstraint("id", name="pk_missed_messages"),
        sa.UniqueConstraint("conversation_id", "event_timestamp", name="uq_missed_messages_event"),
    )
    op.create_index("ix_missed_messages_status_id", "missed_messages", ["status", "id"])
    op.create_table(
        "publish_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("stage", sa.String(16), nullable=False),
        sa.Column("percent", sa.Integer(), server_default="0", nullable=False),
        sa.Column("detail", sa.String(500), server_default="", nullable=False),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("details", sa.Text(), nullable=True),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("created_at", _when(), nullable=False),
        sa.Column("finished_at", _when(), nullable=True),
        sa.CheckConstraint("kind IN ('publish', 'rollback')", name="ck_publish_runs_kind"),
        sa.CheckConstraint("state IN ('running', 'succeeded', 'failed')", name="ck_publish_runs_state"),
        sa.ForeignKeyConstraint(["agent_id"], ["agents.id"], name="fk_publish_runs_agent_id_agents"),
        sa.PrimaryKeyConstraint("id", name="pk_publish_runs"),
    )


def downgrade() -> None:
    op.drop_table("publish_runs")
    op.drop_index("ix_missed_messages_status_id", table_name="missed_messages")
    op.drop_table("missed_messages")
    op.drop_table("content_changes")
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("harvested_at")
