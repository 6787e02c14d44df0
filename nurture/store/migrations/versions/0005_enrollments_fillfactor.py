"""Room on each enrollments page for the scheduler's claims (PostgreSQL fillfactor 80).

Every tick sets ``claimed_until`` on the due enrollments. That column is in no index, so the
update can be HOT (a new row version on the same page, no index entries), but only where
the page has room; on full pages every claim writes new entries into each of the table's
indexes, and the tick slows as the table grows. With 20% of each page kept free, claiming
1,000 due enrollments took the same time with 10k and 1M enrolled (bench/send_loop.py:
about 14 ms both, against 27-36 ms at 1M before). Applies to pages written from now on;
``VACUUM FULL enrollments`` rewrites existing ones. SQLite has no such setting.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE enrollments SET (fillfactor = 80)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE enrollments RESET (fillfactor)")
