"""Outbox provider: every email becomes ``{directory}/{idempotency_key}.eml``.

The default for local work (``var/outbox/``), so a new user can open every email the engine
sends in a mail client. The file is the acceptance: it is written to a temporary name and
moved into place with ``os.replace``, so a reader (or a crash) never sees half a message, and
a file that exists means the message was sent. That makes ``send`` idempotent and ``find``
exact. Two concurrent sends of one key may both write; they write the same message, and the
last rename wins, so the outcome is still one file.
"""

from __future__ import annotations

import os
import tempfile
from email.parser import BytesHeaderParser
from email.policy import default as default_policy
from pathlib import Path

from nurture.errors import ProviderUnavailable
from nurture.mail.message import OutgoingEmail


class OutboxProvider:
    """Writes .eml files; the provider id is the message's Message-ID (without brackets)."""

    name = "outbox"
    supports_lookup = True

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    def path_for(self, idempotency_key: str) -> Path:
        return self.directory / f"{idempotency_key}.eml"

    def send(self, email: OutgoingEmail) -> str:
        path = self.path_for(email.idempotency_key)
        existing = self.find(email.idempotency_key)
        if existing is not None:
            return existing
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            write_atomically(path, email.data)
        except OSError as exc:  # disk full, permissions: the operator can fix it, then retry
            raise ProviderUnavailable(f"outbox: cannot write {path}: {exc}") from exc
        return email.rfc_message_id

    def find(self, idempotency_key: str) -> str | None:
        path = self.path_for(idempotency_key)
        try:
            with path.open("rb") as file:
                headers = BytesHeaderParser(policy=default_policy).parse(file)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise ProviderUnavailable(f"outbox: cannot read {path}: {exc}") from exc
        message_id = str(headers["Message-ID"] or "").strip().removeprefix("<").removesuffix(">")
        return message_id or idempotency_key


def write_atomically(path: Path, data: bytes) -> None:
    """Temp file in the same folder, fsync, then rename over the final name."""
    fd, temp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        Path(temp_name).replace(path)  # os.replace: atomic on one filesystem
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
