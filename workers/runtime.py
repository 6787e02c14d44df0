"""The process's Runtime for actors: the one `nurture run` built, or one made on first use
in a `dramatiq workers` process (engine and provider created once per process)."""

from __future__ import annotations

import threading

from nurture.runtime import Runtime
from nurture.settings import load_settings

_lock = threading.Lock()
_runtime: Runtime | None = None


def set_runtime(runtime: Runtime | None) -> None:
    global _runtime
    _runtime = runtime


def get_runtime() -> Runtime:
    global _runtime
    with _lock:
        if _runtime is None:
            from workers.broker import dispatch

            _runtime = Runtime.start(load_settings(), dispatch)
        return _runtime
