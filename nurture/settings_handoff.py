"""Settings for the handoff notifications: where each channel posts, the CRM's signing
secret, how long the outbox keeps trying. Secrets (webhook URLs are secrets too) are
settings, never YAML in git; the funnel's ``handoff.channels`` says which channels are used.

Kept apart from ``nurture.settings`` (which mixes this class into ``Settings``); field ``x``
is read from ``NURTURE_X``.
"""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel, Field, field_validator

from nurture.core.durations import DURATION_HINT, parse_duration

#: Never echoed in an error message (``nurture.settings.SECRET_FIELDS``).
HANDOFF_SECRET_FIELDS = frozenset(
    {"slack_webhook_url", "slack_team_webhooks", "teams_webhook_url", "crm_webhook_secret"}
)


class HandoffSettings(BaseModel):
    slack_webhook_url: str | None = Field(
        default=None,
        description="Slack incoming webhook (https://hooks.slack.com/services/...); unset = "
        "Slack notifications go dead with a clear error",
    )
    slack_team_webhooks: dict[str, str] = Field(
        default_factory=dict,
        description='JSON object team -> incoming webhook URL, e.g. {"ae": "https://hooks..."}; '
        "a team's notifications go to its own channel, the rest to NURTURE_SLACK_WEBHOOK_URL",
    )
    teams_webhook_url: str | None = Field(
        default=None, description="Microsoft Teams incoming webhook (Workflows) URL"
    )
    crm_webhook_url: str | None = Field(
        default=None, description="Where the signed JSON webhook is posted"
    )
    crm_webhook_secret: str | None = Field(
        default=None, description="HMAC-SHA256 key of X-Nurture-Signature (share it with the CRM)"
    )
    notification_give_up_after: timedelta = Field(
        default=timedelta(hours=24),
        description=f"Retry a notification this long after it was created, then dead letter "
        f"({DURATION_HINT})",
    )

    @field_validator("slack_webhook_url", "teams_webhook_url", "crm_webhook_url")
    @classmethod
    def _webhook_url(cls, value: str | None) -> str | None:
        if not value:
            return None
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with https:// (or http:// for a local receiver)")
        return value

    @field_validator("slack_team_webhooks")
    @classmethod
    def _team_urls(cls, value: dict[str, str]) -> dict[str, str]:
        bad = [team for team, url in value.items() if not url.startswith(("http://", "https://"))]
        if bad:
            raise ValueError(f"the URL of team {bad[0]!r} must start with https://")
        return value

    @field_validator("crm_webhook_secret")
    @classmethod
    def _secret(cls, value: str | None) -> str | None:
        if not value:
            return None
        if len(value) < 16:
            raise ValueError("must be at least 16 characters (a random string)")
        return value

    @field_validator("notification_give_up_after", mode="before")
    @classmethod
    def _duration(cls, value: object) -> object:
        if isinstance(value, str) and value.strip() and value.strip()[-1] in "smhdw":
            return parse_duration(value)  # "24h", "2d"; ISO 8601 and seconds still work
        return value
