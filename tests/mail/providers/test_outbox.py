"""OutboxProvider: one .eml per idempotency key, written atomically, sent at most once."""

import email
import email.policy

import pytest

from nurture.errors import ProviderUnavailable
from nurture.mail.providers import OutboxProvider, Provider


class TestSend:
    def test_the_message_is_written_as_an_eml_named_by_its_key(self, tmp_path, outgoing):
        provider = OutboxProvider(tmp_path / "outbox")

        provider.send(outgoing(1001, key="nurture-1001"))

        written = (tmp_path / "outbox" / "nurture-1001.eml").read_bytes()
        message = email.message_from_bytes(written, policy=email.policy.default)
        assert message["X-Nurture-Message-Id"] == "1001"
        text = message.get_body(("plain",))
        assert text is not None
        assert text.get_content().strip() == "Hi Jordan"

    def test_the_provider_id_is_the_message_id(self, tmp_path, outgoing):
        provider = OutboxProvider(tmp_path)

        assert provider.send(outgoing(1001)) == "nurture.1001@lumen-analytics.example"

    def test_no_temporary_file_is_left_behind(self, tmp_path, outgoing):
        provider = OutboxProvider(tmp_path)

        provider.send(outgoing(1001))
        provider.send(outgoing(1002))

        assert sorted(p.name for p in tmp_path.iterdir()) == [
            "nurture-1001.eml",
            "nurture-1002.eml",
        ]

    def test_an_unwritable_outbox_is_unavailable(self, tmp_path, outgoing):
        blocker = tmp_path / "outbox"
        blocker.write_text("a file where the folder should be")

        with pytest.raises(ProviderUnavailable, match=r"outbox: cannot (read|write)"):
            OutboxProvider(blocker).send(outgoing())


class TestIdempotency:
    def test_a_second_send_with_the_same_key_writes_nothing(self, tmp_path, outgoing):
        provider = OutboxProvider(tmp_path)
        first = provider.send(outgoing(1001, subject="First"))
        path = tmp_path / "nurture-1001.eml"
        before = path.stat()

        second = provider.send(outgoing(1001, subject="Second"))

        assert second == first
        assert path.stat().st_mtime_ns == before.st_mtime_ns
        assert path.stat().st_ino == before.st_ino
        assert b"Subject: First" in path.read_bytes()

    def test_find_tells_whether_a_key_was_sent(self, tmp_path, outgoing):
        provider = OutboxProvider(tmp_path)

        assert provider.find("nurture-1001") is None
        provider.send(outgoing(1001))
        assert provider.find("nurture-1001") == "nurture.1001@lumen-analytics.example"
        assert provider.supports_lookup is True

    def test_it_is_a_provider(self, tmp_path):
        assert isinstance(OutboxProvider(tmp_path), Provider)
