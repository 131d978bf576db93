"""Contact requests remember the customer whose identity was verified when they were left.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ALTER, as in 0004: a batch copy of the table would rename its constraints.
    op.add_column("tickets", sa.Column("customer_id", sa.String(128), nullable=True))


def downgrade() -> None:
    op.drop_column("tickets", "customer_id")
