"""The ``scoring`` section (in nurture.yaml, or the whole of its own file) into a
``ScoringModel``. Step ids its rules name are kept with their nodes and resolved by
``nurture.config.checks`` once every sequence is read."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from nurture.config.nodes import Node, choice, fields
from nurture.config.refs import StepRef
from nurture.config.scoring_fit import fit
from nurture.config.scoring_ladder import fall_back, ladder, promote_from
from nurture.config.scoring_rules import account, engagement, hand_raisers
from nurture.core.scoring_model import Decay, Grades, ScoringModel

if TYPE_CHECKING:
    from nurture.config.pipeline import Stages

SECTION_KEYS = (
    "fit",
    "engagement",
    "account",
    "hand_raisers",
    "ladder",
    "fall_back",
    "promote_from",
    "recycled_engagement",
)
SECTION_HINT = (
    "a mapping (the scoring model) with " + ", ".join(SECTION_KEYS) + ", "
    "or {file: scoring.yaml}; see docs/scoring.md"
)
DEFAULT_PROMOTE_FROM = frozenset({"recycled"})


@dataclass
class ParsedScoring:
    """The model, or None when the section has problems; ``steps`` for the cross-file check."""

    model: ScoringModel | None
    steps: list[StepRef] = field(default_factory=list)


def parse_scoring(node: Node, stages: Stages | None, lines: Sequence[str] = ()) -> ParsedScoring:
    """Read a scoring model; ``stages`` None means nurture.yaml's stages are broken (stage
    names are then left unchecked). ``lines`` is the file's text, for expression columns."""
    if node.value is None:
        return ParsedScoring(ScoringModel())
    parts = fields(node, [], SECTION_KEYS, what=SECTION_HINT)
    if parts is None:
        return ParsedScoring(None)
    before = len(node.problems)
    steps: list[StepRef] = []
    fitted = fit(parts["fit"]) if "fit" in parts else ((), Grades())
    engaged = engagement(parts["engagement"], steps) if "engagement" in parts else ((), (), Decay())
    signal = account(parts["account"]) if "account" in parts else None
    if stages is None:
        return ParsedScoring(None, steps)
    grades = fitted[1] if fitted is not None else None
    raisers = hand_raisers(parts["hand_raisers"], stages, steps) if "hand_raisers" in parts else ()
    rules = ladder(parts["ladder"], stages, grades, lines) if "ladder" in parts else ()
    falls = fall_back(parts["fall_back"], stages, grades, lines) if "fall_back" in parts else ()
    lifted: frozenset[str] | None = DEFAULT_PROMOTE_FROM & frozenset(stages.side)
    if "promote_from" in parts:
        lifted = promote_from(parts["promote_from"], stages)
    fresh = True
    if "recycled_engagement" in parts:
        chosen = choice(parts["recycled_engagement"], ("fresh", "keep"), "fresh or keep")
        fresh = chosen != "keep"
    if len(node.problems) != before or fitted is None or engaged is None:
        return ParsedScoring(None, steps)
    if raisers is None or rules is None or falls is None or lifted is None:
        return ParsedScoring(None, steps)
    model = ScoringModel(
        fit_rules=fitted[0],
        grades=fitted[1],
        engagement_rules=engaged[0],
        patterns=engaged[1],
        decay=engaged[2],
        account=signal,
        hand_raisers=raisers,
        ladder=rules,
        fall_back=falls,
        promote_from=lifted,
        fresh_in_side_stages=fresh,
    )
    return ParsedScoring(model, steps)
