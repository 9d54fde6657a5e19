"""Server-rendered SVG charts: no JavaScript library, nothing loaded from the internet.

Axes start at zero and carry ticks at 1, 2 or 5 times a power of ten, each labelled with
its unit, so a reader never has to guess the scale. Each chart is an image with a title
and a description for screen readers, every bar names its value, and a chart without data
says what to do instead of drawing an empty frame. The SVG is built from numbers and
escaped labels only, so it is safe to embed.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from html import escape

# Numbers on an axis are formatted by the page (locale decimal mark): value, places -> text.
type NumberFormat = Callable[[Decimal, int], str]

_MANTISSAS = (1, 2, 5)


def tick_step(peak: float, target: int = 5) -> Decimal:
    """The smallest step of 1, 2 or 5 x 10^n that covers `peak` in at most `target` steps.

    A peak of zero (or less, or not a number) gets the step 1: an axis 0..1.
    """
    if not math.isfinite(peak) or peak <= 0:
        return Decimal(1)
    exponent = math.floor(math.log10(peak / target))
    for power in (exponent - 1, exponent, exponent + 1):
        for mantissa in _MANTISSAS:
            step = Decimal(mantissa).scaleb(power)
            if math.ceil(Decimal(str(peak)) / step) <= target:
                return step
    return Decimal(10).scaleb(exponent + 1)  # not reached: 10^(e+1) >= peak/target * 10


def ticks(peak: float, target: int = 5) -> list[Decimal]:
    """Tick values from zero up to the first tick at or above `peak`."""
    step = tick_step(peak, target)
    count = max(1, math.ceil(Decimal(str(peak)) / step)) if math.isfinite(peak) and peak > 0 else 1
    return [step * index for index in range(count + 1)]


def places(step: Decimal) -> int:
    """Decimal places a tick of this step needs (0.5 -> 1, 20 -> 0)."""
    exponent = step.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


@dataclass(frozen=True, slots=True)
class BarChart:
    """One series of bars; `labels` and `values` in the same order."""

    chart_id: str
    title: str
    labels: Sequence[str]  # short, under the bars
    long_labels: Sequence[str]  # in each bar's tooltip and the description
    values: Sequence[float]
    unit: str
    empty: str  # what to do when there is nothing to show
    color: str = "#1e6fd9"


def bar_chart(chart: BarChart, number: NumberFormat) -> str:
    """The chart as SVG, or its empty state as a paragraph."""
    values = [value if math.isfinite(value) and value > 0 else 0.0 for value in chart.values]
    if not any(values):
        return f'<p class="empty" id="{escape(chart.chart_id)}-empty">{escape(chart.empty)}</p>'
    axis = ticks(max(values))
    decimals = places(axis[1] - axis[0])
    top_value = float(axis[-1])

    def tick_text(value: Decimal) -> str:
        return f"{number(value, decimals)} {chart.unit}"

    width, height = 560, 210
    left, right, top, bottom = 78, 8, 10, 28
    plot_w, plot_h = width - left - right, height - top - bottom
    base_y = top + plot_h
    step = plot_w / len(values)
    bar_w = max(step * 0.68, 2.0)
    ident = escape(chart.chart_id)
    peak_at = max(range(len(values)), key=values.__getitem__)
    description = (
        f"{len(values)}: {chart.long_labels[0]} - {chart.long_labels[-1]}; "
        f"max {chart.long_labels[peak_at]} "
        f"{number(Decimal(str(values[peak_at])), max(decimals, 1))} {chart.unit}"
    )
    parts = [
        f'<svg class="chart" id="{ident}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="{ident}-title {ident}-desc" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{ident}-title">{escape(chart.title)}</title>'
        f'<desc id="{ident}-desc">{escape(description)}</desc>'
    ]
    for tick in axis:
        y = base_y - plot_h * float(tick) / top_value
        stroke = "#757575" if tick == 0 else "#e0e0e0"
        css = "tick baseline" if tick == 0 else "tick"
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" '
            f'stroke="{stroke}"/>'
            f'<text class="{css}" x="{left - 6}" y="{y + 3.5:.1f}" text-anchor="end">'
            f"{escape(tick_text(tick))}</text>"
        )
    for index, value in enumerate(values):
        x = left + index * step + (step - bar_w) / 2
        bar_h = plot_h * value / top_value
        shown = number(Decimal(str(value)), max(decimals, 1))
        parts.append(
            f'<rect x="{x:.1f}" y="{base_y - bar_h:.1f}" width="{bar_w:.1f}" '
            f'height="{bar_h:.1f}" fill="{chart.color}"><title>'
            f"{escape(chart.long_labels[index])}: {escape(shown)} {escape(chart.unit)}"
            "</title></rect>"
            f'<text x="{x + bar_w / 2:.1f}" y="{height - 10}" text-anchor="middle">'
            f"{escape(chart.labels[index])}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


@dataclass(frozen=True, slots=True)
class Heatmap:
    """Counts per weekday (7 rows, Monday first) and hour (24 columns)."""

    chart_id: str
    title: str
    counts: Sequence[Sequence[int]]
    weekdays: Sequence[str]
    cell_text: str  # "{day} {hour}: {count} sessions"
    empty: str


def heatmap(chart: Heatmap) -> str:
    """Session starts by weekday and hour; darker means more."""
    peak = max((value for row in chart.counts for value in row), default=0)
    if peak <= 0:
        return f'<p class="empty" id="{escape(chart.chart_id)}-empty">{escape(chart.empty)}</p>'
    cell, left, top = 18, 34, 16
    width, height = left + 24 * cell + 4, top + 7 * cell + 4
    ident = escape(chart.chart_id)
    parts = [
        f'<svg class="chart heatmap" id="{ident}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="{ident}-title" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{ident}-title">{escape(chart.title)}</title>'
    ]
    for hour in range(0, 24, 3):
        parts.append(
            f'<text x="{left + hour * cell + cell / 2}" y="11" text-anchor="middle">'
            f"{hour:02d}:00</text>"
        )
    for day, row in enumerate(chart.counts):
        y = top + day * cell
        parts.append(f'<text x="0" y="{y + 13}">{escape(chart.weekdays[day])}</text>')
        for hour, value in enumerate(row):
            opacity = 0.08 + 0.92 * value / peak if value else 0.03
            label = chart.cell_text.format(
                day=chart.weekdays[day], hour=f"{hour:02d}:00", count=value
            )
            parts.append(
                f'<rect x="{left + hour * cell}" y="{y}" width="{cell - 2}" height="{cell - 2}" '
                f'fill="#1e6fd9" fill-opacity="{opacity:.2f}"><title>{escape(label)}</title></rect>'
            )
    parts.append("</svg>")
    return "".join(parts)
