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
