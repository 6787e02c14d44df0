"""In-memory provider: keeps what it was sent, for tests and benchmarks.

A real implementation of the protocol (idempotent by key, exact ``find``, thread-safe for
worker threads), not a mock. Failures can be scripted to exercise retries and the
reconciler:

    provider.fail_next(ProviderUnavailable("503", retry_after=30))       # refused, not kept
    provider.fail_next(DeliveryUnknown("timeout"), after_accepting=True)  # kept, answer lost
"""

from __future__ import annotations

import threading
from collections import deque

from nurture.errors import ProviderError
from nurture.mail.message import OutgoingEmail


class MemoryProvider:
    name = "memory"
    supports_lookup = True

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._accepted: dict[str, tuple[str, OutgoingEmail]] = {}
        self._failures: deque[tuple[ProviderError, bool]] = deque()
        self.attempts = 0

    @property
    def sent(self) -> list[OutgoingEmail]:
        """Accepted messages, once each, in the order they were first accepted."""
        with self._lock:
            return [email for _, email in self._accepted.values()]

    def fail_next(self, *errors: ProviderError, after_accepting: bool = False) -> None:
        """The next ``len(errors)`` sends raise these, in order. With ``after_accepting``
        the message is kept first, as when a provider accepts and the answer is lost."""
        with self._lock:
            self._failures.extend((error, after_accepting) for error in errors)

    def send(self, email: OutgoingEmail) -> str:
        with self._lock:
            self.attempts += 1
            failure = self._failures.popleft() if self._failures else None
            if failure is not None and not failure[1]:
                raise failure[0]
            if email.idempotency_key not in self._accepted:
                provider_id = f"memory-{len(self._accepted) + 1}"
                self._accepted[email.idempotency_key] = (provider_id, email)
            if failure is not None:
                raise failure[0]
            return self._accepted[email.idempotency_key][0]

    def find(self, idempotency_key: str) -> str | None:
        with self._lock:
            accepted = self._accepted.get(idempotency_key)
            return accepted[0] if accepted else None

    def clear(self) -> None:
        """Forget every message and scripted failure (between benchmark rounds)."""
        with self._lock:
            self._accepted.clear()
            self._failures.clear()
            self.attempts = 0
