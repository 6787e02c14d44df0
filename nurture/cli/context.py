"""What CLI commands share: settings, the database, the loaded funnel."""

from __future__ import annotations

from functools import lru_cache

from nurture.core.funnel import Funnel
from nurture.services.uow import Database
from nurture.settings import Settings, load_settings
from nurture.store.db import make_engine


@lru_cache(maxsize=1)
def settings() -> Settings:
    return load_settings()


@lru_cache(maxsize=1)
def database() -> Database:
    return Database(make_engine(settings().database_url))


def funnel() -> Funnel:
    from nurture.config.load import load_funnel

    return load_funnel(settings().funnel_dir)
