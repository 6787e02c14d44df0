"""Mailgun signature tokens remembered in the database, so a captured request replayed to
another API process (or after a restart) is refused too: ``nurture.ingest.TokenCache`` for
a cluster. The in-memory cache only protects one process."""

from __future__ import annotations

import hashlib
import threading
from datetime import datetime, timedelta

from sqlalchemy import Insert, delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from nurture.core.clock import Clock
from nurture.services.uow import Database
from nurture.store.models import WebhookToken


def insert_ignoring_conflicts(session: Session, model: type[object], *key: str) -> Insert:
    """``INSERT … ON CONFLICT (key) DO NOTHING`` in the session's dialect (PostgreSQL or
    SQLite): how duplicates are told apart from new rows without a read first."""
    target = list(key) or None
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(model).on_conflict_do_nothing(index_elements=target)
    return sqlite.insert(model).on_conflict_do_nothing(index_elements=target)


class DatabaseTokenCache:
    """``seen(token)`` inserts the token's hash in its own short transaction; no row
    inserted means another request (any process) had it first. Rows older than ``ttl``
    (longer than the replay window: an older request fails its timestamp check anyway)
    are deleted now and then, so the table stays small."""

    def __init__(self, database: Database, clock: Clock, ttl: timedelta) -> None:
        self._database = database
        self._clock = clock
        self._ttl = ttl
        self._lock = threading.Lock()
        self._next_prune: datetime | None = None

    def forget(self, token: str) -> None:
        with self._database.unit_of_work() as uow:
            uow.session.execute(delete(WebhookToken).where(WebhookToken.token == _key(token)))

    def seen(self, token: str) -> bool:
        now = self._clock.now()
        key = _key(token)
        with self._database.unit_of_work() as uow:
            statement = insert_ignoring_conflicts(uow.session, WebhookToken, "token")
            new = uow.session.scalar(
                statement.values(token=key, seen_at=now).returning(WebhookToken.token)
            )
            if self._prune_due(now):
                uow.session.execute(
                    delete(WebhookToken).where(WebhookToken.seen_at < now - self._ttl)
                )
        return new is None

    def _prune_due(self, now: datetime) -> bool:
        with self._lock:
            if self._next_prune is not None and now < self._next_prune:
                return False
            self._next_prune = now + self._ttl / 2
            return True


def _key(token: str) -> str:
    """What is stored: a fixed-length hash, whatever was sent."""
    return hashlib.sha256(token.encode()).hexdigest()
