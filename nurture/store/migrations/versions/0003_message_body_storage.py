"""Message bodies stored uncompressed on PostgreSQL.

A queued message keeps its MIME (about 8 KB) only until it is sent, when it is cleared.
PostgreSQL compresses such values (pglz) on the way in, which cost more CPU per email than
any other part of the database's work in bench/send_loop.py, to save disk space the row
gives back minutes later. ``STORAGE EXTERNAL`` keeps the value out of line, uncompressed.
SQLite has no such setting: nothing to do there.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE messages ALTER COLUMN mime SET STORAGE EXTERNAL")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE messages ALTER COLUMN mime SET STORAGE EXTENDED")
