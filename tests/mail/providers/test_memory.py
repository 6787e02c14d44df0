"""MemoryProvider: keeps what it accepts, once per key, with scripted failures."""

import threading

import pytest

from nurture.errors import ProviderRejected, ProviderUnavailable
from nurture.mail.providers import DeliveryUnknown, MemoryProvider, Provider


class TestSend:
    def test_accepted_messages_are_kept_in_order(self, outgoing):
        provider = MemoryProvider()

        ids = [provider.send(outgoing(n)) for n in (1, 2, 3)]

        assert [e.message_id for e in provider.sent] == [1, 2, 3]
        assert ids == ["memory-1", "memory-2", "memory-3"]

    def test_the_same_key_is_accepted_once_with_the_same_id(self, outgoing):
        provider = MemoryProvider()

        first = provider.send(outgoing(1, key="k-1"))
        second = provider.send(outgoing(1, key="k-1"))

        assert first == second
        assert len(provider.sent) == 1
        assert provider.attempts == 2

    def test_find_answers_by_key(self, outgoing):
        provider = MemoryProvider()
        provider.send(outgoing(1, key="k-1"))

        assert provider.find("k-1") == "memory-1"
        assert provider.find("k-2") is None

    def test_it_is_a_provider_that_supports_lookup(self):
        provider = MemoryProvider()

        assert isinstance(provider, Provider)
        assert provider.supports_lookup is True


class TestScriptedFailures:
    def test_a_scripted_failure_is_raised_once_and_nothing_is_kept(self, outgoing):
        provider = MemoryProvider()
        provider.fail_next(ProviderUnavailable("503 busy", retry_after=30))

        with pytest.raises(ProviderUnavailable) as caught:
            provider.send(outgoing(1))
        assert caught.value.retry_after == 30
        assert provider.sent == []
        assert provider.send(outgoing(1)) == "memory-1"

    def test_failures_are_raised_in_order(self, outgoing):
        provider = MemoryProvider()
        provider.fail_next(ProviderUnavailable("500"), ProviderRejected("bad address"))

        with pytest.raises(ProviderUnavailable):
            provider.send(outgoing(1))
        with pytest.raises(ProviderRejected):
            provider.send(outgoing(1))
        provider.send(outgoing(1))
        assert len(provider.sent) == 1

    def test_a_failure_after_accepting_keeps_the_message(self, outgoing):
        provider = MemoryProvider()
        provider.fail_next(DeliveryUnknown("answer lost"), after_accepting=True)

        with pytest.raises(DeliveryUnknown):
            provider.send(outgoing(1, key="k-1"))
        assert provider.find("k-1") == "memory-1"
        assert len(provider.sent) == 1

    def test_clear_forgets_messages_and_failures(self, outgoing):
        provider = MemoryProvider()
        provider.send(outgoing(1))
        provider.fail_next(ProviderUnavailable("later"))

        provider.clear()

        assert provider.sent == []
        assert provider.send(outgoing(1)) == "memory-1"


class TestThreads:
    def test_concurrent_sends_are_all_kept_and_each_key_once(self, outgoing):
        provider = MemoryProvider()
        emails = [outgoing(n) for n in range(200)]

        def worker() -> None:
            for e in emails:
                provider.send(e)

        threads = [threading.Thread(target=worker) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        assert len(provider.sent) == 200
        assert provider.attempts == 1600
        assert len({provider.find(e.idempotency_key) for e in emails}) == 200
