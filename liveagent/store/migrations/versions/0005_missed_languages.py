"""Missed messages in other languages (issue 15): the reason other_language and each message's language.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

OLD_REASONS = "reason IN ('fallback', 'low_confidence', 'escalation')"
NEW_REASONS = "reason IN ('fallback', 'low_confidence', 'escalation', 'other_language')"


def upgrade() -> None:
    op.add_column("missed_messages", sa.Column("language", sa.String(16), nullable=True))
    # A CHECK constraint cannot be altered in place on SQLite: batch mode copies the table. The name is
    # given as the naming convention makes it ("ck_%(table_name)s_%(constraint_name)s" with "reason").
    with op.batch_alter_table("missed_messages") as batch:
        batch.drop_constraint("ck_missed_messages_reason", type_="check")
        batch.create_check_constraint("reason", NEW_REASONS)


def downgrade() -> None:
    op.execute("DELETE FROM missed_messages WHERE reason = 'other_language'")
    with op.batch_alter_table("missed_messages") as batch:
        batch.drop_constraint("ck_missed_messages_reason", type_="check")
        batch.create_check_constraint("reason", OLD_REASONS)
    op.drop_column("missed_messages", "language")
