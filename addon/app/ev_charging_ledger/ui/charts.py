"""Server-rendered SVG charts: no JavaScript library, nothing loaded from the internet.

The SVG is built from numbers only (labels are escaped), so it is safe to embed.
"""

from __future__ import annotations

from html import escape


def bar_chart(
    labels: list[str], values: list[float], *, unit: str, color: str, width: int = 520
) -> str:
    height, left, bottom, top = 190, 48, 34, 12
    plot_w, plot_h = width - left - 8, height - bottom - top
    peak = max(values, default=0.0) or 1.0
    step = plot_w / max(len(values), 1)
    bar_w = max(step * 0.7, 2)
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(unit)}</title>',
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - 8}" y2="{top + plot_h}" '
        'stroke="#999"/>',
    ]
    for fraction in (0.5, 1.0):
        y = top + plot_h - plot_h * fraction
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{width - 8}" y2="{y:.1f}" stroke="#ddd"/>'
            f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end">'
            f"{peak * fraction:.0f}</text>"
        )
    for index, (label, value) in enumerate(zip(labels, values, strict=True)):
        x = left + index * step + (step - bar_w) / 2
        bar_h = plot_h * value / peak
        parts.append(
            f'<rect x="{x:.1f}" y="{top + plot_h - bar_h:.1f}" width="{bar_w:.1f}" '
            f'height="{bar_h:.1f}" fill="{color}"><title>{escape(label)}: {value:.2f} '
            f"{escape(unit)}</title></rect>"
            f'<text x="{x + bar_w / 2:.1f}" y="{height - 18}" text-anchor="middle">'
            f"{escape(label[5:] if len(label) == 7 else label)}</text>"
        )
    parts.append(f'<text x="{left}" y="{height - 2}" class="unit">{escape(unit)}</text></svg>')
    return "".join(parts)


def heatmap(counts: list[list[int]], weekdays: list[str]) -> str:
    """7 rows (Monday first) x 24 hours."""
    cell, left, top = 18, 34, 16
    width, height = left + 24 * cell + 4, top + 7 * cell + 4
    peak = max((value for row in counts for value in row), default=0) or 1
    parts = [
        f'<svg class="chart heatmap" viewBox="0 0 {width} {height}" '
        'xmlns="http://www.w3.org/2000/svg" role="img">'
    ]
    for hour in range(0, 24, 3):
        parts.append(
            f'<text x="{left + hour * cell + cell / 2}" y="11" text-anchor="middle">{hour}</text>'
        )
    for day, row in enumerate(counts):
        y = top + day * cell
        parts.append(f'<text x="0" y="{y + 13}">{escape(weekdays[day])}</text>')
        for hour, value in enumerate(row):
            opacity = 0.06 + 0.94 * value / peak if value else 0.03
            parts.append(
                f'<rect x="{left + hour * cell}" y="{y}" width="{cell - 2}" height="{cell - 2}" '
                f'fill="#1e6fd9" fill-opacity="{opacity:.2f}"><title>{escape(weekdays[day])} '
                f"{hour}:00 - {value}</title></rect>"
            )
    parts.append("</svg>")
    return "".join(parts)
