"""Reserving primary keys before inserting, so a row can be written once, complete.

A message's id goes into its Message-ID header and its unsubscribe token, so the id is
needed to render the email; reserving ids first lets a batch of messages go in with one
INSERT instead of an INSERT and then an UPDATE of every row (which, on PostgreSQL, writes
each 8 KB body twice). PostgreSQL takes them from the table's sequence; SQLite, whose write
transactions begin IMMEDIATE (nobody else can insert until commit), continues after the
highest id, as its own rowid allocation does.
"""

from __future__ import annotations

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from nurture.store.models import Message

_NEXT_IDS = text(
    "SELECT nextval(pg_get_serial_sequence('messages', 'id')) FROM generate_series(1, :count)"
)


def reserve_message_ids(session: Session, count: int) -> list[int]:
    """``count`` unused ids for new ``messages`` rows, ascending; call within the
    transaction that inserts them."""
    if count <= 0:
        return []
    if session.get_bind().dialect.name == "postgresql":
        rows = session.execute(_NEXT_IDS, {"count": count})
        return sorted(int(value) for (value,) in rows)
    highest = session.scalar(select(func.coalesce(func.max(Message.id), 0))) or 0
    return list(range(highest + 1, highest + 1 + count))
