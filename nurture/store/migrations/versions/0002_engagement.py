"""Engagement: paused leads, when the contact status last changed, bounce kind on events,
and the Mailgun webhook token store.

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
    # batch_alter_table: on SQLite, ADD COLUMN runs in place; on PostgreSQL, plain ALTERs.
    with op.batch_alter_table("leads") as batch:
        batch.add_column(sa.Column("paused_until", UTC_TIME, nullable=True))
        batch.add_column(sa.Column("contact_status_changed_at", UTC_TIME, nullable=True))
    with op.batch_alter_table("events") as batch:
        batch.add_column(sa.Column("bounce", sa.String(4), nullable=True))
    op.create_table(
        "webhook_tokens",
        sa.Column("token", sa.String(255), nullable=False),
        sa.Column("seen_at", UTC_TIME, nullable=False),
        sa.PrimaryKeyConstraint("token", name=op.f("pk_webhook_tokens")),
    )
    op.create_index(op.f("ix_webhook_tokens_seen_at"), "webhook_tokens", ["seen_at"])


def downgrade() -> None:
    op.drop_table("webhook_tokens")
    with op.batch_alter_table("events") as batch:
        batch.drop_column("bounce")
    with op.batch_alter_table("leads") as batch:
        batch.drop_column("contact_status_changed_at")
        batch.drop_column("paused_until")
