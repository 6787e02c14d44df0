"""On PostgreSQL a queued message's body is stored out of line and uncompressed
(migration 0003): compressing 8 KB per email cost more CPU than the rest of the send."""

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
