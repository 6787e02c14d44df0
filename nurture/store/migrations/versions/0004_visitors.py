"""Website visitors: ``events.visitor_id`` and the ``visitors`` table (visitor -> lead).

Anonymous website events are stored with the browser's first-party visitor id and no lead;
when the visitor is identified (a form submit carrying both ids) they join the lead by it.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23

Types spelled out as in 0001, so this file keeps meaning what it meant when written.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_TIME = sa.DateTime(timezone=True)
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    # batch_alter_table: on SQLite, ADD COLUMN runs in place; on PostgreSQL, plain ALTERs.
    with op.batch_alter_table("events") as batch:
        batch.add_column(sa.Column("visitor_id", sa.String(64), nullable=True))
    op.create_index(op.f("ix_events_visitor_id"), "events", ["visitor_id"])
    op.create_table(
        "visitors",
        sa.Column("visitor_id", sa.String(64), nullable=False),
        sa.Column("lead_id", ID, nullable=True),
        sa.Column("first_seen_at", UTC_TIME, nullable=False),
        sa.Column("last_seen_at", UTC_TIME, nullable=False),
        sa.Column("identified_at", UTC_TIME, nullable=True),
        sa.ForeignKeyConstraint(["lead_id"], ["leads.id"], name=op.f("fk_visitors_lead_id_leads")),
        sa.PrimaryKeyConstraint("visitor_id", name=op.f("pk_visitors")),
    )
    op.create_index(op.f("ix_visitors_lead_id"), "visitors", ["lead_id"])


def downgrade() -> None:
    op.drop_table("visitors")
    op.drop_index(op.f("ix_events_visitor_id"), table_name="events")
    with op.batch_alter_table("events") as batch:
        batch.drop_column("visitor_id")
