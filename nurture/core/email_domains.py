"""Email domains that say nothing about an employer (free mail), so they make no account."""

from __future__ import annotations

FREE_MAIL_DOMAINS = frozenset(
    {
        "aol.com",
        "gmail.com",
        "googlemail.com",
        "gmx.com",
        "gmx.de",
        "gmx.net",
        "hey.com",
        "hotmail.com",
        "hotmail.co.uk",
        "hotmail.fr",
        "icloud.com",
        "live.com",
        "mac.com",
        "mail.com",
        "mail.ru",
        "me.com",
        "msn.com",
        "outlook.com",
        "pm.me",
        "proton.me",
        "protonmail.com",
        "qq.com",
        "tutanota.com",
        "web.de",
        "yahoo.com",
        "yahoo.co.uk",
        "yahoo.fr",
        "yandex.com",
        "yandex.ru",
        "zoho.com",
        "fastmail.com",
        "laposte.net",
        "orange.fr",
        "free.fr",
        "163.com",
        "126.com",
        "naver.com",
    }
)


def email_domain(email: str) -> str:
    return email.rsplit("@", 1)[-1].lower()


def company_domain(email: str) -> str | None:
    """The employer's domain for a work address; None for free mail."""
    domain = email_domain(email)
    return None if domain in FREE_MAIL_DOMAINS else domain
