"""Reports for people: figures rendered as terminal rows and self-contained HTML pages.

May import ``nurture.core`` and the standard library only: a report renders results the
services computed; it reads nothing itself.
"""

from nurture.reports.backtest_html import render_html
from nurture.reports.backtest_rows import summary_rows
from nurture.reports.handoffs_html import render_handoffs_html

__all__ = ["render_handoffs_html", "render_html", "summary_rows"]
