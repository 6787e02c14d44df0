"""PostgreSQL storage settings the migrations make: message bodies uncompressed (0003:
compressing 8 KB per email cost more CPU than the rest of the send) and room on enrollment
pages for HOT claims (0005)."""

from __future__ import annotations

from sqlalchemy import create_engine, text


def test_message_bodies_are_stored_uncompressed(postgres_url: str) -> None:
    engine = create_engine(postgres_url)
    with engine.connect() as conn:
        storage = conn.scalar(
            text(
                "SELECT attstorage FROM pg_attribute "
                "WHERE attrelid = 'messages'::regclass AND attname = 'mime'"
            )
        )
    engine.dispose()

    assert storage == "e"  # EXTERNAL: out of line, never compressed


def test_enrollment_pages_keep_room_for_claims(postgres_url: str) -> None:
    engine = create_engine(postgres_url)
    with engine.connect() as conn:
        options = conn.scalar(text("SELECT reloptions FROM pg_class WHERE relname = 'enrollments'"))
    engine.dispose()

    assert "fillfactor=80" in (options or [])  # HOT claims: no index writes per tick
