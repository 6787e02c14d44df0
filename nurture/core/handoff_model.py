"""The handoff as plain data: reps and teams, assignment rules per stage, channels, SLAs and
what sales feedback does to a lead.

Parsed from the ``handoff`` section of ``nurture.yaml`` by ``nurture.config.handoff``;
used by ``nurture.core.assignment`` (who gets the lead), ``nurture.core.feedback`` (what an
answer does) and ``nurture.services.handoffs`` (the records). Secrets (webhook URLs, the CRM
signing key) are settings, never YAML in git.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum

from nurture.core.conditions import Condition
from nurture.core.funnel import SendWindow


class Channel(StrEnum):
    SLACK = "slack"  # incoming webhook, Block Kit
    TEAMS = "teams"  # incoming webhook, Adaptive Card
    EMAIL = "email"  # to the owner
    WEBHOOK = "webhook"  # signed JSON to a CRM


@dataclass(frozen=True)
class Rep:
    """A salesperson. ``hours`` are working hours in ``time_zone``; ``daily_cap`` the most
    handoffs a day (in their zone); ``weight`` their share of a team's round robin."""

    name: str
    email: str
    team: str
    slack_id: str | None = None
    weight: int = 1
    time_zone: str = "UTC"
    hours: SendWindow | None = None  # None: always available
    daily_cap: int | None = None


@dataclass(frozen=True)
class AssignmentRule:
    """Leads reaching ``stage`` for which ``when`` holds (territory: country, size,
    industry...) go to ``team``. Rules are tried in order; the first that matches wins."""

    stage: str
    team: str
    when: Condition | None = None


class OutsideHours(StrEnum):
    SKIP = "skip"  # only reps at work now are candidates (unless none is: then all)
    IGNORE = "ignore"  # working hours do not matter for assignment


@dataclass(frozen=True)
class Sla:
    """No answer within ``remind_after`` working hours: remind the owner; within
    ``reassign_after``: give the lead to the next rep and tell the team channel."""

    remind_after: timedelta
    reassign_after: timedelta


class Outcome(StrEnum):
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    WON = "won"
    LOST = "lost"


REJECT_REASONS = ("bad_fit", "not_now", "no_budget", "no_response", "wrong_contact")


@dataclass(frozen=True)
class FeedbackRules:
    """Where each answer sends the lead. ``rejected`` maps a reason to a stage; stages not
    named keep the lead where it is."""

    accepted: Mapping[str, str] = field(default_factory=lambda: {"mql": "sql"})
    rejected: Mapping[str, str] = field(
        default_factory=lambda: {
            "bad_fit": "disqualified",
            "not_now": "recycled",
            "no_budget": "recycled",
            "no_response": "recycled",
            "wrong_contact": "recycled",
        }
    )
    won: str = "customer"
    lost: str | None = "recycled"


@dataclass(frozen=True)
class HandoffModel:
    reps: tuple[Rep, ...] = ()
    rules: tuple[AssignmentRule, ...] = ()
    channels: tuple[Channel, ...] = (Channel.SLACK, Channel.EMAIL)
    outside_hours: OutsideHours = OutsideHours.SKIP
    sla: Mapping[str, Sla] = field(default_factory=dict)  # by handoff stage
    feedback: FeedbackRules = field(default_factory=FeedbackRules)
    sticky_accounts: bool = True  # a lead of an owned account goes to that owner

    @property
    def stages(self) -> frozenset[str]:
        """Stages that hand a lead to sales."""
        return frozenset(rule.stage for rule in self.rules)

    @property
    def empty(self) -> bool:
        return not self.rules

    def team(self, name: str) -> tuple[Rep, ...]:
        return tuple(rep for rep in self.reps if rep.team == name)

    def rep(self, name: str) -> Rep | None:
        return next((rep for rep in self.reps if rep.name == name), None)
