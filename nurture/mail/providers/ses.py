"""Amazon SES provider: the SES API v2 ``SendEmail`` (``POST /v2/email/outbound-emails``),
signed with AWS Signature Version 4.

Signing uses botocore's ``SigV4Auth`` on an ``AWSRequest``: AWS's own implementation (the
one boto3 and the AWS CLI sign with), released with every AWS change, wrapped as an
``httpx.Auth`` so the request still goes through our client, timeouts and error mapping.
Not hand-written SigV4 (crypto we would have to keep right), not httpx-auth's AWS4Auth (it
pins httpx to one minor version, and a rewrite of its signing in 0.20 broke working
callers). Not the SES SMTP interface either: SmtpProvider would work, but the API gives what
SMTP cannot: the SES message id in a JSON answer, message tags for our id, a configuration
set per request, and error types that tell throttling from rejection.

The MIME bytes go as they are in ``Content.Raw.Data`` (base64), so every header we set
reaches the recipient; SES may replace Message-ID with its own, so X-Nurture-Message-Id
and the tag are what correlate. Our message id goes in ``EmailTags`` as
``nurture_message_id``, which SES returns in ``mail.tags`` of its SNS event notifications
when a configuration set publishes events. SES answers ``{"MessageId": "…"}``; errors carry
``{"message": "…"}`` and the error type in ``x-amzn-ErrorType``.

``supports_lookup`` is False: SES has no idempotency key and no API to look a sent
message up.
"""

from __future__ import annotations

import base64
from collections.abc import Generator
from typing import Any

import httpx
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from nurture.mail.message import OutgoingEmail
from nurture.mail.providers._http import HttpProvider, accepted_id, json_body, make_client

SEND_PATH = "/v2/email/outbound-emails"
# Errors about our account or sending rate rather than this message: retry later.
_RETRYABLE_TYPES = frozenset(
    {
        "TooManyRequestsException",
        "Throttling",
        "ThrottlingException",
        "LimitExceededException",
        "SendingPausedException",
        "AccountSuspendedException",
        "MailFromDomainNotVerifiedException",
    }
)


class AwsSigV4(httpx.Auth):
    """Signs each request for ``service`` in ``region``. Only Content-Type, Host and
    X-Amz-Date are signed, so nothing httpx adds later can break the signature."""

    requires_request_body = True

    def __init__(self, credentials: Credentials, region: str, service: str = "ses") -> None:
        self.signer = SigV4Auth(credentials, service, region)

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        signed = AWSRequest(
            method=request.method,
            url=str(request.url),
            data=request.content,
            headers={"Content-Type": request.headers.get("Content-Type", "")},
        )
        self.signer.add_auth(signed)
        for name in ("Authorization", "X-Amz-Date", "X-Amz-Security-Token"):
            value = signed.headers.get(name)
            if value is not None:
                request.headers[name] = value
        yield request


class SesProvider(HttpProvider):
    name = "ses"

    def __init__(
        self,
        region: str,
        access_key_id: str,
        secret_access_key: str,
        *,
        configuration_set: str | None = None,
        base_url: str | None = None,
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.region = region
        self.configuration_set = configuration_set
        auth = AwsSigV4(Credentials(access_key_id, secret_access_key), region)
        url = base_url or f"https://email.{region}.amazonaws.com"
        super().__init__(make_client(url, timeout, auth=auth, transport=transport))

    def send(self, email: OutgoingEmail) -> str:
        response = self.post(SEND_PATH, json=self.payload(email))
        body = json_body(response)
        found = body.get("MessageId") if isinstance(body, dict) else None
        return accepted_id(found, email.rfc_message_id)

    def payload(self, email: OutgoingEmail) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "Destination": {"ToAddresses": [email.to]},
            "Content": {"Raw": {"Data": base64.b64encode(email.data).decode("ascii")}},
            "EmailTags": [{"Name": "nurture_message_id", "Value": str(email.message_id)}],
        }
        if self.configuration_set:
            payload["ConfigurationSetName"] = self.configuration_set
        return payload

    def error_text(self, response: httpx.Response) -> str | None:
        body = json_body(response)
        message = None
        if isinstance(body, dict):
            message = body.get("message") or body.get("Message")
        kind = _error_type(response)
        text = ": ".join(str(part) for part in (kind, message) if part)
        return text or None

    def retryable(self, response: httpx.Response) -> bool:
        return _error_type(response) in _RETRYABLE_TYPES


def _error_type(response: httpx.Response) -> str | None:
    """``MessageRejected`` from ``x-amzn-ErrorType: MessageRejected:http://…`` or a body
    ``__type`` (``com.amazonaws…#MessageRejected``)."""
    raw = response.headers.get("x-amzn-ErrorType")
    if raw is None:
        body = json_body(response)
        raw = body.get("__type") if isinstance(body, dict) else None
    if not raw:
        return None
    return str(raw).split(":", 1)[0].rsplit("#", 1)[-1] or None
