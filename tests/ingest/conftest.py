"""Shared by the webhook tests: a fixed "now" and JSON bytes as providers send them."""

import json
from datetime import UTC, datetime
from typing import Any

import pytest

NOW = datetime(2026, 3, 2, 12, 0, 0, tzinfo=UTC)


@pytest.fixture
def now() -> datetime:
    return NOW


def dumps(payload: Any) -> bytes:
    """Compact JSON bytes, as a provider posts them."""
    return json.dumps(payload, separators=(",", ":")).encode()
