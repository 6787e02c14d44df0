"""``sample_lead``: the persona every template is rendered for at validation.

It must be a lead the engine could really hold (``LeadProfile``): an email, a real IANA
zone, text fields as text, custom attributes as a mapping.
"""

from __future__ import annotations

from nurture.config.nodes import Node, fields, mapping, text
from nurture.config.refs import StageRef
from nurture.config.values import email_address, time_zone
from nurture.core.lead import LEAD_FIELDS, LeadProfile

SAMPLE_KEYS = (*LEAD_FIELDS, "attributes")


def sample_lead(node: Node) -> tuple[dict[str, object] | None, StageRef | None]:
    """The persona as plain data (None if invalid), and its stage to check once stages are known."""
    before = len(node.problems)
    parts = fields(node, ["email"], [key for key in SAMPLE_KEYS if key != "email"])
    if parts is None:
        return None, None
    stage_ref = None
    for key, child in parts.items():
        if key == "email":
            email_address(child)
        elif key == "time_zone":
            time_zone(child)
        elif key == "attributes":
            mapping(child, "a mapping of custom attributes, such as {company_size: 240}")
        elif child.value is not None:
            value = text(child, f"text for the lead's {key.replace('_', ' ')}")
            if key == "stage" and value is not None:
                stage_ref = StageRef(value, child)
    if len(node.problems) != before or not isinstance(node.value, dict):
        return None, stage_ref
    data = dict(node.value)
    LeadProfile.from_mapping(data)  # what the engine will do with it; checked above
    return data, stage_ref
