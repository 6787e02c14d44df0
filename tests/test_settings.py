import pytest

from nurture.errors import SettingsError
from nurture.settings import load_settings


def test_defaults_are_the_embedded_ones(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    settings = load_settings()
    assert settings.database_url == "sqlite:///./var/nurture.db"
    assert settings.redis_url is None
    assert settings.provider == "outbox"


def test_plain_postgresql_url_uses_psycopg_3(monkeypatch):
    monkeypatch.setenv("NURTURE_DATABASE_URL", "postgresql://u:p@db/nurture")
    assert load_settings().database_url == "postgresql+psycopg://u:p@db/nurture"


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("NURTURE_DATABASE_URL", "mysql://x", "NURTURE_DATABASE_URL='mysql://x': must start with"),
        ("NURTURE_PORT", "eighty", "NURTURE_PORT='eighty':"),
        ("NURTURE_DEFAULT_TIME_ZONE", "Mars/Olympus", "is not an IANA time zone"),
        ("NURTURE_REDIS_URL", "localhost:6379", "must start with redis://"),
        ("NURTURE_PROVIDER", "carrier-pigeon", "NURTURE_PROVIDER='carrier-pigeon':"),
    ],
)
def test_bad_setting_is_one_clear_line_naming_the_variable(monkeypatch, name, value, expected):
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    message = str(caught.value)
    assert expected in message
    assert "\n" not in message


def test_api_key_is_generated_once_into_var(monkeypatch, tmp_path):
    monkeypatch.setenv("NURTURE_VAR_DIR", str(tmp_path))
    first = load_settings().api_key_set
    second = load_settings().api_key_set
    assert first == second and len(next(iter(first))) >= 24
    assert (tmp_path / "api-key").stat().st_mode & 0o777 == 0o600


def test_configured_api_keys_are_split_on_commas(monkeypatch):
    monkeypatch.setenv("NURTURE_API_KEYS", "one, two")
    assert load_settings().api_key_set == {"one", "two"}


@pytest.mark.parametrize(
    ("provider", "given", "expected"),
    [
        ("sendgrid", {}, "NURTURE_SENDGRID_API_KEY is required when NURTURE_PROVIDER=sendgrid"),
        (
            "mailgun",
            {"NURTURE_MAILGUN_API_KEY": "key-1"},
            "NURTURE_MAILGUN_DOMAIN is required when NURTURE_PROVIDER=mailgun",
        ),
        (
            "postmark",
            {},
            "NURTURE_POSTMARK_SERVER_TOKEN is required when NURTURE_PROVIDER=postmark",
        ),
        (
            "ses",
            {"NURTURE_SES_REGION": "eu-west-1", "NURTURE_SES_ACCESS_KEY_ID": "AKID"},
            "NURTURE_SES_SECRET_ACCESS_KEY is required when NURTURE_PROVIDER=ses",
        ),
        ("resend", {}, "NURTURE_RESEND_API_KEY is required when NURTURE_PROVIDER=resend"),
    ],
)
def test_a_provider_without_its_credentials_stops_at_start_naming_the_variable(
    monkeypatch, provider, given, expected
):
    monkeypatch.setenv("NURTURE_PROVIDER", provider)
    for name, value in given.items():
        monkeypatch.setenv(name, value)

    with pytest.raises(SettingsError) as caught:
        load_settings()

    assert str(caught.value) == expected


def test_every_missing_variable_is_named_at_once(monkeypatch):
    monkeypatch.setenv("NURTURE_PROVIDER", "ses")

    with pytest.raises(SettingsError) as caught:
        load_settings()

    assert str(caught.value) == (
        "NURTURE_SES_REGION and NURTURE_SES_ACCESS_KEY_ID and NURTURE_SES_SECRET_ACCESS_KEY "
        "are required when NURTURE_PROVIDER=ses"
    )


def test_a_configured_provider_loads(monkeypatch):
    monkeypatch.setenv("NURTURE_PROVIDER", "mailgun")
    monkeypatch.setenv("NURTURE_MAILGUN_API_KEY", "key-1")
    monkeypatch.setenv("NURTURE_MAILGUN_DOMAIN", "mg.lumen.example")
    monkeypatch.setenv("NURTURE_MAILGUN_REGION", "eu")

    settings = load_settings()

    assert (settings.provider, settings.mailgun_region) == ("mailgun", "eu")
    assert settings.http_timeout_seconds == 10.0


def test_credentials_of_another_provider_are_not_required(monkeypatch):
    monkeypatch.setenv("NURTURE_PROVIDER", "smtp")
    assert load_settings().sendgrid_api_key is None


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("NURTURE_MAILGUN_REGION", "ap", "NURTURE_MAILGUN_REGION='ap':"),
        ("NURTURE_SENDGRID_BASE_URL", "api.sendgrid.com", "must start with http://"),
        ("NURTURE_HTTP_TIMEOUT_SECONDS", "0", "NURTURE_HTTP_TIMEOUT_SECONDS='0':"),
    ],
)
def test_bad_provider_setting_is_one_clear_line(monkeypatch, name, value, expected):
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert expected in str(caught.value) and "\n" not in str(caught.value)


class TestWebhookSettings:
    def test_no_webhook_provider_is_configured_by_default(self):
        secrets = load_settings().webhook_secrets()
        assert not any(
            secrets.configured(p) for p in ("sendgrid", "mailgun", "postmark", "ses", "resend")
        )
        assert secrets.tolerance_seconds == 300.0

    def test_each_secret_enables_its_provider(self, monkeypatch):
        from tests.ingest.test_sendgrid import PUBLIC

        monkeypatch.setenv("NURTURE_SENDGRID_WEBHOOK_PUBLIC_KEY", PUBLIC)
        monkeypatch.setenv("NURTURE_MAILGUN_WEBHOOK_SIGNING_KEY", "key-abc")
        monkeypatch.setenv("NURTURE_POSTMARK_WEBHOOK_AUTH", "hooks:pa:ss")
        monkeypatch.setenv(
            "NURTURE_SES_TOPIC_ARNS",
            "arn:aws:sns:eu-west-1:123456789012:a, arn:aws:sns:eu-west-1:123456789012:b",
        )
        monkeypatch.setenv("NURTURE_RESEND_WEBHOOK_SECRET", "whsec_c2VjcmV0")
        monkeypatch.setenv("NURTURE_WEBHOOK_TOLERANCE_SECONDS", "60")
        secrets = load_settings().webhook_secrets()
        assert all(
            secrets.configured(p) for p in ("sendgrid", "mailgun", "postmark", "ses", "resend")
        )
        assert secrets.ses_topic_arns == {
            "arn:aws:sns:eu-west-1:123456789012:a",
            "arn:aws:sns:eu-west-1:123456789012:b",
        }
        assert secrets.tolerance_seconds == 60.0

    def test_soft_bounce_limits(self, monkeypatch):
        monkeypatch.setenv("NURTURE_SOFT_BOUNCE_LIMIT", "5")
        monkeypatch.setenv("NURTURE_SOFT_BOUNCE_WINDOW_DAYS", "2")
        settings = load_settings()
        assert settings.soft_bounce_limit == 5
        assert settings.soft_bounce_window.days == 2

    @pytest.mark.parametrize(
        ("name", "value", "expected"),
        [
            ("NURTURE_SENDGRID_WEBHOOK_PUBLIC_KEY", "bm90IGEga2V5", "elliptic-curve public key"),
            ("NURTURE_POSTMARK_WEBHOOK_AUTH", "justauser", "must be user:password"),
            ("NURTURE_RESEND_WEBHOOK_SECRET", "s3cret-value", "must be whsec_"),
            ("NURTURE_SES_TOPIC_ARNS", "ses-events", "'ses-events' is not a topic ARN"),
            ("NURTURE_SES_CERT_URL_PATTERN", "^https://(sns", "is not a regular expression"),
            ("NURTURE_WEBHOOK_TOLERANCE_SECONDS", "0", "NURTURE_WEBHOOK_TOLERANCE_SECONDS="),
            ("NURTURE_SOFT_BOUNCE_LIMIT", "0", "NURTURE_SOFT_BOUNCE_LIMIT="),
        ],
    )
    def test_a_bad_webhook_setting_stops_start_with_one_line(
        self, monkeypatch, name, value, expected
    ):
        monkeypatch.setenv(name, value)
        with pytest.raises(SettingsError) as caught:
            load_settings()
        assert expected in str(caught.value)
        assert "\n" not in str(caught.value)

    def test_a_bad_secret_is_not_echoed(self, monkeypatch):
        monkeypatch.setenv("NURTURE_RESEND_WEBHOOK_SECRET", "hunter2-hunter2")
        with pytest.raises(SettingsError) as caught:
            load_settings()
        assert "NURTURE_RESEND_WEBHOOK_SECRET" in str(caught.value)
        assert "hunter2" not in str(caught.value)
