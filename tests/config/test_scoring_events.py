"""Event names in scoring rules: config may not import ingest/ or services/, so it keeps
copies of their names; these tests keep the copies equal to the originals."""

from __future__ import annotations

from nurture.config.scoring_events import EMAIL_EVENTS, SITE_EVENTS, STORED_NAMES
from nurture.ingest.events import EventType
from nurture.services.site_event_input import NAMED_TYPES, stored_type


class TestEventNamesMatchTheRestOfNurture:
    def test_email_events_are_the_provider_event_types_and_replied(self):
        assert set(EMAIL_EVENTS) == {t.value for t in EventType} | {"replied"}

    def test_site_events_are_the_named_types_stored_as_the_site_stores_them(self):
        assert {name: stored_type(name) for name in NAMED_TYPES} == SITE_EVENTS

    def test_stored_names_are_what_page_view_and_form_submit_become(self):
        assert set(STORED_NAMES) == {stored_type("page_view"), stored_type("form_submit")}
