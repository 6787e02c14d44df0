"""``handoff.sla`` (how long sales may take to answer, per handoff stage) and
``handoff.feedback`` (where each answer sends the lead). Stage names are checked against the
ladder when nurture.yaml's stages are sound."""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING

from nurture.config.nodes import Node, duration, fields, text
from nurture.config.problems import did_you_mean
from nurture.core.handoff_model import REJECT_REASONS, FeedbackRules, Sla

if TYPE_CHECKING:
    from nurture.config.pipeline import Stages

SLA_HINT = "a mapping of handoff stage -> {remind_after: 4h, reassign_after: 8h}"
FEEDBACK_KEYS = ("accepted", "rejected", "won", "lost")


def parse_sla(
    node: Node, stages: Stages | None, handoff_stages: Collection[str] | None
) -> dict[str, Sla] | None:
    """Per stage: remind the owner after one span of their working hours, reassign after
    a longer one. ``handoff_stages`` None: the assignment rules had problems."""
    if not isinstance(node.value, dict):
        node.expected(SLA_HINT)
        return None
    before = len(node.problems)
    out: dict[str, Sla] = {}
    for stage in node.value:
        child = node.child(stage)
        if handoff_stages is not None and stage not in handoff_stages:
            known = ", ".join(sorted(handoff_stages)) or "none yet: add assignment rules"
            child.error(
                f"found stage {stage!r}, where no assignment rule hands leads to sales; "
                f"expected a stage of handoff.assignment ({known})",
                did_you_mean(stage, handoff_stages),
                at_key=True,
            )
            continue
        sla = _sla(child)
        if sla is not None:
            out[stage] = sla
    return out if len(node.problems) == before else None


def _sla(node: Node) -> Sla | None:
    parts = fields(node, ["remind_after", "reassign_after"], what="{remind_after: 4h, ...}")
    if parts is None or len(parts) != 2:
        return None
    remind, reassign = duration(parts["remind_after"]), duration(parts["reassign_after"])
    if remind is None or reassign is None:
        return None
    if reassign <= remind:
        parts["reassign_after"].expected(
            f"a duration longer than remind_after ({parts['remind_after'].value}): "
            "the owner is reminded first, then the lead moves on"
        )
        return None
    return Sla(remind, reassign)


def parse_feedback(node: Node, stages: Stages | None) -> FeedbackRules | None:
    """Written entries override the defaults of ``FeedbackRules``; ``null`` keeps the lead
    where it is for that answer."""
    if node.value is None:
        return FeedbackRules()
    parts = fields(node, [], FEEDBACK_KEYS, what="a mapping with accepted, rejected, won, lost")
    if parts is None:
        return None
    before = len(node.problems)
    defaults = FeedbackRules()
    accepted = dict(defaults.accepted)
    if "accepted" in parts:
        ladder = stages.ladder if stages is not None else None
        _moves(parts["accepted"], accepted, ladder, "a ladder stage", stages)
    rejected = dict(defaults.rejected)
    if "rejected" in parts:
        _moves(parts["rejected"], rejected, REJECT_REASONS, "a reject reason", stages)
    won: str | None = defaults.won
    if "won" in parts:
        won = _target(parts["won"], stages, allow_none=False)
    lost = defaults.lost
    if "lost" in parts:
        lost = _target(parts["lost"], stages, allow_none=True)
    if len(node.problems) != before or won is None:
        return None
    return FeedbackRules(accepted=accepted, rejected=rejected, won=won, lost=lost)


def _moves(
    node: Node,
    into: dict[str, str],
    keys: Collection[str] | None,
    what: str,
    stages: Stages | None,
) -> None:
    """``{from: to}`` entries over ``into``; a null target removes the entry."""
    if not isinstance(node.value, dict):
        node.expected(f"a mapping of {what} -> stage, such as {{mql: sql}}")
        return
    for key in node.value:
        child = node.child(key)
        if keys is not None and key not in keys:
            child.error(
                f"found {key!r}; expected {what}: " + ", ".join(keys),
                did_you_mean(key, keys),
                at_key=True,
            )
            continue
        target = _target(child, stages, allow_none=True)
        if target is None:
            into.pop(key, None)
        else:
            into[key] = target


def _target(node: Node, stages: Stages | None, *, allow_none: bool) -> str | None:
    if node.value is None and allow_none:
        return None
    if stages is None:
        return text(node, "a stage")
    if isinstance(node.value, str) and node.value in stages.all:
        return node.value
    hint = did_you_mean(node.value, stages.all) if isinstance(node.value, str) else None
    keep = " (or null: the lead stays where it is)" if allow_none else ""
    node.expected("a stage: " + ", ".join(stages.all) + keep, hint)
    return None
