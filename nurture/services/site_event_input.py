"""The website and product events a request carries, validated as a whole before anything
is stored (``POST /v1/events``, and ``POST /v1/collect`` for browsers): every problem is
reported with its item's index and field, the way ``/v1/leads`` reports leads."""

from __future__ import annotations

import ipaddress
import json
import re
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, field_validator

from nurture.errors import InvalidInput
from nurture.services.lead_input import normalise_email

NAMED_TYPES: tuple[str, ...] = ("page_view", "form_submit", "download", "webinar_attended")
NAMED_TYPES += ("trial_started", "demo_requested", "pricing_viewed")
#: Events that make a lead of an unknown email: someone filled in a form.
CREATES_LEAD = frozenset({"form_submit", "demo_requested"})
STORED_AS = {"page_view": "visited", "form_submit": "submitted"}
#: Custom names: ``custom:`` plus the name fits the 40-character ``events.type`` column.
CUSTOM_NAME = re.compile(r"^[a-z][a-z0-9_]{0,32}$")
MAX_PROPERTIES_BYTES = 4096
#: How far ahead of our clock an ``occurred_at`` may be (the sender's clock drifts a little).
MAX_FUTURE = timedelta(minutes=5)


def stored_type(name: str) -> str:
    """The ``events.type`` a sequence's ``wait_for`` and ``goal`` match against."""
    return STORED_AS.get(name, f"custom:{name}")


class SiteEventIn(BaseModel):
    """One website or product event. Identified by ``email``, ``visitor_id`` or both."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    type: str = Field(max_length=40, examples=["page_view", "demo_requested"])
    email: str | None = Field(default=None, max_length=320)
    visitor_id: str | None = Field(
        default=None, pattern=r"^[A-Za-z0-9_-]{8,64}$", description="The nurture_vid cookie"
    )
    event_id: str | None = Field(
        default=None, min_length=1, max_length=255, description="Idempotency key"
    )
    occurred_at: AwareDatetime | None = Field(default=None, description="Default: now")
    url: str | None = Field(default=None, max_length=2048)
    title: str | None = Field(default=None, max_length=300)
    user_agent: str | None = Field(default=None, max_length=1000)
    ip: str | None = Field(default=None, max_length=64)
    properties: dict[str, Any] = Field(default_factory=dict)

    @field_validator("type")
    @classmethod
    def _type(cls, value: str) -> str:
        if value in NAMED_TYPES or CUSTOM_NAME.match(value):
            return value
        raise ValueError(
            f"unknown event type {value!r}; use one of {', '.join(NAMED_TYPES)}, or a custom "
            "name of lower-case letters, digits and _ (at most 33, starting with a letter)"
        )

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        return _normalised(value) if value else None

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value or None

    @field_validator("ip")
    @classmethod
    def _ip(cls, value: str | None) -> str | None:
        if not value:
            return None
        try:
            return str(ipaddress.ip_address(value))
        except ValueError:
            raise ValueError(f"{value!r} is not an IP address") from None

    @field_validator("properties")
    @classmethod
    def _small(cls, value: dict[str, Any]) -> dict[str, Any]:
        size = len(json.dumps(value, separators=(",", ":")).encode())
        if size > MAX_PROPERTIES_BYTES:
            raise ValueError(f"is {size} bytes as JSON; at most {MAX_PROPERTIES_BYTES}")
        return value


@lru_cache(maxsize=4096)
def _normalised(email: str) -> str:
    """``normalise_email``, remembered: a site posts the same visitors' emails again and
    again, and the full syntax check was a tenth of the API's time per event."""
    return normalise_email(email)


def parse_events(raw: object, now: datetime, *, max_items: int, public: bool) -> list[SiteEventIn]:
    """Validate a body (an object or an array of them) as a whole; ``InvalidInput`` lists
    every problem with its item's index and field, and nothing is stored. ``public``: the
    browser endpoint, where only anonymous page views are accepted."""
    items = raw if isinstance(raw, list) else [raw]
    if not items or len(items) > max_items:
        raise InvalidInput(f"send one event or an array of 1 to {max_items}")
    parsed: list[SiteEventIn] = []
    errors: list[dict[str, object]] = []

    def problem(index: int, where: str, message: str) -> None:
        errors.append({"index": index, "field": where, "message": message})

    for index, item in enumerate(items):
        try:
            event = SiteEventIn.model_validate(item)
        except ValidationError as exc:
            for err in exc.errors():
                where = ".".join(str(part) for part in err["loc"]) or "(event)"
                problem(index, where, str(err["msg"]).removeprefix("Value error, "))
            continue
        if event.email is None and event.visitor_id is None:
            problem(index, "email", "give email, visitor_id or both")
        if event.occurred_at is not None and event.occurred_at > now + MAX_FUTURE:
            problem(index, "occurred_at", "is in the future")
        if public:
            if event.type != "page_view":
                problem(index, "type", "only page_view is accepted here")
            if event.email is not None or event.visitor_id is None:
                problem(index, "visitor_id", "give visitor_id and no email")
            if event.user_agent is not None or event.ip is not None:
                problem(index, "user_agent", "user_agent and ip come from the request here")
        parsed.append(event)
    if errors:
        raise InvalidInput(f"event {errors[0]['index']}: {errors[0]['message']}", errors)
    return parsed
