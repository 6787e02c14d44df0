"""Recording the emails a chunk of enrollments decided to send, as message rows.

Each email's Message-ID and unsubscribe token carry its row id, so the ids are reserved
first (``store.ids``), the emails rendered, and the complete rows written in one multi-row
INSERT. All of it is in the caller's transaction, so the rows (unique per enrollment, step
and occurrence) and the enrollments' moves commit together or not at all (DESIGN
invariant 3).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from nurture.core.funnel import Funnel
from nurture.core.sequence import Send, Sequence
from nurture.errors import TemplateError
from nurture.mail.context import Links, RenderContext
from nurture.mail.message import encode_message, unsubscribe_links
from nurture.mail.render import Renderer
from nurture.mail.tracking import add_tracking
from nurture.services.situation import profile_of
from nurture.store.bulk import insert_rows
from nurture.store.ids import reserve_message_ids
from nurture.store.models import Account, Enrollment, Lead, Message

log = logging.getLogger(__name__)

SUBJECT_MAX = 500  # the column's size


@dataclass(frozen=True)
class Sending:
    """What running steps needs besides the session: the live funnel and its renderer."""

    funnel: Funnel
    renderer: Renderer
    base_url: str
    signing_key: bytes
    tracking: bool = False  # own open pixel and click redirect (nurture.mail.tracking)


@dataclass(frozen=True)
class PendingSend:
    """One email a step decided to send, not yet recorded."""

    lead: Lead
    account: Account | None
    enrollment: Enrollment
    sequence: Sequence
    step_id: str
    send: Send
    occurrence: int


def record_sends(
    session: Session, sending: Sending, pending: list[PendingSend], now: datetime
) -> list[int]:
    """Insert a ``queued`` row per pending send and store its rendered email; return the ids
    of the rows to deliver. A send that fails to render (data-dependent: a lead lacking an
    attribute the template needs) is recorded ``failed`` with the reason, not delivered."""
    if not pending:
        return []
    ids = reserve_message_ids(session, len(pending))
    rows = [
        _row(sending.funnel.version, p, now) | _content(sending, p, message_id, now)
        for p, message_id in zip(pending, ids, strict=True)
    ]
    insert_rows(session, Message, rows)
    return [row["id"] for row in rows if row["status"] == "queued"]


def _row(version: str, p: PendingSend, now: datetime) -> dict[str, Any]:
    return {
        "enrollment_id": p.enrollment.id,
        "lead_id": p.lead.id,
        "sequence_id": p.sequence.id,
        "step_id": p.step_id,
        "occurrence": p.occurrence,
        "config_version": version,
        "to_address": p.lead.email,
        "attempts": 0,
        "created_at": now,
        "updated_at": now,
    }


def _content(sending: Sending, p: PendingSend, message_id: int, now: datetime) -> dict[str, Any]:
    """The UPDATE parameters for one row: rendered subject and MIME, or the render error."""
    sender = sending.funnel.sender
    https_url, mailto = unsubscribe_links(
        sending.base_url, p.lead.id, message_id, sending.signing_key, sender
    )
    preferences = https_url.replace("/u/", "/p/", 1)
    context = RenderContext.for_step(
        profile_of(p.lead),
        p.sequence,
        p.step_id,
        Links(unsubscribe_url=https_url, preferences_url=preferences),
        account_name=p.account.name if p.account else None,
        account_domain=p.account.domain if p.account else None,
    )
    try:
        rendered = sending.renderer.render(p.send, context)
    except TemplateError as exc:
        log.warning(
            "step %s/%s failed to render for lead %s: %s", p.sequence.id, p.step_id, p.lead.id, exc
        )
        return {
            "id": message_id,
            "subject": p.send.subject[:SUBJECT_MAX],
            "mime": None,
            "status": "failed",
            "error": f"render: {exc}",
        }
    if sending.tracking:  # the text part keeps direct links: it was made before this
        html = add_tracking(
            rendered.html,
            message_id=message_id,
            lead_id=p.lead.id,
            key=sending.signing_key,
            base_url=sending.base_url,
        )
        rendered = replace(rendered, html=html)
    mime = encode_message(rendered, sender, p.lead.email, message_id, https_url, mailto, now)
    return {
        "id": message_id,
        "subject": rendered.subject[:SUBJECT_MAX],
        "mime": mime,
        "status": "queued",
        "error": None,
    }
