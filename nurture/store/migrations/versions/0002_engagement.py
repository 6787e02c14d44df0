"""Engagement: leads can be paused.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30

Types spelled out as in 0001, so this file keeps meaning what it meant when written.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    # batch_alter_table so SQLite (which cannot ALTER most things) gets the same schema.
    with op.batch_alter_table("leads") as batch:
        batch.add_column(sa.Column("paused_until", UTC_TIME, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("leads") as batch:
        batch.drop_column("paused_until")
