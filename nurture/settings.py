"""Process settings from NURTURE_* environment variables (and an optional .env file).

A bad setting must stop the process at start with one clear line, so ``load_settings``
turns pydantic's report into a single ``SettingsError`` message naming the variable.
"""

from __future__ import annotations

import secrets
from functools import cached_property
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from nurture.errors import SettingsError
from nurture.settings_engagement import EngagementSettings
from nurture.settings_handoff import HANDOFF_SECRET_FIELDS, HandoffSettings  # notifications

ENV_PREFIX = "NURTURE_"


class Settings(BaseSettings, EngagementSettings, HandoffSettings):
    """Everything an operator can set. Field ``x`` is read from ``NURTURE_X``."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_file=".env", extra="ignore", frozen=True
    )

    database_url: str = Field(
        default="sqlite:///./var/nurture.db",
        description="SQLAlchemy URL: sqlite:///path or postgresql+psycopg://user:pw@host/db",
    )
    redis_url: str | None = Field(
        default=None, description="Redis for the Dramatiq broker; unset = in-process broker"
    )
    funnel_dir: Path = Field(
        default=Path(), description="Folder holding nurture.yaml, sequences/ and templates/"
    )
    base_url: str = Field(
        default="http://127.0.0.1:8000", description="Public URL used in links in emails"
    )
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    var_dir: Path = Field(default=Path("var"), description="Local state: keys, outbox, db")
    api_keys: str | None = Field(
        default=None,
        description="Comma-separated API keys for /v1; unset = one generated in var/api-key",
    )
    secret_key: str | None = Field(
        default=None,
        description="Key for signed links (unsubscribe); unset = one generated in var/secret-key",
    )
    default_time_zone: str = Field(default="UTC", description="IANA zone for leads without one")
    provider: Literal[
        "outbox", "smtp", "memory", "sendgrid", "mailgun", "postmark", "ses", "resend"
    ] = Field(
        default="outbox",
        description="outbox = .eml files under var/outbox; smtp = any server; "
        "memory = accept and keep in memory (benchmarks, tests: nothing leaves the process); "
        "sendgrid, mailgun, postmark, ses, resend = that provider's HTTP API "
        "(docs/providers.md)",
    )
    tracking: bool | None = Field(
        default=None,
        description="Own open pixel and click redirect in every email; unset = on for "
        "outbox, smtp and memory, off for HTTP providers (they track themselves)",
    )
    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=1025, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    smtp_timeout_seconds: float = Field(default=10.0, gt=0)
    http_timeout_seconds: float = Field(
        default=10.0, gt=0, description="Connect, read, write and pool limit of provider APIs"
    )
    sendgrid_api_key: str | None = None
    sendgrid_base_url: str = "https://api.sendgrid.com"
    mailgun_api_key: str | None = None
    mailgun_domain: str | None = Field(default=None, description="Sending domain, e.g. mg.x.com")
    mailgun_region: Literal["us", "eu"] = Field(
        default="us", description="us = api.mailgun.net, eu = api.eu.mailgun.net"
    )
    mailgun_base_url: str | None = Field(default=None, description="Overrides the region's URL")
    postmark_server_token: str | None = None
    postmark_message_stream: str = Field(
        default="broadcast", description="Postmark message stream (broadcast = marketing)"
    )
    postmark_base_url: str = "https://api.postmarkapp.com"
    ses_region: str | None = Field(default=None, description="AWS region, e.g. eu-west-1")
    ses_access_key_id: str | None = None
    ses_secret_access_key: str | None = None
    ses_configuration_set: str | None = Field(
        default=None, description="Configuration set that publishes events to SNS"
    )
    ses_base_url: str | None = Field(
        default=None, description="Overrides https://email.{region}.amazonaws.com"
    )
    resend_api_key: str | None = None
    resend_base_url: str = "https://api.resend.com"
    log_level: Literal["debug", "info", "warning", "error"] = "info"

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        if not value.startswith(("sqlite:", "postgresql:", "postgresql+psycopg:")):
            raise ValueError(
                "must start with sqlite:/// or postgresql+psycopg:// "
                "(e.g. postgresql+psycopg://nurture:secret@localhost/nurture)"
            )
        if value.startswith("postgresql:"):
            value = "postgresql+psycopg:" + value.removeprefix("postgresql:")
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        assert value is not None
        if not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value

    @field_validator(
        "base_url",
        "sendgrid_base_url",
        "mailgun_base_url",
        "postmark_base_url",
        "ses_base_url",
        "resend_base_url",
    )
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _provider_is_configured(self) -> Settings:
        """The chosen provider has what it needs to send, or the process stops at start."""
        missing = [
            name for name in _PROVIDER_REQUIRES.get(self.provider, ()) if not getattr(self, name)
        ]
        if missing:
            names = " and ".join(ENV_PREFIX + name.upper() for name in missing)
            verb = "is" if len(missing) == 1 else "are"
            raise ValueError(f"{names} {verb} required when NURTURE_PROVIDER={self.provider}")
        return self

    @field_validator("default_time_zone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("is not an IANA time zone (e.g. Europe/Paris, UTC)") from None
        return value

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @cached_property
    def api_key_set(self) -> frozenset[str]:
        """Accepted API keys; generated once into var/api-key for local use."""
        if self.api_keys:
            return frozenset(k.strip() for k in self.api_keys.split(",") if k.strip())
        return frozenset({_local_secret(self.var_dir / "api-key")})

    @cached_property
    def signing_key(self) -> bytes:
        return (self.secret_key or _local_secret(self.var_dir / "secret-key")).encode()


#: Settings whose value must never be echoed in an error message.
SECRET_FIELDS = frozenset(
    {
        "sendgrid_webhook_public_key",
        "mailgun_webhook_signing_key",
        "postmark_webhook_auth",
        "resend_webhook_secret",
        "secret_key",
        "api_keys",
        *HANDOFF_SECRET_FIELDS,  # notifications: webhook URLs and the CRM secret
    }
)

_PROVIDER_REQUIRES: dict[str, tuple[str, ...]] = {
    "sendgrid": ("sendgrid_api_key",),
    "mailgun": ("mailgun_api_key", "mailgun_domain"),
    "postmark": ("postmark_server_token",),
    "ses": ("ses_region", "ses_access_key_id", "ses_secret_access_key"),
    "resend": ("resend_api_key",),
}


def _local_secret(path: Path) -> str:
    """Read a generated secret, creating it (mode 600) the first time."""
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(24)
    path.write_text(value + "\n")
    path.chmod(0o600)
    return value


def load_settings() -> Settings:
    """Read settings, or raise ``SettingsError`` with one line naming the bad variable."""
    try:
        return Settings()
    except ValidationError as exc:
        err = exc.errors()[0]
        message = str(err["msg"]).removeprefix("Value error, ")
        if not err["loc"]:  # a check across settings: its message names the variables
            raise SettingsError(message) from None
        field = str(err["loc"][0])
        name = ENV_PREFIX + field.upper()
        if field in SECRET_FIELDS:  # a secret stays out of logs, even a wrong one
            raise SettingsError(f"{name}: {message}") from None
        raise SettingsError(f"{name}={err.get('input')!r}: {message}") from None
