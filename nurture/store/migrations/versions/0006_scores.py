"""Cached scores on leads and accounts, when each lead entered its stage, and when decay
alone could move it (the periodic review).

The score is a pure function of the lead's events, the model and the time (DESIGN invariant
2); these columns are its cache, written whenever the lead is rescored, so reports and
lists need not replay events. ``stage_entered_at`` bounds which hand-raiser events still
count (an old demo request must not lift a recycled lead again). ``score_review_at`` is set
only for leads that a fall-back rule could move as their engagement decays, so the review
job touches those leads and not every lead.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23

Types spelled out as in 0001, so this file keeps meaning what it meant when written.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("leads") as batch:
        batch.add_column(sa.Column("fit_points", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("fit_grade", sa.String(16), nullable=True))
        batch.add_column(sa.Column("engagement", sa.Float(), nullable=True))
        batch.add_column(sa.Column("scored_at", UTC_TIME, nullable=True))
        batch.add_column(sa.Column("score_version", sa.String(64), nullable=True))
        batch.add_column(sa.Column("stage_entered_at", UTC_TIME, nullable=True))
        batch.add_column(sa.Column("score_review_at", UTC_TIME, nullable=True))
    op.create_index(op.f("ix_leads_score_review_at"), "leads", ["score_review_at"])
    op.execute("UPDATE leads SET stage_entered_at = created_at")
    with op.batch_alter_table("accounts") as batch:
        batch.add_column(sa.Column("engagement", sa.Float(), nullable=True))
        batch.add_column(sa.Column("scored_at", UTC_TIME, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.drop_column("scored_at")
        batch.drop_column("engagement")
    op.drop_index(op.f("ix_leads_score_review_at"), table_name="leads")
    with op.batch_alter_table("leads") as batch:
        for column in (
            "score_review_at",
            "stage_entered_at",
            "score_version",
            "scored_at",
            "engagement",
            "fit_grade",
            "fit_points",
        ):
            batch.drop_column(column)
