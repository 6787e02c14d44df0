"""The cold sequence delivered over SMTP to a real local server (the SMTP catcher)."""

from __future__ import annotations

import email
import socket
from email.policy import default as default_policy

import pytest

from nurture.mail.catcher import SmtpCatcher
from nurture.mail.providers import SmtpProvider


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def catcher(tmp_path):
    with SmtpCatcher("127.0.0.1", free_port(), tmp_path / "caught") as running:
        yield running


def test_smtp_server_receives_each_step_once_with_our_headers(loop, catcher):
    loop.runtime.provider = SmtpProvider("127.0.0.1", catcher.port, timeout=5.0)
    lead_id = loop.add_lead(attributes={"company_size": 240})

    loop.run_until_idle()

    messages = loop.messages(lead_id)
    received = [
        email.message_from_bytes(path.read_bytes(), policy=default_policy)
        for path in sorted(catcher.directory.glob("*.eml"))
    ]
    assert [m.status for m in messages] == ["sent"] * 5
    assert sorted(int(r["X-Nurture-Message-Id"]) for r in received) == [m.id for m in messages]
    by_id = {int(r["X-Nurture-Message-Id"]): r for r in received}
    for message in messages:
        got = by_id[message.id]
        assert got["Subject"] == message.subject
        assert got["To"] == "jordan@northwind.example"
        assert got["From"] == "Maya Chen <maya@lumen-analytics.example>"
        assert got["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert got.get_body(("plain",)).get_content().strip()
        assert message.provider == "smtp" and message.provider_message_id
