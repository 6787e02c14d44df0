"""Which notifier each channel gets from settings, and the package's exports."""

from __future__ import annotations

import pytest

import nurture.handoff
from nurture.core.handoff_model import Channel
from nurture.errors import SettingsError
from nurture.handoff import (
    ChannelNotConfigured,
    EmailNotifier,
    SlackNotifier,
    TeamsNotifier,
    Unconfigured,
    WebhookNotifier,
    make_notifiers,
)
from nurture.mail.providers import MemoryProvider
from nurture.settings import Settings, load_settings
from tests.handoff.test_email import SENDER

SLACK = "https://hooks.slack.com/services/T/B/X"


def notifiers_for(**settings):
    return make_notifiers(Settings(**settings), MemoryProvider(), lambda: SENDER)


def test_every_channel_has_a_notifier_even_when_nothing_is_configured():
    notifiers = notifiers_for()

    assert set(notifiers) == {c.value for c in Channel}
    assert isinstance(notifiers["email"], EmailNotifier)
    for channel, setting in (
        ("slack", "NURTURE_SLACK_WEBHOOK_URL"),
        ("teams", "NURTURE_TEAMS_WEBHOOK_URL"),
        ("webhook", "NURTURE_CRM_WEBHOOK_URL"),
    ):
        assert isinstance(notifiers[channel], Unconfigured)
        with pytest.raises(ChannelNotConfigured, match=f"^{channel}: {setting} is not set$"):
            notifiers[channel].send({}, None, "k")


def test_configured_channels_get_their_senders():
    notifiers = notifiers_for(
        slack_webhook_url=SLACK,
        teams_webhook_url="https://example.webhook.office.com/x",
        crm_webhook_url="https://crm.example/hooks/nurture",
        crm_webhook_secret="0123456789abcdef",
    )

    assert isinstance(notifiers["slack"], SlackNotifier)
    assert isinstance(notifiers["teams"], TeamsNotifier)
    assert isinstance(notifiers["webhook"], WebhookNotifier)


def test_team_webhooks_alone_make_slack_usable_for_those_teams():
    notifiers = notifiers_for(slack_team_webhooks={"sdr": SLACK})

    assert isinstance(notifiers["slack"], SlackNotifier)


def test_a_crm_url_without_a_secret_sends_nothing_unsigned():
    notifiers = notifiers_for(crm_webhook_url="https://crm.example/hooks")

    with pytest.raises(ChannelNotConfigured, match="NURTURE_CRM_WEBHOOK_SECRET is not set"):
        notifiers["webhook"].send({}, None, "k")


class TestSettings:
    def test_give_up_after_reads_durations_as_marketers_write_them(self, monkeypatch):
        monkeypatch.setenv("NURTURE_NOTIFICATION_GIVE_UP_AFTER", "1d12h")

        assert load_settings().notification_give_up_after.total_seconds() == 36 * 3600

    def test_team_webhooks_are_a_json_object(self, monkeypatch):
        monkeypatch.setenv("NURTURE_SLACK_TEAM_WEBHOOKS", '{"ae": "https://hooks.slack.com/a"}')

        assert load_settings().slack_team_webhooks == {"ae": "https://hooks.slack.com/a"}

    def test_a_bad_webhook_url_is_refused_without_echoing_it(self, monkeypatch):
        monkeypatch.setenv("NURTURE_SLACK_WEBHOOK_URL", "hooks.slack.com/services/SECRET")

        with pytest.raises(SettingsError) as caught:
            load_settings()

        assert str(caught.value).startswith("NURTURE_SLACK_WEBHOOK_URL: must start with https://")
        assert "SECRET" not in str(caught.value)

    def test_a_short_crm_secret_is_refused(self, monkeypatch):
        monkeypatch.setenv("NURTURE_CRM_WEBHOOK_SECRET", "short")

        with pytest.raises(SettingsError, match="at least 16 characters"):
            load_settings()


def test_exports_are_the_public_names_sorted():
    public = sorted(name for name in vars(nurture.handoff) if not name.startswith("_"))
    modules = {"attempt", "base", "email", "errors", "http", "notifiers", "slack", "summary",
               "teams", "webhook"}  # fmt: skip

    assert nurture.handoff.__all__ == sorted(nurture.handoff.__all__)
    assert set(public) - modules == set(nurture.handoff.__all__)
