"""The shape of a lead coming in (API body or CSV row), validated the same way for both."""

from __future__ import annotations

from functools import cache
from importlib import resources
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from email_validator import EmailNotValidError, validate_email
from pydantic import BaseModel, ConfigDict, Field, field_validator

Scalar = str | int | float | bool | None


def normalise_email(raw: str) -> str:
    """Identity of a lead: the syntactically valid address, lower-cased."""
    try:
        checked = validate_email(raw.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValueError(str(exc)) from None
    return checked.normalized.lower()


class LeadIn(BaseModel):
    """A lead to create or update. Fields left out are left as they are on update."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    email: str = Field(max_length=320, examples=["jordan.rivera@northwind.example"])
    first_name: str | None = Field(default=None, max_length=100)
    last_name: str | None = Field(default=None, max_length=100)
    title: str | None = Field(default=None, max_length=200)
    company: str | None = Field(default=None, max_length=200)
    company_domain: str | None = Field(
        default=None, max_length=253, description="Employer domain; default: the email's"
    )
    country: str | None = Field(default=None, description="ISO 3166 alpha-2, e.g. US, FR")
    time_zone: str | None = Field(
        default=None, description="IANA zone; default: from country, else the server default"
    )
    stage: str | None = Field(default=None, description="Only for new leads; default: initial")
    source: str | None = Field(default=None, max_length=100)
    attributes: dict[str, Scalar] = Field(default_factory=dict)

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        return normalise_email(value)

    @field_validator("country")
    @classmethod
    def _country(cls, value: str | None) -> str | None:
        if not value:
            return None
        code = value.upper()
        if code not in country_codes():
            raise ValueError(f"unknown country code {value!r}; use ISO 3166 alpha-2 (US, FR, DE)")
        return code

    @field_validator("time_zone")
    @classmethod
    def _time_zone(cls, value: str | None) -> str | None:
        if not value:
            return None
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r}; use an IANA name such as Europe/Paris"
            ) from None
        return value

    @field_validator("company_domain")
    @classmethod
    def _domain(cls, value: str | None) -> str | None:
        return value.lower().removeprefix("www.") if value else None

    @field_validator("first_name", "last_name", "title", "company", "source", "stage")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        return value or None


def _zone_table() -> list[tuple[str, str]]:
    text = resources.files("tzdata").joinpath("zoneinfo/zone.tab").read_text()
    rows = (line.split("\t") for line in text.splitlines() if line and not line.startswith("#"))
    return [(row[0], row[2]) for row in rows]


@cache
def country_codes() -> frozenset[str]:
    text = resources.files("tzdata").joinpath("zoneinfo/iso3166.tab").read_text()
    return frozenset(line[:2] for line in text.splitlines() if line and not line.startswith("#"))


@cache
def zone_for_country(country: str) -> str | None:
    """The first zone tzdata lists for a country (its main one, e.g. US → New York)."""
    return next((zone for code, zone in _zone_table() if code == country), None)
