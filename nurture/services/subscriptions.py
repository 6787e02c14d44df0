"""A lead's own choices about our email: unsubscribe, pause for 30 days, resume, resubscribe.

Reached through the signed links in every email (``/u/{token}`` one-click and confirm page,
``/p/{token}`` preferences) and the mailto fallback of ``List-Unsubscribe``:

    with database.unit_of_work() as uow:
        unsubscribe_by_token(uow.session, token, settings.signing_key, now, SOURCE_MAILTO)

Every function takes the lead's row lock before it reads the status (DESIGN: per-lead work is
serialised), so two one-click POSTs arriving together unsubscribe once and record one event.
Unsubscribing exits live enrollments at once; the sending loop checks the status again at
send time and delivery cancels queued messages (DESIGN invariant 3). Bounced and complained
are the provider's verdict, not the lead's choice: nothing here lifts them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from nurture.core.funnel import Funnel
from nurture.errors import NotFound, NurtureError
from nurture.mail.tokens import UnsubscribeClaim, verify_unsubscribe
from nurture.services.enrollment import enroll_in_stage_sequence, exit_live_enrollments
from nurture.services.tracking_events import insert_event
from nurture.store.models import Event, Lead, Message

PAUSE = timedelta(days=30)

SOURCE_ONE_CLICK = "list-unsubscribe"  # RFC 8058 POST from the mailbox provider
SOURCE_PAGE = "preferences"  # the confirm and preferences pages
SOURCE_MAILTO = "mailto"  # the mailto: fallback, via the operator's inbound-mail hook

_VIA = {SOURCE_ONE_CLICK: "one-click", SOURCE_PAGE: "preferences page", SOURCE_MAILTO: "email"}
#: Statuses the lead may leave by unsubscribing (unengaged: sunset, still the lead's call).
_SUBSCRIBED = ("active", "unengaged")
_MAILTO_SUBJECT = re.compile(r"\bunsubscribe\s+([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)", re.IGNORECASE)


class SubscriptionRefused(NurtureError):
    """The choice does not apply to the lead's status (resubscribe a bounced address, pause
    an unsubscribed one); the message says why, in words for the person."""


@dataclass(frozen=True)
class Subscriber:
    """What the pages show about the lead behind a link."""

    lead_id: int
    email: str
    contact_status: str
    paused_until: datetime | None

    @property
    def can_resubscribe(self) -> bool:
        """Only an unsubscribe the person chose can be undone by the person."""
        return self.contact_status == "unsubscribed"

    def paused(self, now: datetime) -> bool:
        return self.paused_until is not None and self.paused_until > now


def subscriber(session: Session, claim: UnsubscribeClaim) -> Subscriber:
    """The lead a token names, read only; ``NotFound`` if it no longer exists."""
    lead = session.get(Lead, claim.lead_id)
    if lead is None:
        raise NotFound(f"no lead with id {claim.lead_id}")
    return _view(lead)


def unsubscribe(
    session: Session, claim: UnsubscribeClaim, now: datetime, source: str
) -> Subscriber:
    """Unsubscribe the lead now: status ``unsubscribed``, live enrollments exited, an
    ``unsubscribed`` event. Idempotent: an unsubscribed (or bounced, complained) lead is left
    as it is and nothing more is recorded."""
    lead = _locked(session, claim.lead_id)
    if lead.contact_status in _SUBSCRIBED:
        via = _VIA.get(source, source)
        _set_status(lead, "unsubscribed", now)
        lead.paused_until = None
        exit_live_enrollments(session, lead.id, f"unsubscribed ({via})", now)
        _record(session, lead, claim, "unsubscribed", source, now, via)
    return _view(lead)


def unsubscribe_by_token(
    session: Session, token: str, key: bytes, now: datetime, source: str
) -> Subscriber:
    """``unsubscribe`` for a raw token: the entry point of the mailto hook (the subject is
    ``unsubscribe {token}``; see ``token_in_subject``). ``BadToken`` for a token we did not
    sign, ``NotFound`` for a lead that no longer exists; nothing is recorded for either."""
    return unsubscribe(session, verify_unsubscribe(token, key), now, source)


def token_in_subject(subject: str) -> str | None:
    """The token in a mailto unsubscribe subject (``unsubscribe <token>``), if any; mail
    clients may prefix ``Re:`` or fold the line, which this tolerates."""
    match = _MAILTO_SUBJECT.search(subject)
    return match[1] if match else None


def pause(session: Session, claim: UnsubscribeClaim, now: datetime) -> Subscriber:
    """No marketing email for ``PAUSE`` from now; the lead stays active and its sequences
    keep their place (the sending loop defers sends until ``paused_until``)."""
    lead = _locked(session, claim.lead_id)
    if lead.contact_status != "active":
        raise SubscriptionRefused(_not_active(lead.contact_status))
    lead.paused_until = now + PAUSE
    lead.updated_at = now
    return _view(lead)


def resume(session: Session, claim: UnsubscribeClaim, now: datetime) -> Subscriber:
    """End a pause early; a lead that is not paused is left as it is."""
    lead = _locked(session, claim.lead_id)
    if lead.paused_until is not None:
        lead.paused_until = None
        lead.updated_at = now
    return _view(lead)


def resubscribe(
    session: Session, claim: UnsubscribeClaim, now: datetime, funnel: Funnel
) -> Subscriber:
    """Undo the lead's own unsubscribe (status back to ``active``, a ``resubscribed``
    event) and enroll it again in its stage's sequence, from the start (its unsubscribe
    ended the last one). Refused for a bounced or complained address: the mailbox said no,
    not the person on the page. Already active: nothing changes."""
    lead = _locked(session, claim.lead_id)
    if lead.contact_status == "active":
        return _view(lead)
    if lead.contact_status != "unsubscribed":
        raise SubscriptionRefused(_not_active(lead.contact_status))
    _set_status(lead, "active", now)
    lead.paused_until = None
    _record(session, lead, claim, "resubscribed", SOURCE_PAGE, now, _VIA[SOURCE_PAGE])
    enroll_in_stage_sequence(session, funnel, [lead], now)
    return _view(lead)


def _locked(session: Session, lead_id: int) -> Lead:
    lead = session.scalars(
        select(Lead)
        .where(Lead.id == lead_id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    ).one_or_none()
    if lead is None:
        raise NotFound(f"no lead with id {lead_id}")
    return lead


def _set_status(lead: Lead, status: str, now: datetime) -> None:
    lead.contact_status = status
    lead.contact_status_changed_at = now
    lead.updated_at = now


def _record(
    session: Session,
    lead: Lead,
    claim: UnsubscribeClaim,
    kind: str,
    source: str,
    now: datetime,
    via: str,
) -> None:
    """One event per change. Its id counts earlier changes of the same kind from the same
    message, so a repeat cannot add a second row (the lead lock already stops it; the unique
    key is the backstop) while unsubscribe, resubscribe, unsubscribe still leaves three."""
    message_id = session.scalar(select(Message.id).where(Message.id == claim.message_id))
    same_message = (
        Event.message_id.is_(None) if message_id is None else Event.message_id == message_id
    )
    earlier = session.scalar(
        select(func.count())
        .select_from(Event)
        .where(Event.lead_id == lead.id, Event.type == kind, Event.source == source, same_message)
    )
    insert_event(
        session,
        lead_id=lead.id,
        message_id=message_id,
        type=kind,
        source=source,
        source_event_id=f"lead:{lead.id}:msg:{claim.message_id}:{kind}:{(earlier or 0) + 1}",
        occurred_at=now,
        data={"via": via, "message": claim.message_id},
    )


def _view(lead: Lead) -> Subscriber:
    return Subscriber(lead.id, lead.email, lead.contact_status, lead.paused_until)


def _not_active(status: str) -> str:
    if status == "unsubscribed":
        return "This address is unsubscribed. Resubscribe first to choose a pause."
    if status in ("bounced", "complained"):
        return (
            "Emails to this address stopped because the mailbox refused them or marked "
            "them as spam, so they cannot be turned back on from this page. Please "
            "contact us by replying from this address."
        )
    return "Emails to this address are stopped."
