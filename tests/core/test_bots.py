"""Machine/bot classification: one behaviour per test, thresholds tested either side with
the module's own defaults."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nurture.core.bots import (
    DEFAULT_THRESHOLDS,
    BotThresholds,
    Click,
    classify,
    is_apple_ip,
)

T0 = datetime(2026, 3, 2, 12, 0, 0, tzinfo=UTC)
CHROME = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36"
GMAIL_PROXY = (
    "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)"
)
LATER = T0 + timedelta(hours=2)


def opened(**kw: Any) -> tuple[bool, str | None]:
    return classify("opened", occurred_at=kw.pop("at", LATER), **kw)


def clicked(**kw: Any) -> tuple[bool, str | None]:
    return classify("clicked", occurred_at=kw.pop("at", LATER), delivered_at=T0, **kw)


class TestOpens:
    def test_a_person_in_a_browser_is_real(self):
        assert opened(user_agent=CHROME, ip="203.0.113.7") == (False, None)

    def test_gmail_image_proxy_is_a_real_open(self):
        assert opened(user_agent=GMAIL_PROXY, ip="66.249.93.84") == (False, None)

    def test_gmail_image_proxy_overrides_a_provider_flag(self):
        assert opened(user_agent=GMAIL_PROXY, provider_flag="mailgun client-info.bot=x") == (
            False,
            None,
        )

    def test_provider_flag_is_the_reason(self):
        assert opened(user_agent=CHROME, provider_flag="sendgrid sg_machine_open") == (
            True,
            "sendgrid sg_machine_open",
        )

    def test_apple_proxy_user_agent(self):
        machine, reason = opened(user_agent="Mozilla/5.0", ip="104.28.1.1")
        assert machine
        assert reason == "Apple Mail Privacy Protection (user agent 'Mozilla/5.0' only)"

    def test_apple_network_address(self):
        machine, reason = opened(user_agent=CHROME, ip="17.58.101.20")
        assert (machine, reason) == (True, "Apple Mail Privacy Protection (Apple IP 17.0.0.0/8)")

    def test_apple_address_as_ipv4_mapped_ipv6(self):
        assert opened(ip="::ffff:17.1.2.3")[0] is True

    def test_a_fuller_mozilla_user_agent_is_not_apple(self):
        assert opened(user_agent="Mozilla/5.0 (iPhone; CPU iPhone OS 17_0)")[0] is False

    def test_scanner_user_agent(self):
        assert opened(user_agent="Barracuda Sentinel (EE)") == (
            True,
            "scanner user agent (Barracuda)",
        )


class TestClicks:
    def test_click_well_after_delivery_is_real(self):
        assert clicked(user_agent=CHROME, url="https://e.com/a") == (False, None)

    def test_click_just_inside_the_delivery_threshold_is_a_scanner(self):
        at = T0 + DEFAULT_THRESHOLDS.click_after_delivery - timedelta(milliseconds=1)
        machine, reason = clicked(at=at, user_agent=CHROME)
        assert (machine, reason) == (True, "clicked 10.0s after delivery (link scanner)")

    def test_click_at_the_delivery_threshold_is_real(self):
        assert clicked(at=T0 + DEFAULT_THRESHOLDS.click_after_delivery, user_agent=CHROME) == (
            False,
            None,
        )

    def test_click_before_delivery_was_reported_is_a_scanner(self):
        assert clicked(at=T0 - timedelta(minutes=1), user_agent=CHROME)[0] is True

    def test_no_delivery_time_skips_the_timing_rule(self):
        assert classify("clicked", occurred_at=T0, user_agent=CHROME) == (False, None)

    def test_two_links_in_the_same_second_are_a_scanner(self):
        others = [Click(LATER + timedelta(milliseconds=400), "https://e.com/b")]
        machine, reason = clicked(url="https://e.com/a", other_clicks=others)
        assert machine and reason == "2 links clicked within 1s (link scanner)"

    def test_same_link_twice_in_a_second_is_a_double_click(self):
        others = [Click(LATER + timedelta(milliseconds=300), "https://e.com/a")]
        assert clicked(url="https://e.com/a", other_clicks=others) == (False, None)

    def test_links_further_apart_than_the_window_are_real(self):
        others = [Click(LATER + timedelta(seconds=1, milliseconds=1), "https://e.com/b")]
        assert clicked(url="https://e.com/a", other_clicks=others) == (False, None)

    def test_thresholds_are_parameters(self):
        strict = BotThresholds(click_after_delivery=timedelta(hours=3))
        assert clicked(user_agent=CHROME, thresholds=strict)[0] is True

    def test_head_request_is_a_link_checker(self):
        assert clicked(method="HEAD") == (True, "HEAD request (link checker)")

    @pytest.mark.parametrize(
        ("agent", "name"),
        [
            ("Mozilla/5.0 (compatible; Mimecast URL Protect)", "Mimecast"),
            ("Proofpoint URL Defense", "Proofpoint"),
            ("Microsoft Office SafeLinks", "Microsoft Safe Links"),
            ("Symantec Email Security.cloud", "Symantec"),
            ("python-requests/2.31.0", "python-requests"),
        ],
    )
    def test_known_scanner_user_agents(self, agent, name):
        assert clicked(user_agent=agent) == (True, f"scanner user agent ({name})")

    def test_apple_address_does_not_flag_a_click(self):
        assert clicked(user_agent=CHROME, ip="17.1.2.3") == (False, None)


class TestOtherTypes:
    @pytest.mark.parametrize("kind", ["delivered", "bounced", "unsubscribed", "complained"])
    def test_only_opens_and_clicks_can_be_machine(self, kind):
        assert classify(kind, occurred_at=T0, method="HEAD", provider_flag="x") == (False, None)

    def test_is_apple_ip_ignores_garbage(self):
        assert not is_apple_ip("not-an-ip") and not is_apple_ip(None)
        assert not is_apple_ip("2001:db8::1")


agents = st.one_of(st.none(), st.text(max_size=60), st.sampled_from([CHROME, "Mozilla/5.0"]))
ips = st.one_of(st.none(), st.ip_addresses().map(str))
flags = st.one_of(st.none(), st.sampled_from(["sendgrid sg_machine_open", "mailgun bot"]))


@given(prefix=st.text(max_size=30), ip=ips, flag=flags, method=st.sampled_from([None, "GET"]))
def test_any_gmail_proxy_open_counts(prefix, ip, flag, method):
    agent = prefix + "(via ggpht.com GoogleImageProxy)"
    assert opened(user_agent=agent, ip=ip, provider_flag=flag, method=method) == (False, None)


@given(
    agent=agents,
    ip=ips,
    offsets=st.lists(st.integers(min_value=-5000, max_value=5000), max_size=6),
    urls=st.lists(st.sampled_from(["https://e.com/a", "https://e.com/b", None]), max_size=6),
)
def test_click_verdict_does_not_depend_on_the_order_of_other_clicks(agent, ip, offsets, urls):
    pairs = zip(offsets, urls, strict=False)
    others = [Click(LATER + timedelta(milliseconds=o), u) for o, u in pairs]
    verdict = clicked(user_agent=agent, ip=ip, url="https://e.com/a", other_clicks=others)
    again = clicked(user_agent=agent, ip=ip, url="https://e.com/a", other_clicks=others[::-1])
    assert verdict[0] == again[0]
    assert verdict[0] == (verdict[1] is not None)
