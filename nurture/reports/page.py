"""The shell every HTML report shares: one self-contained page (inline style, no scripts,
no external files) around the report's own parts."""

from __future__ import annotations

from collections.abc import Iterable
from html import escape

__all__ = ["STYLE", "page"]

STYLE = """
body { font-family: system-ui, sans-serif; color: #1d2733; margin: 2rem auto;
       max-width: 60rem; padding: 0 1rem; line-height: 1.45; }
h1 { font-size: 1.5rem; margin-bottom: .25rem; }
h2 { font-size: 1.15rem; margin-top: 2rem; }
.muted { color: #5c6975; }
table { border-collapse: collapse; margin: .5rem 0; }
th, td { padding: .3rem .8rem; text-align: left; border-bottom: 1px solid #e3e6ea; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.section td { border-top: 2px solid #c8ced5; }
code { background: #f3f5f7; padding: 0 .25rem; border-radius: 3px; }
svg { max-width: 100%; height: auto; display: block; margin: 1rem 0; }
"""


def page(title: str, parts: Iterable[str]) -> str:
    """The whole page as text (UTF-8): ``title`` is escaped here, ``parts`` are HTML the
    caller escaped."""
    head = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title>",
        f"<style>{STYLE}</style></head><body>",
    ]
    return "\n".join([*head, *parts, "</body></html>"]) + "\n"
