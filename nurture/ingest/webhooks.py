"""One entry point for ``POST /webhooks/<provider>``: the secrets from settings, the shared
state (Mailgun token cache, SNS certificate cache) and dispatch to the provider adapter.

Build one ``Webhooks`` per process. The route calls ``configured(provider)`` (404 if not),
then ``parse(provider, body, headers, now)``, and maps the errors: WebhookUnauthorized 401,
WebhookMalformed 400, WebhookTooLarge 413, WebhookVerifierUnavailable 503.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

import httpx

from nurture.errors import NotFound
from nurture.ingest import mailgun, postmark, resend, sendgrid, ses
from nurture.ingest.events import WebhookResult
from nurture.ingest.sns import DEFAULT_CERT_URL_PATTERN, SnsCertificates
from nurture.ingest.verify import (
    DEFAULT_TOLERANCE_SECONDS,
    MAX_BODY_BYTES,
    MemoryTokenCache,
    TokenCache,
    check_size,
)

PROVIDERS = ("sendgrid", "mailgun", "postmark", "ses", "resend")


@dataclass(frozen=True)
class WebhookSecrets:
    """Per-provider verification settings (NURTURE_* names in brackets). A provider with no
    secret (SES: no topic) is not configured and its endpoint answers 404. Secrets stay out
    of ``repr``."""

    sendgrid_public_key: str | None = field(default=None, repr=False)  # SENDGRID_WEBHOOK_PUBLIC_KEY
    mailgun_signing_key: str | None = field(default=None, repr=False)  # MAILGUN_WEBHOOK_SIGNING_KEY
    postmark_auth: str | None = field(default=None, repr=False)  # POSTMARK_WEBHOOK_AUTH
    ses_cert_url_pattern: str = DEFAULT_CERT_URL_PATTERN  # SES_CERT_URL_PATTERN
    ses_topic_arns: frozenset[str] = frozenset()  # SES_TOPIC_ARNS
    resend_secret: str | None = field(default=None, repr=False)  # RESEND_WEBHOOK_SECRET
    tolerance_seconds: float = DEFAULT_TOLERANCE_SECONDS  # WEBHOOK_TOLERANCE_SECONDS

    def configured(self, provider: str) -> bool:
        """Is this provider's endpoint enabled?"""
        return {
            "sendgrid": bool(self.sendgrid_public_key),
            "mailgun": bool(self.mailgun_signing_key),
            "postmark": bool(self.postmark_auth),
            "ses": bool(self.ses_topic_arns),
            "resend": bool(self.resend_secret),
        }.get(provider, False)


class Webhooks:
    """Verifies and normalises webhooks for every configured provider."""

    def __init__(
        self,
        secrets: WebhookSecrets,
        *,
        tokens: TokenCache | None = None,
        http: httpx.Client | None = None,
        max_body_bytes: int = MAX_BODY_BYTES,
    ) -> None:
        self.secrets = secrets
        self.tokens: TokenCache = tokens or MemoryTokenCache(ttl=2 * secrets.tolerance_seconds)
        self.certs = SnsCertificates(secrets.ses_cert_url_pattern, client=http)
        self.max_body_bytes = max_body_bytes

    def close(self) -> None:
        """Release the SNS certificate fetcher's own HTTP client, if it made one."""
        self.certs.close()

    def configured(self, provider: str) -> bool:
        return self.secrets.configured(provider)

    def release(self, provider: str, body: bytes) -> None:
        """After ``parse`` succeeded but storing its events failed: let the provider's retry
        of this request through (Mailgun's token would otherwise count as replayed)."""
        if provider == "mailgun":
            token = mailgun.token_of(body)
            if token is not None:
                self.tokens.forget(token)

    def parse(
        self, provider: str, body: bytes, headers: Mapping[str, str], now: datetime
    ) -> WebhookResult:
        """Size check, verification, normalisation; raises before returning anything if any
        check fails. NotFound for an unknown or unconfigured provider."""
        if not self.configured(provider):
            raise NotFound(f"no webhook endpoint for provider {provider!r}")
        check_size(body, self.max_body_bytes)
        s = self.secrets
        tolerance = s.tolerance_seconds
        if provider == "sendgrid":
            assert s.sendgrid_public_key
            return sendgrid.parse(
                body, headers, now, public_key=s.sendgrid_public_key, tolerance=tolerance
            )
        if provider == "mailgun":
            assert s.mailgun_signing_key
            return mailgun.parse(
                body,
                headers,
                now,
                signing_key=s.mailgun_signing_key,
                tokens=self.tokens,
                tolerance=tolerance,
            )
        if provider == "postmark":
            assert s.postmark_auth
            return postmark.parse(body, headers, now, auth=s.postmark_auth)
        if provider == "ses":
            return ses.parse(body, headers, now, certs=self.certs, topic_arns=s.ses_topic_arns)
        assert s.resend_secret
        return resend.parse(body, headers, now, secret=s.resend_secret, tolerance=tolerance)

    def confirm_subscription(self, url: str) -> None:
        """GET an SNS SubscribeURL under the certificate URL rule (see ``sns``)."""
        ses.confirm_subscription(url, certs=self.certs)
