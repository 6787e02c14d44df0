"""Settings for engagement coming in: provider webhooks, soft bounces, website events.

Kept apart from ``nurture.settings`` (which mixes this class into ``Settings``) so each file
reads on its own; field ``x`` is still read from ``NURTURE_X``.
"""

from __future__ import annotations

import base64
import binascii
import re
from datetime import timedelta

from pydantic import BaseModel, Field, field_validator

from nurture.ingest import DEFAULT_CERT_URL_PATTERN, WebhookSecrets


class EngagementSettings(BaseModel):
    """Webhook secrets per provider, the replay window, soft-bounce suppression, and the
    site origins allowed to post page views."""

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
