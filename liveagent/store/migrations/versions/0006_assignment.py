"""Automatic assignment: agents' capacity and missed response-time limits; queue priority and times.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-10
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def _when() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    # Plain ALTERs, as in 0004: a batch copy of the table would rename its CHECK constraints.
    op.add_column("agents", sa.Column("capacity", sa.Integer(), server_default="3", nullable=False))
    op.add_column("agents", sa.Column("missed_in_row", sa.Integer(), server_default="0", nullable=False))
    op.add_column("agents", sa.Column("last_assigned_at", _when(), nullable=True))
    op.add_column("conversations", sa.Column("priority", sa.Integer(), server_default="0", nullable=False))
    op.add_column("conversations", sa.Column("queued_at", _when(), nullable=True))
    op.add_column("conversations", sa.Column("assigned_at", _when(), nullable=True))
    op.add_column("conversations", sa.Column("missed_by", sa.Integer(), nullable=True))
    # chats held or waiting when this runs: their times count from their last change (the best known)
    op.execute("UPDATE conversations SET assigned_at = updated_at WHERE state = 'assigned'")
    op.execute("UPDATE conversations SET queued_at = waiting_since WHERE state = 'waiting'")


def downgrade() -> None:
    for column in ("missed_by", "assigned_at", "queued_at", "priority"):
        op.drop_column("conversations", column)
    for column in ("last_assigned_at", "missed_in_row", "capacity"):
        op.drop_column("agents", column)
