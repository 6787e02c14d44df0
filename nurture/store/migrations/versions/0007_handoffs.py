"""Handoffs to sales, their feedback, the reps' live state and the notifications outbox.

A handoff is written in the transaction of the stage change that caused it, with its
notification rows (the outbox): a ``deliver_notification`` job sends each after commit, and
the scheduler finds any whose job was lost or whose retry time has come (retries live in
``next_attempt_at``, never as delayed broker messages). ``rep_states`` holds what changes at
run time (away until, today's count, the round-robin weight) and is locked per team, so two
simultaneous handoffs never take the same slot. ``accounts.owner`` makes assignment sticky.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23

Types spelled out as in 0001, so this file keeps meaning what it meant when written.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_TIME = sa.DateTime(timezone=True)
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.add_column(sa.Column("owner", sa.String(100), nullable=True))
    op.create_table(
        "handoffs",
        sa.Column("id", ID, nullable=False),
        sa.Column("lead_id", ID, nullable=False),
        sa.Column("stage_change_id", ID, nullable=True),
        sa.Column("stage", sa.String(40), nullable=False),
        sa.Column("owner", sa.String(100), nullable=True),
        sa.Column("team", sa.String(100), nullable=True),
        sa.Column("assignment", DOCUMENT, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("outcome_reason", sa.String(40), nullable=True),
        sa.Column("assigned_at", UTC_TIME, nullable=False),
        sa.Column("answered_at", UTC_TIME, nullable=True),
        sa.Column("remind_at", UTC_TIME, nullable=True),
        sa.Column("reassign_at", UTC_TIME, nullable=True),
        sa.Column("reminded_at", UTC_TIME, nullable=True),
        sa.Column("reassignments", sa.Integer(), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("updated_at", UTC_TIME, nullable=False),
        sa.ForeignKeyConstraint(["lead_id"], ["leads.id"], name=op.f("fk_handoffs_lead_id_leads")),
        sa.ForeignKeyConstraint(
            ["stage_change_id"],
            ["stage_changes.id"],
            name=op.f("fk_handoffs_stage_change_id_stage_changes"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_handoffs")),
    )
    op.create_index(op.f("ix_handoffs_lead_id"), "handoffs", ["lead_id"])
    op.create_index(op.f("ix_handoffs_owner_assigned_at"), "handoffs", ["owner", "assigned_at"])
    op.create_index(op.f("ix_handoffs_status_remind_at"), "handoffs", ["status", "remind_at"])
    op.create_index(op.f("ix_handoffs_status_reassign_at"), "handoffs", ["status", "reassign_at"])
    op.create_table(
        "handoff_answers",
        sa.Column("id", ID, nullable=False),
        sa.Column("handoff_id", ID, nullable=False),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("reason", sa.String(40), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("answered_by", sa.String(200), nullable=True),
        sa.Column("via", sa.String(20), nullable=False),
        sa.Column("at", UTC_TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["handoff_id"], ["handoffs.id"], name=op.f("fk_handoff_answers_handoff_id_handoffs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_handoff_answers")),
    )
    op.create_index(op.f("ix_handoff_answers_handoff_id"), "handoff_answers", ["handoff_id"])
    op.create_table(
        "rep_states",
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("away_until", UTC_TIME, nullable=True),
        sa.Column("current_weight", sa.Integer(), nullable=False),
        sa.Column("day", sa.String(10), nullable=True),
        sa.Column("assigned_today", sa.Integer(), nullable=False),
        sa.Column("updated_at", UTC_TIME, nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_rep_states")),
    )
    op.create_table(
        "notifications",
        sa.Column("id", ID, nullable=False),
        sa.Column("handoff_id", ID, nullable=True),
        sa.Column("lead_id", ID, nullable=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("recipient", sa.String(320), nullable=True),
        sa.Column("context", DOCUMENT, nullable=False),
        sa.Column("idempotency_key", sa.String(100), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTC_TIME, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("updated_at", UTC_TIME, nullable=False),
        sa.Column("sent_at", UTC_TIME, nullable=True),
        sa.ForeignKeyConstraint(
            ["handoff_id"], ["handoffs.id"], name=op.f("fk_notifications_handoff_id_handoffs")
        ),
        sa.ForeignKeyConstraint(
            ["lead_id"], ["leads.id"], name=op.f("fk_notifications_lead_id_leads")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_notifications_idempotency_key")),
    )
    op.create_index(
        op.f("ix_notifications_status_next_attempt_at"),
        "notifications",
        ["status", "next_attempt_at"],
    )
    op.create_index(op.f("ix_notifications_handoff_id"), "notifications", ["handoff_id"])


def downgrade() -> None:
    op.drop_table("notifications")
    op.drop_table("rep_states")
    op.drop_table("handoff_answers")
    op.drop_table("handoffs")
    with op.batch_alter_table("accounts") as batch:
        batch.drop_column("owner")
