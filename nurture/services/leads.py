"""Creating and updating leads: upsert by normalised email, accounts by company domain,
new leads enrolled in their stage's sequence. Re-sending the same data changes nothing."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from nurture.config.problems import did_you_mean
from nurture.core.email_domains import company_domain
from nurture.core.funnel import Funnel
from nurture.errors import InvalidInput
from nurture.services.enrollment import enroll_in_stage_sequence
from nurture.services.lead_input import LeadIn, zone_for_country
from nurture.services.uow import Jobs
from nurture.store.models import Account, Lead

UPDATABLE = ("first_name", "last_name", "title", "company", "country", "time_zone", "source")


class Outcome(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


@dataclass
class UpsertResult:
    leads: list[tuple[Lead, Outcome]] = field(default_factory=list)

    def count(self, outcome: Outcome) -> int:
        return sum(1 for _, o in self.leads if o is outcome)


#: Leads per process_engagement job after an upsert.
RESCORE_CHUNK = 500


def upsert_leads(
    session: Session,
    funnel: Funnel,
    items: Sequence[LeadIn],
    *,
    now: datetime,
    default_time_zone: str,
    source: str | None = None,
    jobs: Jobs | None = None,
) -> UpsertResult:
    """Create or update leads in one go. Later items win over earlier ones for one email.
    With ``jobs``, new and changed leads are rescored after commit (fit depends on their
    attributes, and a changed title or company size can move them on the ladder)."""
    _check_stages(funnel, items)
    by_email: dict[str, LeadIn] = {}
    for item in items:
        by_email[item.email] = _merge(by_email.get(item.email), item)
    existing = {
        lead.email: lead
        for lead in session.scalars(select(Lead).where(Lead.email.in_(list(by_email))))
    }
    accounts = _accounts_for(session, by_email.values(), now)
    result = UpsertResult()
    created: list[Lead] = []
    for email, item in by_email.items():
        account = accounts.get(_domain_of(item) or "")
        lead = existing.get(email)
        if lead is None:
            lead = _new_lead(item, funnel, account, now, default_time_zone, source)
            session.add(lead)
            created.append(lead)
            result.leads.append((lead, Outcome.CREATED))
        else:
            changed = _apply(lead, item, account, source)
            if changed:
                lead.updated_at = now
            result.leads.append((lead, Outcome.UPDATED if changed else Outcome.UNCHANGED))
    session.flush()
    enroll_in_stage_sequence(session, funnel, created, now)
    if jobs is not None and not funnel.scoring.empty:
        touched = sorted(
            lead.id for lead, outcome in result.leads if outcome is not Outcome.UNCHANGED
        )
        for start in range(0, len(touched), RESCORE_CHUNK):
            jobs.enqueue("process_engagement", touched[start : start + RESCORE_CHUNK])
    return result


def unknown_stage(funnel: Funnel, stage: str | None) -> str | None:
    """Why ``stage`` is refused, or None when the funnel has it (or none is given)."""
    if stage is None or stage in funnel.stages:
        return None
    hint = did_you_mean(stage, funnel.stages)
    suffix = f" (did you mean {hint!r}?)" if hint else ""
    return f"unknown stage {stage!r}; expected one of {', '.join(funnel.stages)}{suffix}"


def _check_stages(funnel: Funnel, items: Sequence[LeadIn]) -> None:
    errors: list[dict[str, object]] = [
        {"index": index, "field": "stage", "message": message}
        for index, item in enumerate(items)
        if (message := unknown_stage(funnel, item.stage))
    ]
    if errors:
        raise InvalidInput(str(errors[0]["message"]), errors)


def _merge(earlier: LeadIn | None, later: LeadIn) -> LeadIn:
    if earlier is None:
        return later
    data = earlier.model_dump(exclude_unset=True)
    update = later.model_dump(exclude_unset=True)
    data["attributes"] = {**data.get("attributes", {}), **update.pop("attributes", {})}
    data.update(update)
    return LeadIn.model_validate(data)


def _domain_of(item: LeadIn) -> str | None:
    return item.company_domain or company_domain(item.email)


def _accounts_for(session: Session, items: Any, now: datetime) -> dict[str, Account]:
    """Existing or new accounts for the items' company domains, keyed by domain."""
    names: dict[str, str | None] = {}
    for item in items:
        domain = _domain_of(item)
        if domain:
            names[domain] = names.get(domain) or item.company
    if not names:
        return {}
    found = {
        account.domain: account
        for account in session.scalars(select(Account).where(Account.domain.in_(list(names))))
    }
    for domain, name in names.items():
        if domain not in found:
            found[domain] = Account(
                domain=domain, name=name, attributes={}, created_at=now, updated_at=now
            )
            session.add(found[domain])
        elif name and not found[domain].name:
            found[domain].name = name
            found[domain].updated_at = now
    session.flush()
    return found


def _new_lead(
    item: LeadIn,
    funnel: Funnel,
    account: Account | None,
    now: datetime,
    default_time_zone: str,
    source: str | None,
) -> Lead:
    zone = item.time_zone or (zone_for_country(item.country) if item.country else None)
    return Lead(
        email=item.email,
        first_name=item.first_name,
        last_name=item.last_name,
        title=item.title,
        company=item.company,
        country=item.country,
        time_zone=zone or default_time_zone,
        account_id=account.id if account else None,
        attributes=dict(item.attributes),
        stage=item.stage or funnel.initial_stage,
        stage_entered_at=now,
        last_engaged_at=now,
        contact_status="active",
        source=item.source or source,
        created_at=now,
        updated_at=now,
    )


def _apply(lead: Lead, item: LeadIn, account: Account | None, source: str | None) -> bool:
    """Copy the given fields onto the lead; True if anything changed. Stage is not touched:
    stage changes go through the ladder so that each says why."""
    changed = False
    given = item.model_dump(exclude_unset=True)
    if "source" not in given and source and lead.source is None:
        given["source"] = source
    for name in UPDATABLE:
        if name in given and given[name] is not None and getattr(lead, name) != given[name]:
            setattr(lead, name, given[name])
            changed = True
    if item.attributes:
        merged = {**lead.attributes, **item.attributes}
        if merged != lead.attributes:
            lead.attributes = merged
            changed = True
    if account is not None and lead.account_id != account.id:
        lead.account_id = account.id
        changed = True
    return changed
