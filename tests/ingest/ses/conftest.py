"""Shared by the SES-via-SNS tests: a test certificate served locally, signing and payloads."""

import base64
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from nurture.ingest import ses
from nurture.ingest.sns import SnsCertificates

NOW = datetime(2026, 3, 2, 12, 0, 0, tzinfo=UTC)
TOPIC = "arn:aws:sns:us-east-1:123456789012:ses-events"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
NAME = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.test")])
CERT_PEM = (
    x509.CertificateBuilder()
    .subject_name(NAME)
    .issuer_name(NAME)
    .public_key(KEY.public_key())
    .serial_number(x509.random_serial_number())
    .not_valid_before(NOW - timedelta(days=1))
    .not_valid_after(NOW + timedelta(days=365))
    .sign(KEY, hashes.SHA256())
    .public_bytes(serialization.Encoding.PEM)
)
NOTIFICATION_ORDER = ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]
CONFIRM_ORDER = ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"]


def sign(
    message: dict[str, Any], version: str = "2", key: rsa.RSAPrivateKey = KEY
) -> dict[str, Any]:
    order = NOTIFICATION_ORDER if message["Type"] == "Notification" else CONFIRM_ORDER
    text = "".join(f"{k}\n{message[k]}\n" for k in order if k in message)
    algorithm = hashes.SHA1() if version == "1" else hashes.SHA256()
    signature = key.sign(text.encode(), padding.PKCS1v15(), algorithm)
    return message | {
        "SignatureVersion": version,
        "Signature": base64.b64encode(signature).decode(),
    }


@pytest.fixture
def cert_url(httpserver):
    httpserver.expect_request("/SimpleNotificationService-abc.pem").respond_with_data(CERT_PEM)
    return httpserver.url_for("/SimpleNotificationService-abc.pem")


@pytest.fixture
def certs(httpserver):
    return SnsCertificates("^" + re.escape(httpserver.url_for("/")))


def notification(ses_event: dict[str, Any], cert_url: str, version: str = "2", **fields) -> bytes:
    message = {
        "Type": "Notification",
        "MessageId": "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
        "TopicArn": TOPIC,
        "Message": json.dumps(ses_event),
        "Timestamp": "2026-03-02T11:59:59.655Z",
        "SigningCertURL": cert_url,
        "UnsubscribeURL": "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe",
    } | fields
    return json.dumps(sign(message, version)).encode()


MAIL = {
    "timestamp": "2026-03-02T11:58:00.012Z",
    "source": "Sender <sender@example.com>",
    "sendingAccountId": "123456789012",
    "messageId": "EXAMPLE7c191be45-e9aedb9a-02f9-4d12-a87d-dd0099a07f8a-000000",
    "destination": ["Ada@Example.com"],
    "headersTruncated": False,
    "headers": [
        {"name": "From", "value": "sender@example.com"},
        {"name": "X-Nurture-Message-Id", "value": "41"},
    ],
    "tags": {"ses:configuration-set": ["nurture"], "nurture_message_id": ["42"]},
}


def ses_event(
    kind: str, detail_key: str | None = None, detail: dict[str, Any] | None = None, **extra
):
    event = {"eventType": kind, "mail": MAIL} | extra
    if detail_key:
        event[detail_key] = detail or {}
    return event


def parse(raw: bytes, certs: SnsCertificates, topics=(TOPIC,)):
    return ses.parse(raw, {}, NOW, certs=certs, topic_arns=frozenset(topics))
