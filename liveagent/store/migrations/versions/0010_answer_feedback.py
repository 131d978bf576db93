"""Visitors' feedback (issue 17): each bot message's topic and model; the "was this answer helpful?"
yes/no per answer; a comment with the end-of-chat rating.

Existing bot messages keep no topic (Rasa did not label them then): feedback is offered on labelled
answers only.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ALTERs (as in 0004 and 0008): a batch copy of the table would rename its CHECK constraints.
    op.add_column("messages", sa.Column("topic", sa.String(128), nullable=True))
    op.add_column("messages", sa.Column("model_id", sa.String(128), nullable=True))
    op.add_column("conversations", sa.Column("rating_comment", sa.Text(), nullable=True))
    answers = sa.text("topic IS NOT NULL")
    op.create_index("ix_messages_answers", "messages", ["created_at"], postgresql_where=answers,
                    sqlite_where=answers)
    op.create_table(
        "answer_feedback",
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(128), nullable=False),
        sa.Column("helpful", sa.Boolean(), nullable=False),
        sa.Column("topic", sa.String(128), nullable=True),
        sa.Column("model_id", sa.String(128), nullable=True),
        sa.Column("started_on", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["message_id"], ["messages.id"],
                                name="fk_answer_feedback_message_id_messages"),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversations.id"],
                                name="fk_answer_feedback_conversation_id_conversations"),
        sa.PrimaryKeyConstraint("message_id", name="pk_answer_feedback"),
    )
    op.create_index("ix_answer_feedback_conversation_id", "answer_feedback", ["conversation_id"])
    op.create_index("ix_answer_feedback_started_on", "answer_feedback", ["started_on", "topic", "helpful"])


def downgrade() -> None:
    op.drop_index("ix_answer_feedback_started_on", table_name="answer_feedback")
    op.drop_index("ix_answer_feedback_conversation_id", table_name="answer_feedback")
    op.drop_table("answer_feedback")
    op.drop_index("ix_messages_answers", table_name="messages")
    op.drop_column("conversations", "rating_comment")
    op.drop_column("messages", "model_id")
    op.drop_column("messages", "topic")
