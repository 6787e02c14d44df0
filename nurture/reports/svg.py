"""Small charts as inline SVG text: grouped bars and step lines, with axes, gridlines and a
legend. No JavaScript, no external files, every label escaped, so a report stays one
self-contained HTML file that opens anywhere (and in a mail client's preview)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from html import escape

__all__ = ["Series", "bar_chart", "hbar_chart", "line_chart", "nice_ticks"]

WIDTH = 720
HEIGHT = 320
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 36, 44
LABEL_CHARS = 26  # of a horizontal bar's label; the bar's tooltip has it whole
FONT = 'font-family="system-ui, sans-serif" font-size="12"'


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float]
    color: str


def nice_ticks(top: float, count: int = 5) -> list[float]:
    """Round tick values from 0 to at least ``top`` (1, 2 or 5 times a power of ten apart)."""
    if top <= 0:
        return [0.0, 1.0]
    raw = top / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    return [i * step for i in range(math.ceil(top / step - 1e-9) + 1)]


def bar_chart(title: str, categories: Sequence[str], series: Sequence[Series]) -> str:
    """Bars grouped by category, one bar per series, value printed above each bar."""
    # Headroom above the tallest bar for its value label.
    ticks = nice_ticks(max((v for s in series for v in s.values), default=0) * 1.08)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    parts = _frame(title, ticks, plot_h)
    group_w = plot_w / max(len(categories), 1)
    bar_w = group_w * 0.7 / max(len(series), 1)
    for i, category in enumerate(categories):
        x0 = LEFT + i * group_w + group_w * 0.15
        for j, one in enumerate(series):
            value = one.values[i]
            h = plot_h * value / ticks[-1]
            x, y = x0 + j * bar_w, TOP + plot_h - h
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w - 2:.1f}" height="{h:.1f}" '
                f'fill="{escape(one.color)}"><title>{escape(one.name)}, {escape(category)}: '
                f"{_number(value)}</title></rect>"
            )
            parts.append(
                f'<text x="{x + (bar_w - 2) / 2:.1f}" y="{y - 4:.1f}" text-anchor="middle" '
                f"{FONT}>{_number(value)}</text>"
            )
        parts.append(
            f'<text x="{LEFT + (i + 0.5) * group_w:.1f}" y="{TOP + plot_h + 18}" '
            f'text-anchor="middle" {FONT}>{escape(category)}</text>'
        )
    parts += _legend(series)
    return _svg(title, parts)


def line_chart(title: str, days: Sequence[date], series: Sequence[Series]) -> str:
    """One step line per series over ``days`` (each series has a value per day)."""
    ticks = nice_ticks(max((v for s in series for v in s.values), default=0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    parts = _frame(title, ticks, plot_h)
    span = max(len(days) - 1, 1)

    def x_at(i: float) -> float:
        return LEFT + plot_w * i / span

    for i in sorted({round(k * span / 5) for k in range(6)} & set(range(len(days)))):
        anchor = "start" if i == 0 else "end" if i == span else "middle"
        parts.append(
            f'<text x="{x_at(i):.1f}" y="{TOP + plot_h + 18}" text-anchor="{anchor}" {FONT}>'
            f"{escape(days[i].isoformat())}</text>"
        )
    for one in series:
        points: list[str] = []
        previous: float | None = None
        for i, value in enumerate(one.values):
            y = TOP + plot_h - plot_h * value / ticks[-1]
            if previous is not None:
                points.append(f"{x_at(i):.1f},{previous:.1f}")
            points.append(f"{x_at(i):.1f},{y:.1f}")
            previous = y
        last = _number(one.values[-1]) if one.values else "0"
        parts.append(
            f'<polyline points="{" ".join(points)}" fill="none" stroke="{escape(one.color)}" '
            f'stroke-width="2"><title>{escape(one.name)}: {last}</title></polyline>'
        )
    parts += _legend(series)
    return _svg(title, parts)


def _frame(title: str, ticks: list[float], plot_h: float) -> list[str]:
    parts = [f'<text x="{LEFT}" y="20" {FONT} font-weight="bold">{escape(title)}</text>']
    for tick in ticks:
        y = TOP + plot_h - plot_h * tick / ticks[-1]
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e3e6ea"/>'
        )
        parts.append(
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" {FONT}>{_number(tick)}</text>'
        )
    parts.append(f'<line x1="{LEFT}" x2="{LEFT}" y1="{TOP}" y2="{TOP + plot_h}" stroke="#8a939c"/>')
    return parts


def _legend(series: Sequence[Series]) -> list[str]:
    parts: list[str] = []
    x = WIDTH - RIGHT - 150 * len(series)
    for one in series:
        parts.append(f'<rect x="{x}" y="10" width="12" height="12" fill="{escape(one.color)}"/>')
        parts.append(f'<text x="{x + 18}" y="20" {FONT}>{escape(one.name)}</text>')
        x += 150
    return parts


def _svg(title: str, parts: list[str], *, height: int = HEIGHT) -> str:
    body = "\n  ".join(parts)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
        f'width="{WIDTH}" height="{height}" role="img" aria-label="{escape(title)}">\n'
        f"  {body}\n</svg>"
    )


def _clip(text: str, most: int) -> str:
    return text if len(text) <= most else text[: most - 1] + "…"


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def hbar_chart(
    title: str,
    labels: Sequence[str],
    values: Sequence[float],
    color: str,
    *,
    texts: Sequence[str] | None = None,
    top: float | None = None,
) -> str:
    """One horizontal bar per label (long names stay readable), its text at the bar's end:
    ``texts`` when given (``67% of 12``), else the value. The scale runs from 0 to ``top``
    (default: the largest value, rounded up to a tick)."""
    row_h, label_w = 26, 180
    height = TOP + row_h * max(len(labels), 1) + 28
    ticks = nice_ticks(top if top is not None else max(values, default=0))
    plot_w = WIDTH - label_w - RIGHT - 110  # room for the text after the longest bar
    parts = [f'<text x="{LEFT}" y="20" {FONT} font-weight="bold">{escape(title)}</text>']
    bottom = TOP + row_h * max(len(labels), 1)
    for tick in ticks:
        x = label_w + plot_w * tick / ticks[-1]
        parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{TOP}" y2="{bottom}" stroke="#e3e6ea"/>')
        parts.append(
            f'<text x="{x:.1f}" y="{bottom + 16}" text-anchor="middle" {FONT}>'
            f"{_number(tick)}</text>"
        )
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = TOP + i * row_h
        w = plot_w * value / ticks[-1]
        text = texts[i] if texts is not None else _number(value)
        parts.append(
            f'<text x="{label_w - 8}" y="{y + row_h / 2 + 4:.1f}" text-anchor="end" {FONT}>'
            f"{escape(_clip(label, LABEL_CHARS))}</text>"
        )
        parts.append(
            f'<rect x="{label_w}" y="{y + 4}" width="{w:.1f}" height="{row_h - 8}" '
            f'fill="{escape(color)}"><title>{escape(label)}: {escape(text)}</title></rect>'
        )
        parts.append(
            f'<text x="{label_w + w + 6:.1f}" y="{y + row_h / 2 + 4:.1f}" {FONT}>'
            f"{escape(text)}</text>"
        )
    parts.append(f'<line x1="{label_w}" x2="{label_w}" y1="{TOP}" y2="{bottom}" stroke="#8a939c"/>')
    return _svg(title, parts, height=height)
