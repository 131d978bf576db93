"""Suggested answers (issue 16): the FAQ answers shown to agents for a visitor's message, and the reply
sent from one (docs/metrics.md, "Suggestions used").

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reply_suggestions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(128), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("topic", sa.String(128), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("shown_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_message_id", sa.Integer(), nullable=True),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("edited", sa.Boolean(), nullable=True),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversations.id"],
                                name="fk_reply_suggestions_conversation_id_conversations"),
        sa.ForeignKeyConstraint(["message_id"], ["messages.id"], name="fk_reply_suggestions_message_id_messages"),
        sa.ForeignKeyConstraint(["used_message_id"], ["messages.id"],
                                name="fk_reply_suggestions_used_message_id_messages"),
        sa.PrimaryKeyConstraint("id", name="pk_reply_suggestions"),
        sa.UniqueConstraint("message_id", "topic", name="uq_reply_suggestions_message_topic"),
    )
    op.create_index("ix_reply_suggestions_conversation_id", "reply_suggestions", ["conversation_id"])


def downgrade() -> None:
    op.drop_index("ix_reply_suggestions_conversation_id", table_name="reply_suggestions")
    op.drop_table("reply_suggestions")
