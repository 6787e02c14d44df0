"""What a running process holds: settings, the database, the clock and the live funnel.

The funnel can be reloaded while the engine runs (SIGHUP, ``nurture reload`` or the admin
API). A reload that fails validation is refused and the last good funnel keeps running
(DESIGN invariant 8).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path

from nurture.core.clock import SYSTEM_CLOCK, Clock
from nurture.core.funnel import Funnel
from nurture.errors import ConfigInvalid
from nurture.handoff import Notifiers, make_notifiers
from nurture.mail.providers import Provider, make_provider
from nurture.mail.render import Renderer
from nurture.mail.tracking import tracking_enabled
from nurture.services import handoffs  # noqa: F401  (registers the stage listener)
from nurture.services.handoff_links import with_links
from nurture.services.sending import Sending
from nurture.services.uow import Database, Dispatcher
from nurture.settings import Settings
from nurture.store.db import make_engine

log = logging.getLogger(__name__)


class FunnelHolder:
    """The current funnel, swapped atomically on a successful reload."""

    def __init__(self, directory: Path, funnel: Funnel) -> None:
        self.directory = directory
        self._funnel = funnel
        self._lock = threading.Lock()

    @classmethod
    def load(cls, directory: Path) -> FunnelHolder:
        from nurture.config import load_funnel

        return cls(directory, load_funnel(directory))

    @property
    def current(self) -> Funnel:
        return self._funnel

    def reload(self) -> tuple[Funnel, bool]:
        """Load the funnel again; return it and whether the version changed.

        Raises ConfigInvalid (keeping the old funnel) when the files on disk are bad."""
        from nurture.config import load_funnel

        with self._lock:
            try:
                fresh = load_funnel(self.directory)
            except ConfigInvalid as exc:
                log.error("reload refused, keeping version %s: %s", self._funnel.version, exc)
                raise
            changed = fresh.version != self._funnel.version
            self._funnel = fresh
            log.info("funnel reloaded: version %s (changed: %s)", fresh.version, changed)
            return fresh, changed


@dataclass
class Runtime:
    settings: Settings
    database: Database
    funnels: FunnelHolder
    provider: Provider
    clock: Clock = SYSTEM_CLOCK
    _renderers: dict[str, Renderer] = field(default_factory=dict, repr=False)
    _notifiers: Notifiers | None = field(default=None, repr=False)

    @classmethod
    def start(
        cls,
        settings: Settings,
        dispatcher: Dispatcher | None = None,
        *,
        provider: Provider | None = None,
        clock: Clock = SYSTEM_CLOCK,
    ) -> Runtime:
        """Build the process's runtime; a bad funnel stops start-up with every problem."""
        funnels = FunnelHolder.load(settings.funnel_dir)
        engine = make_engine(settings.database_url)
        database = Database(engine, dispatcher) if dispatcher else Database(engine)
        return cls(
            settings=settings,
            database=database,
            funnels=funnels,
            provider=provider or make_provider(settings),
            clock=clock,
        )

    def sending(self) -> Sending:
        """The live funnel with its renderer (built once per funnel version)."""
        funnel = self.funnels.current
        renderer = self._renderers.get(funnel.version)
        if renderer is None:
            renderer = Renderer(
                self.funnels.directory / "templates", funnel.sender, self.settings.base_url
            )
            self._renderers.clear()
            self._renderers[funnel.version] = renderer
        tracking = tracking_enabled(self.settings.provider, self.settings.tracking)
        return Sending(
            funnel, renderer, self.settings.base_url, self.settings.signing_key, tracking
        )

    def notifiers(self) -> Notifiers:
        """The handoff channels, built once per process (one httpx client for the webhooks;
        email through this process's provider, from the live funnel's sender)."""
        if self._notifiers is None:
            notifiers = make_notifiers(
                self.settings, self.provider, lambda: self.funnels.current.sender, clock=self.clock
            )
            self._notifiers = with_links(
                notifiers, self.settings.base_url, self.settings.signing_key
            )
        return self._notifiers
