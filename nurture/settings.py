"""Process settings from NURTURE_* environment variables (and an optional .env file).

A bad setting must stop the process at start with one clear line, so ``load_settings``
turns pydantic's report into a single ``SettingsError`` message naming the variable.
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
from datetime import timedelta
from functools import cached_property
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from nurture.errors import SettingsError
from nurture.ingest import DEFAULT_CERT_URL_PATTERN, WebhookSecrets

ENV_PREFIX = "NURTURE_"


class Settings(BaseSettings):
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
    sendgrid_webhook_public_key: str | None = Field(
        default=None,
        description="Event Webhook verification key (base64 DER, as SendGrid shows it); "
        "unset = POST /webhooks/sendgrid answers 404",
    )
    mailgun_webhook_signing_key: str | None = Field(
        default=None, description="HTTP webhook signing key; unset = /webhooks/mailgun is 404"
    )
    postmark_webhook_auth: str | None = Field(
        default=None,
        description="user:password put in the webhook URL (basic auth); unset = 404",
    )
    ses_cert_url_pattern: str = Field(
        default=DEFAULT_CERT_URL_PATTERN,
        description="Regular expression an SNS SigningCertURL and SubscribeURL must match",
    )
    ses_topic_arns: str | None = Field(
        default=None,
        description="Comma-separated SNS topic ARNs accepted; unset = /webhooks/ses is 404",
    )
    resend_webhook_secret: str | None = Field(
        default=None, description="Svix signing secret (whsec_...); unset = 404"
    )
    webhook_tolerance_seconds: float = Field(
        default=300.0, gt=0, description="Replay window for signed webhook timestamps"
    )
    soft_bounce_limit: int = Field(
        default=3, ge=1, description="Soft bounces within the window that suppress a lead"
    )
    soft_bounce_window_days: float = Field(
        default=7.0, gt=0, description="Window for counting soft bounces, in days"
    )
    site_origins: str | None = Field(
        default=None,
        description="Comma-separated origins (https://www.example.com) whose pages may post "
        "page views to /v1/collect (CORS); unset = /v1/collect answers 404",
    )
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

    @field_validator("sendgrid_webhook_public_key")
    @classmethod
    def _ec_public_key(cls, value: str | None) -> str | None:
        if not value:
            return None
        from nurture.ingest.sendgrid import load_public_key

        try:
            load_public_key(value)
        except Exception:  # cryptography raises ValueError or UnsupportedAlgorithm
            raise ValueError(
                "is not a base64 DER (or PEM) elliptic-curve public key; copy the "
                "verification key from SendGrid's Event Webhook settings"
            ) from None
        return value.strip()

    @field_validator("postmark_webhook_auth")
    @classmethod
    def _user_password(cls, value: str | None) -> str | None:
        if not value:
            return None
        user, colon, password = value.partition(":")
        if not (user and colon and password):
            raise ValueError("must be user:password (the credentials in the webhook URL)")
        return value

    @field_validator("resend_webhook_secret")
    @classmethod
    def _svix_secret(cls, value: str | None) -> str | None:
        if not value:
            return None
        encoded = value.strip()
        try:
            if not encoded.startswith("whsec_"):
                raise ValueError
            base64.b64decode(encoded.removeprefix("whsec_"), validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("must be whsec_ followed by base64, as Resend shows it") from None
        return encoded

    @field_validator("ses_cert_url_pattern")
    @classmethod
    def _regex(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"is not a regular expression: {exc}") from None
        return value

    @field_validator("ses_topic_arns")
    @classmethod
    def _arns(cls, value: str | None) -> str | None:
        arns = [a.strip() for a in (value or "").split(",") if a.strip()]
        bad = [a for a in arns if not a.startswith("arn:") or a.count(":") < 5]
        if bad:
            raise ValueError(f"{bad[0]!r} is not a topic ARN (arn:aws:sns:region:account:topic)")
        return ",".join(arns) or None

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

    @property
    def soft_bounce_window(self) -> timedelta:
        return timedelta(days=self.soft_bounce_window_days)

    def webhook_secrets(self) -> WebhookSecrets:
        """What ``nurture.ingest.Webhooks`` verifies with; unset providers answer 404."""
        return WebhookSecrets(
            sendgrid_public_key=self.sendgrid_webhook_public_key,
            mailgun_signing_key=self.mailgun_webhook_signing_key,
            postmark_auth=self.postmark_webhook_auth,
            ses_cert_url_pattern=self.ses_cert_url_pattern,
            ses_topic_arns=frozenset((self.ses_topic_arns or "").split(",")) - {""},
            resend_secret=self.resend_webhook_secret,
            tolerance_seconds=self.webhook_tolerance_seconds,
        )

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
