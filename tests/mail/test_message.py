"""The outgoing MIME message: headers every marketing email carries, and both parts.
Each test parses the bytes back, as a receiving server would."""

import email
import email.policy
from datetime import UTC, datetime, timedelta, timezone
from email.message import EmailMessage

import pytest

from nurture.core.funnel import Sender
from nurture.mail import RenderedEmail
from nurture.mail.message import (
    OutgoingEmail,
    build_message,
    encode_message,
    header_message_id,
    unsubscribe_links,
)
from nurture.mail.tokens import UnsubscribeClaim, verify_unsubscribe

KEY = b"k" * 32
NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
SENDER = Sender(
    from_address="maya@Lumen-Analytics.example",
    from_name="Maya Chen, Lumen",
    reply_to="hello@lumen-analytics.example",
    postal_address="548 Market St #4410, San Francisco, CA 94104",
)
RENDERED = RenderedEmail(
    subject="Grüße, Jordan: your dashboards",
    preheader="Three ideas",
    html="<html><body><p>Hi Jordan, welcome. " + "x" * 200 + "</p></body></html>",
    text="Hi Jordan, welcome.\n\nUnsubscribe: https://nurture.test/u/t\n",
)


def build(
    message_id: int = 1001, sender: Sender = SENDER, now: datetime = NOW, **links: str
) -> EmailMessage:
    https_url, mailto = unsubscribe_links("https://nurture.test", 42, message_id, KEY, sender)
    return build_message(
        RENDERED,
        sender,
        "jordan.rivera@northwind.example",
        message_id,
        links.get("https_url", https_url),
        links.get("mailto", mailto),
        now,
    )


def parsed(mime: EmailMessage) -> EmailMessage:
    message = email.message_from_bytes(mime.as_bytes(), policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


class TestHeaders:
    def test_from_to_reply_to_and_subject(self):
        message = parsed(build())

        assert message["From"].addresses[0].display_name == "Maya Chen, Lumen"
        assert message["From"].addresses[0].addr_spec == "maya@Lumen-Analytics.example"
        assert message["To"] == "jordan.rivera@northwind.example"
        assert message["Reply-To"] == "hello@lumen-analytics.example"
        assert message["Subject"] == "Grüße, Jordan: your dashboards"

    def test_no_reply_to_when_the_sender_has_none(self):
        sender = Sender("maya@lumen.example", "", None, "548 Market St")

        message = parsed(build(sender=sender))

        assert "Reply-To" not in message
        assert message["From"] == "maya@lumen.example"

    def test_date_is_the_given_now(self):
        paris = timezone(timedelta(hours=1))

        message = parsed(build(now=NOW.astimezone(paris)))

        assert message["Date"].datetime == NOW
        assert message["Date"].endswith("+0100")

    def test_message_id_is_derived_from_the_row_and_the_sender_domain(self):
        message = parsed(build(message_id=1001))

        assert message["Message-ID"] == "<nurture.1001@lumen-analytics.example>"
        assert message["X-Nurture-Message-Id"] == "1001"

    def test_the_same_row_gets_the_same_message_id_and_another_row_another(self):
        assert build(1001)["Message-ID"] == build(1001)["Message-ID"]
        assert build(1001)["Message-ID"] != build(1002)["Message-ID"]

    def test_list_unsubscribe_has_the_https_url_and_the_mailto(self):
        https_url, mailto = unsubscribe_links("https://nurture.test", 42, 1001, KEY, SENDER)

        message = parsed(build())

        assert message["List-Unsubscribe"] == f"<{https_url}>, <{mailto}>"
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    def test_list_unsubscribe_is_folded_between_urls_never_encoded(self):
        raw = build().as_bytes()
        header = raw.split(b"List-Unsubscribe: ")[1].split(b"\r\nList-Unsubscribe-Post")[0]

        assert b"=?" not in header
        assert header.startswith(b"<https://nurture.test/u/")
        assert header.split(b",\r\n ")[1].startswith(b"<mailto:unsubscribe@")
        assert all(len(line) <= 998 for line in raw.split(b"\r\n"))

    def test_the_message_is_crlf_on_the_wire(self):
        raw = build().as_bytes()

        assert b"\r\n" in raw
        assert b"\n" not in raw.replace(b"\r\n", b"")

    @pytest.mark.parametrize(
        "url", ["https://x.test/u/a b", "https://x.test/u/<a>", "https://é.test/u"]
    )
    def test_an_unsafe_unsubscribe_link_is_a_programming_error(self, url):
        with pytest.raises(ValueError, match="unsubscribe link"):
            build(https_url=url)

    def test_a_naive_now_is_a_programming_error(self):
        with pytest.raises(ValueError, match="timezone-aware"):
            build(now=NOW.replace(tzinfo=None))


class TestParts:
    def test_text_then_html_inside_multipart_alternative(self):
        message = parsed(build())

        assert message.get_content_type() == "multipart/alternative"
        assert [part.get_content_type() for part in message.iter_parts()] == [
            "text/plain",
            "text/html",
        ]

    def test_both_parts_are_utf8_and_carry_the_rendered_content(self):
        message = parsed(build())
        text = message.get_body(("plain",))
        html = message.get_body(("html",))

        assert text is not None and html is not None
        assert text.get_content_charset() == html.get_content_charset() == "utf-8"
        assert text.get_content().replace("\r\n", "\n") == RENDERED.text
        assert html.get_content().strip() == RENDERED.html

    def test_long_lines_are_quoted_printable(self):
        raw = build().as_bytes()

        assert b"Content-Transfer-Encoding: quoted-printable" in raw
        assert all(len(line) <= 78 for line in raw.split(b"\r\n\r\n", 1)[1].split(b"\r\n"))

    def test_mime_version_only_on_the_top_level(self):
        assert build().as_bytes().count(b"MIME-Version: 1.0") == 1


class TestUnsubscribeLinks:
    def test_the_https_url_carries_a_token_for_the_lead_and_message(self):
        https_url, _ = unsubscribe_links("https://nurture.test/", 42, 1001, KEY, SENDER)

        assert https_url.startswith("https://nurture.test/u/")
        token = https_url.removeprefix("https://nurture.test/u/")
        assert verify_unsubscribe(token, KEY) == UnsubscribeClaim(42, 1001)

    def test_the_mailto_goes_to_the_sender_domain_with_the_token_in_the_subject(self):
        https_url, mailto = unsubscribe_links("https://nurture.test", 42, 1001, KEY, SENDER)
        token = https_url.rsplit("/", 1)[1]

        assert mailto == (
            f"mailto:unsubscribe@lumen-analytics.example?subject=unsubscribe%20{token}"
        )


class TestOutgoingEmail:
    def test_header_message_id_drops_the_angle_brackets(self):
        assert header_message_id(build()) == "nurture.1001@lumen-analytics.example"

    @pytest.mark.parametrize("key", ["", ".hidden", "../etc/passwd", "a/b", "a b", "k" * 129])
    def test_an_unusable_idempotency_key_is_refused(self, key):
        with pytest.raises(ValueError, match="idempotency key"):
            OutgoingEmail(1001, key, "jordan@northwind.example", build())

    def test_a_plain_key_is_accepted(self):
        email_ = OutgoingEmail(1001, "nurture-1001", "jordan@northwind.example", build())

        assert email_.idempotency_key == "nurture-1001"


class TestWireFormat:
    """The bytes are written directly (not through EmailMessage): edge cases of headers."""

    def raw(self, subject: str, sender: Sender = SENDER) -> bytes:
        https_url, mailto = unsubscribe_links("https://nurture.test", 42, 7, KEY, sender)
        rendered = RenderedEmail(subject, "", "<p>Hi</p>", "Hi\n")
        return encode_message(rendered, sender, "jo@northwind.example", 7, https_url, mailto, NOW)

    def test_a_long_ascii_subject_is_folded_between_words_and_reads_back_whole(self):
        subject = " ".join(["dashboards"] * 20)

        raw = self.raw(subject)

        head = raw.split(b"\r\n\r\n", 1)[0]
        assert all(len(line) <= 78 for line in head.split(b"\r\n") if b"<" not in line)
        assert parsed_bytes(raw)["Subject"] == subject

    def test_a_line_break_in_a_subject_cannot_add_a_header(self):
        raw = self.raw("Hello\r\nBcc: victim@example.com")

        message = parsed_bytes(raw)
        assert "Bcc" not in message
        assert message["Subject"] == "Hello Bcc: victim@example.com"

    def test_text_that_looks_like_an_encoded_word_is_itself_encoded(self):
        assert parsed_bytes(self.raw("=?utf-8?q?x?= literally"))["Subject"] == (
            "=?utf-8?q?x?= literally"
        )

    def test_a_non_ascii_display_name_is_encoded_and_reads_back(self):
        sender = Sender("maya@lumen.example", "Maÿa Chén", None, "548 Market St")

        from_ = parsed_bytes(self.raw("Hi", sender))["From"].addresses[0]

        assert (from_.display_name, from_.addr_spec) == ("Maÿa Chén", "maya@lumen.example")

    def test_the_boundary_cannot_occur_in_a_part(self):
        """The parts are quoted-printable, which never writes "=_"; the boundary starts so."""
        https_url, mailto = unsubscribe_links("https://nurture.test", 42, 7, KEY, SENDER)
        tricky = "--=_nurture.7\n=_nurture.7 = _ ==_ \u00e9" * 30
        rendered = RenderedEmail("Hi", "", f"<p>{tricky}</p>", tricky)

        raw = encode_message(rendered, SENDER, "jo@n.example", 7, https_url, mailto, NOW)

        message = parsed_bytes(raw)
        assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
        text = message.get_body(("plain",))
        assert text is not None and text.get_content().replace("\r\n", "\n") == tricky + "\n"


def parsed_bytes(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message
