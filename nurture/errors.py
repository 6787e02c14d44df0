"""One exception hierarchy for everything nurture raises on purpose.

    NurtureError
    ├── SettingsError          a NURTURE_* setting is missing or malformed
    ├── ConfigError            the funnel (nurture.yaml, sequences, templates) is invalid
    │   └── ConfigInvalid      carries every problem found, each with file:line:column
    ├── TemplateError          an email template failed to load or render
    ├── NotFound               a lead, enrollment or other row does not exist
    ├── InvalidInput           a request or CSV row was refused; nothing was stored
    │   ├── BadToken           a signed link token was tampered with, malformed or misused
    │   ├── WebhookUnauthorized    401: missing/forged signature, stale timestamp, reused token,
    │   │                          certificate URL or SNS topic not allowed, wrong basic auth
    │   ├── WebhookMalformed       400: body not JSON or not the provider's documented shape
    │   └── WebhookTooLarge        413: body over the webhook size limit
    ├── WebhookVerifierUnavailable 503: the SNS signing certificate could not be fetched; the
    │                              provider retries later
    └── ProviderError          an email provider failed
        ├── ProviderUnavailable    retry later (429, 5xx, timeout)
        └── ProviderRejected       permanent (4xx): do not retry

Programming mistakes raise RuntimeError or TypeError, never a NurtureError, so that catching
``NurtureError`` never hides a bug.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from nurture.config.problems import ConfigProblem


class NurtureError(Exception):
    """Root of every error nurture raises on purpose."""


class SettingsError(NurtureError):
    """A NURTURE_* setting is missing or malformed."""


class ConfigError(NurtureError):
    """The funnel configuration cannot be used."""


class ConfigInvalid(ConfigError):
    """Validation found problems; ``problems`` lists all of them, sorted by place."""

    def __init__(self, problems: list[ConfigProblem]) -> None:
        self.problems = sorted(problems, key=lambda p: (p.file, p.line, p.column))
        first = self.problems[0].format() if self.problems else "no details"
        more = f" (and {len(self.problems) - 1} more)" if len(self.problems) > 1 else ""
        super().__init__(f"invalid funnel configuration: {first}{more}")


class TemplateError(NurtureError):
    """A template is missing, has a syntax error, or failed to render."""

    def __init__(self, template: str, message: str, line: int | None = None) -> None:
        self.template = template
        self.line = line
        self.message = message
        where = f"{template}:{line}" if line else template
        super().__init__(f"{where}: {message}")


class NotFound(NurtureError):
    """The requested row does not exist."""


class InvalidInput(NurtureError):
    """Input was refused; nothing was stored."""

    def __init__(self, message: str, errors: list[dict[str, object]] | None = None) -> None:
        self.errors = errors or []
        super().__init__(message)


class Conflict(InvalidInput):
    """The request contradicts what is already recorded (a second answer to a handoff)."""


class BadToken(InvalidInput):
    """A signed token (unsubscribe link, later click/open) failed verification."""


class WebhookUnauthorized(InvalidInput):
    """A webhook failed authentication (answer 401); the message says which check failed."""


class WebhookMalformed(InvalidInput):
    """A webhook body is not JSON or not in the provider's documented shape (answer 400)."""


class WebhookTooLarge(InvalidInput):
    """A webhook body is over the size limit (answer 413)."""


class WebhookVerifierUnavailable(NurtureError):
    """What we need to verify a webhook (the SNS certificate) could not be fetched: answer 503
    so the provider retries, rather than refusing a request that may well be genuine."""


class ProviderError(NurtureError):
    """An email provider failed to accept a message."""


class ProviderUnavailable(ProviderError):
    """Temporary failure; the send may be retried, after ``retry_after`` seconds if given."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        self.retry_after = retry_after
        super().__init__(message)


class ProviderRejected(ProviderError):
    """Permanent failure: the provider refused this message."""
