"""``leads.last_engaged_at``: the lead's latest real (non-machine) engagement, or its
creation when it never engaged, indexed so the sunset finds quiet leads by a range scan
instead of reading every lead's events.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_TIME = sa.DateTime(timezone=True)
DELIVERY = "('delivered', 'deferred', 'dropped', 'bounced')"


def upgrade() -> None:
    with op.batch_alter_table("leads") as batch:
        batch.add_column(sa.Column("last_engaged_at", UTC_TIME, nullable=True))
    op.execute(
        "UPDATE leads SET last_engaged_at = COALESCE((SELECT MAX(e.occurred_at) FROM events e"
        f" WHERE e.lead_id = leads.id AND e.machine = false AND e.type NOT IN {DELIVERY}),"
        " created_at)"
    )
    op.create_index(op.f("ix_leads_last_engaged_at"), "leads", ["last_engaged_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_leads_last_engaged_at"), table_name="leads")
    with op.batch_alter_table("leads") as batch:
        batch.drop_column("last_engaged_at")
