"""add_tracking: which links go through the click redirect, what the tokens carry, and that
nothing else in the HTML changes."""

import html as html_lib
import re

import lxml.html
import pytest

from nurture.errors import BadToken
from nurture.mail.tokens import (
    CLICK,
    OPEN,
    TrackingClaim,
    sign,
    sign_click,
    sign_open,
    sign_unsubscribe,
    verify_click,
    verify_open,
)
from nurture.mail.tracking import add_tracking, tracking_enabled

KEY = b"k" * 32
BASE = "https://mail.lumen.example"
UNSUBSCRIBE = f"{BASE}/u/{sign_unsubscribe(7, 42, KEY)}"
PREFERENCES = UNSUBSCRIBE.replace("/u/", "/p/")
TRACKED = re.compile(re.escape(BASE) + r"/c/([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)")
PIXEL = re.compile(r'<img src="' + re.escape(BASE) + r'/o/([A-Za-z0-9_.-]+)\.gif"[^>]*>')

EMAIL = f"""<!doctype html>
<html><head><style>a {{ color: #2563eb; }}</style></head>
<body style="margin:0">
<!--[if mso]><table><tr><td><![endif]-->
<p>Hi Jordan, here is <a href="https://lumen.example/guide?utm_source=nurture&amp;step=2"
   class="button" style="color:#fff">the metrics guide</a>.</p>
<p><A HREF='http://lumen.example/Blog'>Blog</A> · <a title="go > there" href=https://lumen.example/x>X</a></p>
<p>Questions? <a href="mailto:maya@lumen.example">Write to Maya</a> or
<a href="tel:+14155550100">call</a>. <a href="#top">Back to top</a>.</p>
<p><a data-nurture-track="off" href="https://lumen.example/private">no tracking</a></p>
<p><a name="anchor">a named anchor</a> <abbr title="x">abbr</abbr></p>
<div class="footer"><a href="{UNSUBSCRIBE}">Unsubscribe</a> ·
<a href="{PREFERENCES}">Email preferences</a></div>
<!--[if mso]></td></tr></table><![endif]-->
</body>
</html>
"""


def track(html=EMAIL):
    return add_tracking(html, message_id=42, lead_id=7, key=KEY, base_url=BASE + "/")


def tracked_urls(html):
    return [verify_click(token, KEY).url for token in TRACKED.findall(html)]


class TestLinks:
    def test_each_web_link_goes_through_the_redirect_carrying_its_exact_url(self):
        assert tracked_urls(track()) == [
            "https://lumen.example/guide?utm_source=nurture&step=2",  # &amp; unescaped
            "http://lumen.example/Blog",
            "https://lumen.example/x",
        ]

    def test_the_tokens_name_the_lead_and_the_message(self):
        [token, *_] = TRACKED.findall(track())

        claim = verify_click(token, KEY)

        assert (claim.lead_id, claim.message_id) == (7, 42)

    @pytest.mark.parametrize(
        "href",
        [
            "mailto:maya@lumen.example",
            "tel:+14155550100",
            "#top",
            UNSUBSCRIBE,
            PREFERENCES,
            "https://lumen.example/private",
        ],
    )
    def test_these_links_are_left_untouched(self, href):
        assert f'href="{href}"' in track()

    def test_everything_but_the_tracked_hrefs_and_the_pixel_is_byte_identical(self):
        result = PIXEL.sub("", track())

        def original(match):
            return html_lib.escape(verify_click(match[1], KEY).url, quote=False)

        assert TRACKED.sub(original, result) == EMAIL

    def test_the_text_a_reader_sees_is_identical(self):
        def text(html):
            return lxml.html.document_fromstring(html).text_content()

        assert text(track()) == text(EMAIL)

    def test_a_link_already_through_our_redirect_is_not_wrapped_again(self):
        once = track()

        assert tracked_urls(
            add_tracking(PIXEL.sub("", once), message_id=42, lead_id=7, key=KEY, base_url=BASE)
        ) == tracked_urls(once)

    def test_html_without_links_only_gains_the_pixel(self):
        html = "<html><body><p>No links</p></body></html>"

        assert PIXEL.sub("", track(html)) == html


class TestPixel:
    def test_one_pixel_goes_just_before_the_end_of_the_body(self):
        result = track()

        [token] = PIXEL.findall(result)
        assert verify_open(token, KEY) == TrackingClaim(lead_id=7, message_id=42)
        assert re.search(PIXEL.pattern + r"</body>", result)
        assert 'width="1" height="1" alt=""' in result

    def test_without_a_body_tag_the_pixel_goes_at_the_end(self):
        result = track("<p>fragment</p>")

        assert result.startswith("<p>fragment</p><img ")


class TestTokens:
    def test_an_open_token_is_not_a_click_token_and_the_reverse(self):
        with pytest.raises(BadToken):
            verify_click(sign_open(7, 42, KEY), KEY)
        with pytest.raises(BadToken):
            verify_open(sign_click(7, 42, "https://x.example/", KEY), KEY)

    @pytest.mark.parametrize(
        "url", ["javascript:alert(1)", "//evil.example/", "data:text/html,hi", "ftp://x.example"]
    )
    def test_a_click_token_only_ever_carries_an_http_url(self, url):
        with pytest.raises(BadToken):
            verify_click(sign(CLICK, f"lead:7:msg:42:{url}", KEY), KEY)

    def test_a_click_token_with_its_url_swapped_is_refused(self):
        token = sign_click(7, 42, "https://lumen.example/guide", KEY)
        other = sign_click(7, 42, "https://evil.example/", KEY)

        with pytest.raises(BadToken):
            verify_click(f"{other.split('.')[0]}.{token.split('.')[1]}", KEY)

    def test_open_payload_must_name_a_lead_and_message(self):
        with pytest.raises(BadToken):
            verify_open(sign(OPEN, "lead:7", KEY), KEY)


class TestSetting:
    @pytest.mark.parametrize(
        ("provider", "expected"),
        [("smtp", True), ("outbox", True), ("sendgrid", False), ("postmark", False)],
    )
    def test_default_is_on_only_where_the_provider_does_not_track(self, provider, expected):
        assert tracking_enabled(provider, None) is expected

    def test_an_explicit_setting_wins(self):
        assert tracking_enabled("smtp", False) is False
        assert tracking_enabled("mailgun", True) is True
