"""The small pieces every scoring rule is made of: event names, event filters, points, names.

A rule names an event the way people say it (``page_view``, ``demo_requested``, ``opened``);
the model stores the type the event is stored under (``visited``, ``custom:demo_requested``,
``opened``), so a rule compares directly with the events table. The spellings sequences use
(``visited``, ``submitted``, ``custom:NAME``) are accepted too.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable
from typing import TypeVar

from nurture.config.nodes import Node, text
from nurture.config.problems import did_you_mean
from nurture.config.refs import StepRef
from nurture.core.scoring_model import EventFilter

# Kept equal to nurture.ingest.events.EventType and nurture.services.site_event_input
# (NAMED_TYPES, STORED_AS) by tests/config/test_scoring_events.py: config may not import them.
EMAIL_EVENTS = (
    "delivered",
    "deferred",
    "bounced",
    "dropped",
    "opened",
    "clicked",
    "complained",
    "unsubscribed",
    "replied",
)
SITE_EVENTS = {
    "page_view": "visited",
    "form_submit": "submitted",
    "download": "custom:download",
    "webinar_attended": "custom:webinar_attended",
    "trial_started": "custom:trial_started",
    "demo_requested": "custom:demo_requested",
    "pricing_viewed": "custom:pricing_viewed",
}
STORED_NAMES = ("visited", "submitted")  # how sequences write page_view and form_submit
KNOWN_EVENTS = (*EMAIL_EVENTS, *SITE_EVENTS, *STORED_NAMES)
EVENT_HINT = (
    "an event: opened, clicked, replied, unsubscribed, bounced, complained (email), "
    + ", ".join(SITE_EVENTS)
    + " (website and product), or custom:NAME for a custom event (NAME in lower-case letters, "
    "digits and _, e.g. custom:webinar_registered)"
)
_CUSTOM = re.compile(r"^custom:[a-z][a-z0-9_]{0,32}$")
_BARE_CUSTOM = re.compile(r"^[a-z][a-z0-9_]{0,32}$")
FILTER_KEYS = ("event", "url", "step", "data")

T = TypeVar("T")
Named = list[tuple[str, Node]]  # rule names of one section, with their nodes
Reader = Callable[[Node, Named, list[StepRef]], T | None]


def event_type(node: Node) -> str | None:
    """The stored event type a rule's ``event:`` names."""
    value = node.value
    if isinstance(value, str):
        if value in SITE_EVENTS:
            return SITE_EVENTS[value]
        if value in EMAIL_EVENTS or value in STORED_NAMES or _CUSTOM.match(value):
            return value
    hint = None
    if isinstance(value, str):
        # A near miss is a typo (page_veiw); any other plain name is likely a custom event.
        close = difflib.get_close_matches(value, KNOWN_EVENTS, n=1, cutoff=0.75)
        custom = f"custom:{value}" if _BARE_CUSTOM.match(value) else None
        hint = close[0] if close else custom or did_you_mean(value, KNOWN_EVENTS)
    node.expected(EVENT_HINT, hint)
    return None


def event_filter(parts: dict[str, Node], steps: list[StepRef]) -> EventFilter | None:
    """``event`` with optional ``url`` glob, ``step`` (of an email) and ``data`` values.

    A ``step`` is recorded in ``steps``; ``checks`` finds it among the sequences' send steps.
    """
    if "event" not in parts:
        return None
    ok = True
    kind = event_type(parts["event"])
    url = None
    if "url" in parts:
        url = text(parts["url"], 'a URL pattern such as "*/pricing*" (* matches anything)')
        ok = url is not None
    step = None
    if "step" in parts:
        step_node = parts["step"]
        step = text(step_node, "the id of a send step in sequences/*.yaml")
        if step is not None and kind is not None and kind not in EMAIL_EVENTS:
            step_node.error(
                f"found a step for {parts['event'].value!r}; expected step only with an email "
                "event (" + ", ".join(EMAIL_EVENTS) + "): other events belong to no email",
                at_key=True,
            )
            step = None
        elif step is not None:
            steps.append(StepRef(step, step_node, needs_send=True))
        ok = ok and step is not None
    data = _data(parts["data"]) if "data" in parts else {}
    if kind is None or not ok or data is None:
        return None
    return EventFilter(kind, url=url, step=step, data=data)


def _data(node: Node) -> dict[str, object] | None:
    if not isinstance(node.value, dict) or not node.value:
        node.expected("a mapping of event data values to match, such as {form: contact-sales}")
        return None
    out: dict[str, object] = {}
    for key, value in node.value.items():
        if isinstance(value, list | dict) or value is None:
            node.child(key).expected("a single value (text, number, true or false) to match")
        else:
            out[key] = value
    return out if len(out) == len(node.value) else None


def points(node: Node, *, whole: bool = False) -> float | None:
    """A number of points, negative allowed (``whole``: an integer)."""
    value = node.value
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if not whole and isinstance(value, float) and math.isfinite(value):
        return value
    node.expected("a whole number of points such as 20 or -10" if whole else "points such as 5")
    return None


def rule_list(
    node: Node | None, what: str, read: Reader[T], named: Named, steps: list[StepRef]
) -> list[T] | None:
    """Every item of a list of rules read (absent or empty: none); None if any is broken."""
    if node is None or node.value is None:
        return []
    if not isinstance(node.value, list):
        node.expected(f"a list of {what}")
        return None
    out = [read(item, named, steps) for item in node.items()]
    kept = [rule for rule in out if rule is not None]
    return kept if len(kept) == len(out) else None


def unique_names(named: Named, section: str) -> bool:
    """Each rule name once per section; a repeat is reported where it is written."""
    first: dict[str, Node] = {}
    ok = True
    for name, node in named:
        if name in first:
            node.error(
                f"found rule name {name!r} again (first at line {first[name].line()}); "
                f"expected each name once in {section}"
            )
            ok = False
        else:
            first[name] = node
    return ok


def rule_name(parts: dict[str, Node], named: Named) -> str | None:
    if "name" not in parts:
        return None
    name = text(parts["name"], "a rule name such as pricing-page (shown in score breakdowns)")
    if name is not None:
        named.append((name, parts["name"]))
    return name
