"""Own tracking in the emails the loop sends: on by default where no provider tracks
(outbox, SMTP, memory), off when NURTURE_TRACKING=false; the text part keeps direct links."""

from __future__ import annotations

import email
from email.message import EmailMessage
from email.policy import default as default_policy

import pytest

from nurture.settings import Settings


def sent_parts(loop) -> tuple[str, str]:
    [sent] = loop.provider.sent
    message = email.message_from_bytes(sent.data, policy=default_policy)
    assert isinstance(message, EmailMessage)
    html, text = message.get_body(("html",)), message.get_body(("plain",))
    assert html is not None and text is not None
    return html.get_content(), text.get_content()


def test_links_go_through_the_click_redirect_and_an_open_pixel_is_added(loop):
    loop.add_lead()
    loop.step()

    html, text = sent_parts(loop)

    base = loop.runtime.settings.base_url
    assert f'href="{base}/c/' in html
    assert f'src="{base}/o/' in html
    assert f"{base}/c/" not in text  # the text part links straight to the page
    assert f"{base}/u/" in html  # the unsubscribe link itself is never redirected


@pytest.mark.parametrize("tracking", [False])
def test_no_tracking_when_it_is_turned_off(loop, tracking):
    settings = loop.runtime.settings
    loop.runtime.settings = Settings(
        api_keys="k", secret_key="s" * 32, var_dir=settings.var_dir, tracking=tracking
    )
    loop.add_lead()
    loop.step()

    html, _ = sent_parts(loop)

    base = loop.runtime.settings.base_url
    assert f"{base}/c/" not in html and f"{base}/o/" not in html
