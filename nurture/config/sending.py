"""The sending rules of ``nurture.yaml``: sender, send window, frequency cap, re-engagement."""

from __future__ import annotations

from nurture.config.nodes import Node, duration, fields, integer, text
from nurture.config.values import day, email_address, hours, mailbox
from nurture.core.funnel import FrequencyCap, Reengagement, Sender, SendWindow


def sender(node: Node) -> Sender | None:
    parts = fields(node, ["from", "postal_address"], ["reply_to"])
    if parts is None:
        return None
    from_ = mailbox(parts["from"]) if "from" in parts else None
    reply_to = None
    if "reply_to" in parts and parts["reply_to"].value is not None:
        reply_to = email_address(parts["reply_to"])
        if reply_to is None:
            return None
    postal = None
    if "postal_address" in parts:
        postal = text(parts["postal_address"], "the postal address printed in every footer")
    if from_ is None or postal is None:
        return None
    name, address = from_
    return Sender(from_address=address, from_name=name, reply_to=reply_to, postal_address=postal)


def send_window(node: Node) -> SendWindow | None:
    parts = fields(node, ["days", "hours"])
    if parts is None or "days" not in parts or "hours" not in parts:
        return None
    span = hours(parts["hours"])
    days_node = parts["days"]
    if not isinstance(days_node.value, list) or not days_node.value:
        days_node.expected("a list of days such as [mon, tue, wed, thu, fri]")
        return None
    days = [day(item) for item in days_node.items()]
    if span is None or None in days:
        return None
    start, end = span
    return SendWindow(frozenset(d for d in days if d is not None), start, end)


def frequency_cap(node: Node) -> FrequencyCap | None:
    parts = fields(node, ["max", "per"])
    if parts is None or "max" not in parts or "per" not in parts:
        return None
    most = integer(parts["max"], 1, "a whole number of emails, at least 1")
    period = duration(parts["per"])
    return FrequencyCap(most, period) if most is not None and period is not None else None


def reengagement(node: Node) -> Reengagement | None:
    """The sunset rule; whether its sequence exists is checked with the other files."""
    parts = fields(node, ["sequence", "inactive_for"])
    if parts is None or "sequence" not in parts or "inactive_for" not in parts:
        return None
    sequence = text(parts["sequence"], "a sequence id such as sunset-reengagement")
    inactive_for = duration(parts["inactive_for"])
    if sequence is None or inactive_for is None:
        return None
    return Reengagement(sequence, inactive_for)
