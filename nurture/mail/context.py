"""What a template sees: the variables of docs/funnel.md, built from a lead and its step.

    lead       email first_name last_name full_name title company country time_zone stage
               attributes (the custom attributes)
    account    name domain, or none
    sender     from_name from_address reply_to postal_address
    links      unsubscribe_url preferences_url (signed by the caller)
    email      subject preheader (as rendered)
    sequence   id name
    step       id

Each variable is a ``Vars`` mapping that knows its own name, so a typo such as
``lead.frist_name`` fails with "lead has no field 'frist_name' (did you mean 'first_name'?)".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from nurture.core.funnel import Sender
from nurture.core.lead import LeadProfile
from nurture.core.sequence import Sequence

TEMPLATE_VARIABLES = ("lead", "account", "sender", "links", "email", "sequence", "step")

LEAD_VARIABLE_FIELDS = (
    "email",
    "first_name",
    "last_name",
    "full_name",
    "title",
    "company",
    "country",
    "time_zone",
    "stage",
)


class Vars(dict[str, object]):
    """A template variable: a plain mapping plus the name it goes by in templates.

    The name is kept in an underscore slot, which the sandbox refuses to expose, and no
    public attribute is added, so ``lead.attributes.<name>`` can never hit one of ours.
    """

    __slots__ = ("_label",)

    def __init__(self, label: str, values: Mapping[str, object]) -> None:
        super().__init__(values)
        self._label = label


def label_of(value: Vars) -> str:
    """The name a ``Vars`` goes by in templates (kept off its attributes on purpose)."""
    return value._label


@dataclass(frozen=True)
class Links:
    """Per-lead links every email carries; the caller builds (and signs) them."""

    unsubscribe_url: str
    preferences_url: str


@dataclass(frozen=True)
class RenderContext:
    """Who the email is for and where it sits in the funnel."""

    lead: LeadProfile
    links: Links
    sequence_id: str
    step_id: str
    sequence_name: str = ""
    account_name: str | None = None
    account_domain: str | None = None

    @classmethod
    def for_step(
        cls,
        lead: LeadProfile,
        sequence: Sequence,
        step_id: str,
        links: Links,
        *,
        account_name: str | None = None,
        account_domain: str | None = None,
    ) -> RenderContext:
        return cls(
            lead=lead,
            links=links,
            sequence_id=sequence.id,
            step_id=step_id,
            sequence_name=sequence.name,
            account_name=account_name,
            account_domain=account_domain,
        )


def preview_links(base_url: str) -> Links:
    """Placeholder links for previews and validation: they point at no real lead.
    Neither is a prefix of the other, so finding one never counts as finding both."""
    root = base_url.rstrip("/")
    return Links(unsubscribe_url=f"{root}/u/preview", preferences_url=f"{root}/p/preview")


def guess_account(lead: LeadProfile) -> tuple[str | None, str | None]:
    """An account for a persona that has none stored: its company and email domain."""
    if not lead.company:
        return None, None
    domain = lead.email.rpartition("@")[2].lower() or None
    return lead.company, domain


def lead_variable(lead: LeadProfile) -> Vars:
    values: dict[str, object] = {name: getattr(lead, name) for name in LEAD_VARIABLE_FIELDS}
    values["attributes"] = Vars("lead.attributes", lead.attributes)
    return Vars("lead", values)


def sender_variable(sender: Sender) -> Vars:
    return Vars(
        "sender",
        {
            "from_name": sender.from_name,
            "from_address": sender.from_address,
            "reply_to": sender.reply_to,
            "postal_address": sender.postal_address,
        },
    )


def template_variables(context: RenderContext, sender: Sender) -> dict[str, object]:
    """Every variable but ``email``, which the renderer adds once the subject is rendered."""
    account: Vars | None = None
    if context.account_name or context.account_domain:
        account = Vars("account", {"name": context.account_name, "domain": context.account_domain})
    links = context.links
    return {
        "lead": lead_variable(context.lead),
        "account": account,
        "sender": sender_variable(sender),
        "links": Vars(
            "links",
            {"unsubscribe_url": links.unsubscribe_url, "preferences_url": links.preferences_url},
        ),
        "sequence": Vars("sequence", {"id": context.sequence_id, "name": context.sequence_name}),
        "step": Vars("step", {"id": context.step_id}),
    }


def email_variable(subject: str, preheader: str | None = None) -> Vars:
    values: dict[str, object] = {"subject": subject}
    if preheader is not None:
        values["preheader"] = preheader
    return Vars("email", values)
