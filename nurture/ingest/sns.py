"""Amazon SNS message verification (the envelope SES events arrive in).

SNS signs a canonical string: for each field, in this order and only if present,
``name\\nvalue\\n``. Notification: Message, MessageId, Subject, Timestamp, TopicArn, Type.
SubscriptionConfirmation and UnsubscribeConfirmation: Message, MessageId, SubscribeURL,
Timestamp, Token, TopicArn, Type. SignatureVersion 1 is RSA PKCS#1 v1.5 over SHA-1, 2 over
SHA-256, with the key of the X.509 certificate at ``SigningCertURL``.

That certificate is trusted only because of where it comes from: it is fetched (never
following redirects) only from a URL matching the configured pattern, by default an https URL
on an ``sns.<region>.amazonaws.com[.cn]`` host, and cached per URL. ``SubscribeURL`` obeys the
same rule. The topic allowlist is checked before anything is fetched.
"""

from __future__ import annotations

import base64
import binascii
import re
import threading
from collections.abc import Collection
from typing import Any

import httpx
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from nurture.errors import WebhookMalformed, WebhookUnauthorized, WebhookVerifierUnavailable
from nurture.ingest.events import obj

#: SNS signing certificates and subscribe URLs live on the regional SNS endpoints
#: (``https://sns.us-east-1.amazonaws.com/SimpleNotificationService-<hash>.pem``; China
#: regions end in ``.amazonaws.com.cn``).
DEFAULT_CERT_URL_PATTERN = r"^https://sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/"
DEFAULT_TIMEOUT = httpx.Timeout(5.0, connect=3.0)
MAX_CERT_BYTES = 64 * 1024
MAX_CACHED_CERTS = 32

NOTIFICATION_FIELDS = ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type")
CONFIRMATION_FIELDS = (
    "Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type",
)  # fmt: skip
SIGNED_FIELDS = {
    "Notification": NOTIFICATION_FIELDS,
    "SubscriptionConfirmation": CONFIRMATION_FIELDS,
    "UnsubscribeConfirmation": CONFIRMATION_FIELDS,
}
HASHES: dict[str, type[hashes.HashAlgorithm]] = {"1": hashes.SHA1, "2": hashes.SHA256}


class SnsCertificates:
    """Fetches and caches SNS signing certificates, only from allowed URLs.

    One per process; share it across requests. ``client`` is injected (explicit timeouts);
    without one, a private client with ``DEFAULT_TIMEOUT`` is made on first use.
    """

    def __init__(
        self,
        url_pattern: str = DEFAULT_CERT_URL_PATTERN,
        client: httpx.Client | None = None,
    ) -> None:
        self.url_pattern = re.compile(url_pattern)
        self._client = client
        self._owns_client = client is None
        self._certs: dict[str, x509.Certificate] = {}
        self._lock = threading.Lock()

    def allowed(self, url: str) -> bool:
        """Does ``url`` match the configured pattern?"""
        return self.url_pattern.match(url) is not None

    def check_url(self, url: str, what: str) -> None:
        """WebhookUnauthorized unless ``url`` is allowed (nothing is fetched otherwise)."""
        if not self.allowed(url):
            raise WebhookUnauthorized(
                f"{what} {url[:200]!r} does not match the allowed pattern"
                f" {self.url_pattern.pattern!r}"
            )

    def client(self) -> httpx.Client:
        if self._client is None:
            self._client = httpx.Client(timeout=DEFAULT_TIMEOUT, follow_redirects=False)
        return self._client

    def close(self) -> None:
        """Close the HTTP client if this object made it (an injected one is the caller's)."""
        if self._owns_client and self._client is not None:
            self._client.close()
            self._client = None

    def get(self, url: str) -> x509.Certificate:
        """The certificate at an allowed ``url``: fetched once, then from the cache."""
        self.check_url(url, "SigningCertURL")
        with self._lock:
            cached = self._certs.get(url)
        if cached is not None:
            return cached
        cert = self._fetch(url)
        with self._lock:
            if len(self._certs) >= MAX_CACHED_CERTS:
                self._certs.pop(next(iter(self._certs)))
            self._certs[url] = cert
        return cert

    def _fetch(self, url: str) -> x509.Certificate:
        try:
            response = self.client().get(url, follow_redirects=False)
        except httpx.HTTPError as exc:
            raise WebhookVerifierUnavailable(
                f"could not fetch the SNS signing certificate: {type(exc).__name__}"
            ) from exc
        if response.status_code != 200 or len(response.content) > MAX_CERT_BYTES:
            raise WebhookVerifierUnavailable(
                f"SNS signing certificate URL answered {response.status_code}"
                f" with {len(response.content)} bytes"
            )
        try:
            return x509.load_pem_x509_certificate(response.content)
        except ValueError as exc:
            raise WebhookVerifierUnavailable(
                "SigningCertURL did not serve a PEM certificate"
            ) from exc


def canonical_string(message: dict[str, Any]) -> bytes:
    """The bytes SNS signed for this message type (see the module docstring)."""
    fields = SIGNED_FIELDS[message["Type"]]
    parts: list[str] = []
    for name in fields:
        value = message.get(name)
        if value is None:
            continue
        if not isinstance(value, str):
            raise WebhookMalformed(f"SNS field {name!r} is not a string")
        parts.append(f"{name}\n{value}\n")
    return "".join(parts).encode("utf-8")


def envelope(payload: Any) -> dict[str, Any]:
    """The SNS message checked for shape (type known, required fields present)."""
    message = obj(payload, "SNS message")
    kind = message.get("Type")
    if kind not in SIGNED_FIELDS:
        raise WebhookMalformed(f"SNS message Type {kind!r} is not a known SNS message type")
    required = {"Message", "MessageId", "Timestamp", "TopicArn", "Signature", "SigningCertURL"}
    if kind != "Notification":
        required |= {"SubscribeURL", "Token"}
    missing = sorted(name for name in required if not isinstance(message.get(name), str))
    if missing:
        raise WebhookMalformed(f"SNS {kind} is missing {', '.join(missing)}")
    return message


def verify_message(
    message: dict[str, Any], *, certs: SnsCertificates, topic_arns: Collection[str]
) -> None:
    """Raise WebhookUnauthorized unless the topic is allowed, the certificate URL matches and
    the signature verifies; WebhookVerifierUnavailable if the certificate cannot be had."""
    topic = message["TopicArn"]
    if topic not in topic_arns:
        raise WebhookUnauthorized(f"SNS TopicArn {topic!r} is not in the allowed topics")
    version = str(message.get("SignatureVersion", ""))
    algorithm = HASHES.get(version)
    if algorithm is None:
        raise WebhookUnauthorized(f"SNS SignatureVersion {version!r} is not 1 or 2")
    try:
        signature = base64.b64decode(message["Signature"], validate=True)
    except (binascii.Error, ValueError) as exc:
        raise WebhookUnauthorized("SNS Signature is not base64") from exc
    key = certs.get(message["SigningCertURL"]).public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        raise WebhookUnauthorized("SNS signing certificate does not hold an RSA key")
    try:
        key.verify(signature, canonical_string(message), padding.PKCS1v15(), algorithm())
    except InvalidSignature as exc:
        raise WebhookUnauthorized(
            f"SNS Signature (version {version}) does not match the message"
        ) from exc


def confirm_subscription(url: str, *, certs: SnsCertificates) -> None:
    """Confirm an SNS subscription by GETting its SubscribeURL, under the same URL rule as
    certificates. WebhookUnauthorized if not allowed; WebhookVerifierUnavailable if SNS does
    not answer 200 (the confirmation can be retried)."""
    certs.check_url(url, "SubscribeURL")
    try:
        response = certs.client().get(url, follow_redirects=False)
    except httpx.HTTPError as exc:
        raise WebhookVerifierUnavailable(
            f"could not confirm the SNS subscription: {type(exc).__name__}"
        ) from exc
    if response.status_code != 200:
        raise WebhookVerifierUnavailable(
            f"SNS SubscribeURL answered {response.status_code}, not 200"
        )
