"""Derive the plain-text part of an email from its HTML.

lxml parses (in C, as browsers do: unclosed tags closed, entities decoded) and the tree is
walked here; the stdlib's HTMLParser took three times as long, and this runs for every email.

Headings, paragraphs and table rows become blocks separated by a blank line; list items
become ``- item`` (``1. item`` in ordered lists), indented when nested; a link becomes
``text (url)``; ``<head>``, ``<style>``, ``<script>`` and anything hidden with
``display:none`` (the preheader) are dropped; whitespace inside a block is collapsed.
"""

from __future__ import annotations

import re

from lxml import etree


def _tags(names: str) -> frozenset[str]:
    return frozenset(names.split())


VOID = _tags("area base br col embed hr img input link meta param source track wbr")
DROPPED = _tags("head style script title template noscript")
BLOCKS = _tags(
    "address article aside blockquote center dd div dl dt figcaption figure footer form "
    "h1 h2 h3 h4 h5 h6 header hr li main nav ol p pre section table tbody td tfoot th "
    "thead tr ul"
)
TIGHT = _tags("li td th dt dd")  # a single line break, not a blank line
UNDERLINE = {"h1": "=", "h2": "-"}
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none", re.IGNORECASE)
_SKIPPED_LINKS = ("#", "javascript:")


def html_to_text(html: str) -> str:
    """The readable text of ``html``, ending with one newline (empty for no text)."""
    try:
        root = etree.fromstring(html.encode("utf-8"), _PARSER)  # bytes: any <?xml?> is fine
    except etree.XMLSyntaxError:  # nothing but whitespace or comments
        return ""
    if root is None:
        return ""
    builder = _TextBuilder()
    builder.walk(root)
    return builder.result()


_PARSER = etree.HTMLParser(encoding="utf-8", remove_comments=True, remove_pis=True)


class _TextBuilder:
    def __init__(self) -> None:
        self.out: list[str] = []
        self.inline: list[str] = []
        self.pending = 0  # line breaks owed before the next text: 0, 1 or 2
        self.lists: list[list[int | str]] = []  # [kind, counter] per open list
        self.marker = ""  # list marker owed to the next line of text
        self.links: list[tuple[str, int]] = []  # (href, index in inline where text starts)

    def walk(self, element: etree._Element) -> None:
        """Text of ``element`` and its children (not its tail); hidden subtrees skipped."""
        tag = element.tag
        if not isinstance(tag, str):
            return
        attributes = element.attrib
        style = attributes.get("style")
        if tag in DROPPED or "hidden" in attributes or (style and _HIDDEN_STYLE.search(style)):
            return
        self._open(tag, attributes)
        if element.text:
            self.inline.append(element.text)
        for child in element:
            self.walk(child)
            if child.tail:
                self.inline.append(child.tail)
        if tag not in VOID:
            self._close(tag)

    def _open(self, tag: str, attributes: etree._Attrib) -> None:
        if tag == "br":
            self._flush(1)
        elif tag == "img":
            alt = (attributes.get("alt") or "").strip()
            if alt and self.links:
                self.inline.append(alt)
        elif tag == "hr":
            self._flush(2)
            self._emit("-" * 20)
            self.pending = 2
        elif tag == "a":
            self.links.append(((attributes.get("href") or "").strip(), len(self.inline)))
        elif tag in BLOCKS:
            nested_list = tag in ("ul", "ol") and bool(self.lists)
            self._flush(1 if tag in TIGHT or nested_list else 2)
            if tag in ("ul", "ol"):
                self.lists.append([tag, 0])
            elif tag == "li":
                self._start_item()

    # -- building the text ---------------------------------------------------------------

    def _close(self, tag: str) -> None:
        if tag == "a" and self.links:
            self._end_link()
        elif tag in UNDERLINE:
            heading = _collapse("".join(self.inline))
            self._flush(2)
            if heading:
                self.pending = 1
                self._emit(UNDERLINE[tag] * len(heading))
            self.pending = 2
        elif tag in BLOCKS:
            self._flush(1 if tag in TIGHT else 2)
            if tag in ("ul", "ol") and self.lists:
                self.lists.pop()
                self.pending = 2 if not self.lists else 1

    def _start_item(self) -> None:
        if not self.lists:
            self.marker = "- "
            return
        current = self.lists[-1]
        current[1] = int(current[1]) + 1
        indent = "  " * (len(self.lists) - 1)
        self.marker = indent + (f"{current[1]}. " if current[0] == "ol" else "- ")

    def _end_link(self) -> None:
        href, start = self.links.pop()
        text = _collapse("".join(self.inline[start:]))
        if not href or href.startswith(_SKIPPED_LINKS):
            return
        target = href.removeprefix("mailto:").removeprefix("tel:")
        if not text:
            self.inline.append(target)
        elif target != text and target not in text:
            self.inline.append(f" ({target})")

    def _flush(self, breaks: int) -> None:
        if self.inline:  # else every open link already starts at 0: nothing to do
            text = _collapse("".join(self.inline))
            self.inline.clear()
            for index, (href, _) in enumerate(self.links):
                self.links[index] = (href, 0)  # a link spanning blocks restarts at the new block
            if text:
                self._emit(text)
        self.pending = max(self.pending, breaks)

    def _emit(self, text: str) -> None:
        if self.out:
            self.out.append("\n" * max(self.pending, 1))
        indent = "  " * len(self.lists) if self.lists and not self.marker else ""
        self.out.append((self.marker or indent) + text)
        self.marker = ""
        self.pending = 0

    def result(self) -> str:
        self._flush(0)
        text = "".join(self.out).strip("\n")
        lines = [line.rstrip() for line in text.split("\n")]
        return "\n".join(lines) + "\n" if text else ""


def _collapse(text: str) -> str:
    return " ".join(text.split())
