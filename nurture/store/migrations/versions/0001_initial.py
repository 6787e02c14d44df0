"""Initial schema: accounts, leads, enrollments, messages, events, stage changes.

Revision ID: 0001
Revises:
Create Date: 2026-11-23

Column types are spelled out here rather than imported from nurture.store, so this file keeps
meaning what it meant when it was written. Identical in meaning on SQLite and PostgreSQL:
ids are INTEGER PRIMARY KEY (SQLite's rowid) or BIGSERIAL; times are DATETIME holding UTC or
TIMESTAMP WITH TIME ZONE (nurture.store.types.UTCDateTime reads both back as aware UTC);
documents are JSON or JSONB. No server defaults: the application sets every value.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC_TIME = sa.DateTime(timezone=True)
DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

# A lead has at most one live enrollment: a partial unique index on both backends.
LIVE_ENROLLMENT = sa.text("status IN ('active', 'waiting_for_event')")
IN_FLIGHT_MESSAGE = sa.text("status = 'sending'")
QUEUED_MESSAGE = sa.text("status = 'queued'")


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("id", ID, nullable=False),
        sa.Column("domain", sa.String(253), nullable=False),
        sa.Column("name", sa.String(200), nullable=True),
        sa.Column("attributes", DOCUMENT, nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("updated_at", UTC_TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounts")),
        sa.UniqueConstraint("domain", name=op.f("uq_accounts_domain")),
    )

    op.create_table(
        "leads",
        sa.Column("id", ID, nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("first_name", sa.String(100), nullable=True),
        sa.Column("last_name", sa.String(100), nullable=True),
        sa.Column("title", sa.String(200), nullable=True),
        sa.Column("company", sa.String(200), nullable=True),
        sa.Column("country", sa.String(2), nullable=True),
        sa.Column("time_zone", sa.String(64), nullable=False),
        sa.Column("account_id", ID, nullable=True),
        sa.Column("attributes", DOCUMENT, nullable=False),
        sa.Column("stage", sa.String(40), nullable=False),
        sa.Column("contact_status", sa.String(20), nullable=False),
        sa.Column("source", sa.String(100), nullable=True),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("updated_at", UTC_TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_leads")),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_leads_account_id_accounts")
        ),
        sa.UniqueConstraint("email", name=op.f("uq_leads_email")),
    )
    op.create_index(op.f("ix_leads_account_id"), "leads", ["account_id"])
    op.create_index(op.f("ix_leads_stage_id"), "leads", ["stage", "id"])

    op.create_table(
        "enrollments",
        sa.Column("id", ID, nullable=False),
        sa.Column("lead_id", ID, nullable=False),
        sa.Column("sequence_id", sa.String(100), nullable=False),
        sa.Column("stage", sa.String(40), nullable=False),
        sa.Column("current_step", sa.String(100), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("exit_reason", sa.String(200), nullable=True),
        sa.Column("next_run_at", UTC_TIME, nullable=True),
        sa.Column("claimed_until", UTC_TIME, nullable=True),
        sa.Column("step_entered_at", UTC_TIME, nullable=True),
        sa.Column("config_version", sa.String(64), nullable=False),
        sa.Column("started_at", UTC_TIME, nullable=False),
        sa.Column("updated_at", UTC_TIME, nullable=False),
        sa.Column("ended_at", UTC_TIME, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enrollments")),
        sa.ForeignKeyConstraint(
            ["lead_id"], ["leads.id"], name=op.f("fk_enrollments_lead_id_leads")
        ),
    )
    op.create_index(op.f("ix_enrollments_lead_id"), "enrollments", ["lead_id"])
    # The scheduler's hot query: due live enrollments by next_run_at (partial: cost follows
    # the live enrollments, not every enrollment ever made).
    op.create_index(
        op.f("ix_enrollments_due"),
        "enrollments",
        ["next_run_at"],
        sqlite_where=LIVE_ENROLLMENT,
        postgresql_where=LIVE_ENROLLMENT,
    )
    op.create_index(
        op.f("uq_enrollments_live_lead"),
        "enrollments",
        ["lead_id"],
        unique=True,
        sqlite_where=LIVE_ENROLLMENT,
        postgresql_where=LIVE_ENROLLMENT,
    )

    op.create_table(
        "messages",
        sa.Column("id", ID, nullable=False),
        sa.Column("enrollment_id", ID, nullable=False),
        sa.Column("lead_id", ID, nullable=False),
        sa.Column("sequence_id", sa.String(100), nullable=False),
        sa.Column("step_id", sa.String(100), nullable=False),
        sa.Column("occurrence", sa.Integer(), nullable=False),
        sa.Column("config_version", sa.String(64), nullable=False),
        sa.Column("to_address", sa.String(320), nullable=False),
        sa.Column("subject", sa.String(500), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("mime", sa.LargeBinary(), nullable=True),
        sa.Column("provider", sa.String(40), nullable=True),
        sa.Column("provider_message_id", sa.String(255), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("updated_at", UTC_TIME, nullable=False),
        sa.Column("sent_at", UTC_TIME, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_messages")),
        sa.ForeignKeyConstraint(
            ["enrollment_id"],
            ["enrollments.id"],
            name=op.f("fk_messages_enrollment_id_enrollments"),
        ),
        sa.ForeignKeyConstraint(["lead_id"], ["leads.id"], name=op.f("fk_messages_lead_id_leads")),
        # One step, one email (DESIGN invariant 3).
        sa.UniqueConstraint(
            "enrollment_id",
            "step_id",
            "occurrence",
            name=op.f("uq_messages_enrollment_id_step_id_occurrence"),
        ),
    )
    op.create_index(op.f("ix_messages_lead_id_created_at"), "messages", ["lead_id", "created_at"])
    op.create_index(op.f("ix_messages_provider_message_id"), "messages", ["provider_message_id"])
    # The reconciler's query: messages handed to a provider with no answer recorded.
    op.create_index(
        op.f("ix_messages_in_flight"),
        "messages",
        ["updated_at"],
        sqlite_where=IN_FLIGHT_MESSAGE,
        postgresql_where=IN_FLIGHT_MESSAGE,
    )
    # Finding messages whose deliver job the broker lost: queued, untouched for long.
    op.create_index(
        op.f("ix_messages_queued"),
        "messages",
        ["updated_at"],
        sqlite_where=QUEUED_MESSAGE,
        postgresql_where=QUEUED_MESSAGE,
    )

    op.create_table(
        "events",
        sa.Column("id", ID, nullable=False),
        sa.Column("lead_id", ID, nullable=True),
        sa.Column("message_id", ID, nullable=True),
        sa.Column("type", sa.String(40), nullable=False),
        sa.Column("source", sa.String(40), nullable=False),
        sa.Column("source_event_id", sa.String(255), nullable=False),
        sa.Column("occurred_at", UTC_TIME, nullable=False),
        sa.Column("received_at", UTC_TIME, nullable=False),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("user_agent", sa.Text(), nullable=True),
        sa.Column("ip", sa.String(64), nullable=True),
        sa.Column("machine", sa.Boolean(), nullable=False),
        sa.Column("machine_reason", sa.String(100), nullable=True),
        sa.Column("data", DOCUMENT, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
        sa.ForeignKeyConstraint(["lead_id"], ["leads.id"], name=op.f("fk_events_lead_id_leads")),
        sa.ForeignKeyConstraint(
            ["message_id"], ["messages.id"], name=op.f("fk_events_message_id_messages")
        ),
        # Provider events are deduplicated by their own id.
        sa.UniqueConstraint(
            "source", "source_event_id", name=op.f("uq_events_source_source_event_id")
        ),
    )
    op.create_index(op.f("ix_events_lead_id_occurred_at"), "events", ["lead_id", "occurred_at"])
    op.create_index(op.f("ix_events_message_id"), "events", ["message_id"])

    op.create_table(
        "stage_changes",
        sa.Column("id", ID, nullable=False),
        sa.Column("lead_id", ID, nullable=False),
        sa.Column("from_stage", sa.String(40), nullable=True),
        sa.Column("to_stage", sa.String(40), nullable=False),
        sa.Column("reason", DOCUMENT, nullable=False),
        sa.Column("event_id", ID, nullable=True),
        sa.Column("config_version", sa.String(64), nullable=False),
        sa.Column("at", UTC_TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stage_changes")),
        sa.ForeignKeyConstraint(
            ["lead_id"], ["leads.id"], name=op.f("fk_stage_changes_lead_id_leads")
        ),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name=op.f("fk_stage_changes_event_id_events")
        ),
    )
    op.create_index(op.f("ix_stage_changes_lead_id_at"), "stage_changes", ["lead_id", "at"])


def downgrade() -> None:
    # Dropping a table drops its indexes; children go before their parents.
    for table in ("stage_changes", "events", "messages", "enrollments", "leads", "accounts"):
        op.drop_table(table)
