"""Static SVG charts for printed and archived board packs.

Why not the web's Vega-Lite charts: those are drawn by JavaScript in the browser, and an
archived pack must show exactly what the board saw with no script, no network and the same
bytes every time it is rendered (its hash is its identity). These charts are plain SVG text
built from numbers, deterministic, with a text alternative (``<title>``/``<desc>``); the data
table printed beside each chart carries every value.

The Making Data Count conventions (NHS England, *Making Data Count*, 2019,
https://www.england.nhs.uk/publication/making-data-count/): grey line and points for common
cause, orange for special-cause concern, blue for special-cause improvement, purple for
neither; dashed grey process limits and a solid mean line.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from html import escape

from matneo.dates import month_text

__all__ = ["POINT_COLOURS", "spc_svg"]

WIDTH, HEIGHT = 640, 220
LEFT, RIGHT, TOP, BOTTOM = 56, 12, 12, 34
#: Making Data Count colours (NHS colour palette: https://service-manual.nhs.uk/design-system/styles/colour).
POINT_COLOURS = {
    "common_cause": "#768692",  # NHS mid grey
    "special_cause_concern": "#ED8B00",  # NHS orange
    "special_cause_improvement": "#005EB8",  # NHS blue
    "special_cause_neutral_high": "#330072",  # NHS purple
    "special_cause_neutral_low": "#330072",
}
POINT_WORDS = {
    "common_cause": "common cause",
    "special_cause_concern": "special cause concern",
    "special_cause_improvement": "special cause improvement",
    "special_cause_neutral_high": "special cause (higher)",
    "special_cause_neutral_low": "special cause (lower)",
}


def _fmt(value: float) -> str:
    return f"{value:.1f}"


def spc_svg(
    months: Sequence[dt.date],
    values: Sequence[float | None],
    mean: Sequence[float | None],
    lpl: Sequence[float | None],
    upl: Sequence[float | None],
    point_types: Sequence[str],
    *,
    title: str,
    unit: str,
) -> str:
    """An SPC chart as an SVG element: values, mean, process limits, points coloured by type.

    Missing values leave a gap. The y axis runs from 0 (or the lowest limit, if negative) to
    the highest of values and upper limits, with four labelled gridlines.
    """
    if not (len(months) == len(values) == len(mean) == len(lpl) == len(upl) == len(point_types)):
        raise ValueError("every series needs one entry per month")
    numbers = [v for series in (values, mean, lpl, upl) for v in series if v is not None]
    low = min(0.0, *numbers) if numbers else 0.0
    high = max(numbers) if numbers else 1.0
    if high <= low:
        high = low + 1.0
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    n = len(months)

    def x(i: int) -> float:
        return LEFT + (plot_w * i / (n - 1) if n > 1 else plot_w / 2)

    def y(v: float) -> float:
        return TOP + plot_h * (1 - (v - low) / (high - low))

    def path(series: Sequence[float | None]) -> str:
        parts, pen = [], "M"
        for i, v in enumerate(series):
            if v is None:
                pen = "M"
                continue
            parts.append(f"{pen}{x(i):.1f},{y(v):.1f}")
            pen = "L"
        return " ".join(parts)

    concern = [month_text(m) for m, t in zip(months, point_types, strict=True) if t == "special_cause_concern"]
    shown = [v for v in values if v is not None]
    desc = (
        f"Monthly values from {month_text(months[0])} to {month_text(months[-1])}"
        + (f", between {_fmt(min(shown))} and {_fmt(max(shown))} {unit}" if shown else "")
        + (f". Special cause concern in {', '.join(concern)}." if concern else ". No special cause concern.")
        if n
        else "No data."
    )
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" role="img" '
        f'aria-label="{escape(title)}" class="matneo-spc">',
        f"<title>{escape(title)}</title><desc>{escape(desc)}</desc>",
        f'<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" fill="#fff" stroke="#d8dde0"/>',
    ]
    for k in range(5):
        v = low + (high - low) * k / 4
        out.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(v):.1f}" y2="{y(v):.1f}" stroke="#f0f4f5"/>'
            f'<text x="{LEFT - 6}" y="{y(v) + 4:.1f}" font-size="11" text-anchor="end" fill="#4c6272">{_fmt(v)}</text>'
        )
    if n:
        for i in sorted({0, n - 1, *range(0, n - 3, 6)}):
            anchor = "start" if i == 0 else "end" if i == n - 1 else "middle"
            out.append(
                f'<text x="{x(i):.1f}" y="{HEIGHT - 12}" font-size="11" text-anchor="{anchor}" fill="#4c6272">'
                f"{escape(month_text(months[i]))}</text>"
            )
        out.append(f'<path d="{path(upl)}" fill="none" stroke="#768692" stroke-dasharray="4 3"/>')
        out.append(f'<path d="{path(lpl)}" fill="none" stroke="#768692" stroke-dasharray="4 3"/>')
        out.append(f'<path d="{path(mean)}" fill="none" stroke="#212b32"/>')
        out.append(f'<path d="{path(values)}" fill="none" stroke="#aeb7bd" stroke-width="1.5"/>')
        for i, (value, kind) in enumerate(zip(values, point_types, strict=True)):
            if value is not None:
                out.append(
                    f'<circle cx="{x(i):.1f}" cy="{y(value):.1f}" r="3.5" fill="{POINT_COLOURS.get(kind, "#768692")}"/>'
                )
    out.append(
        f'<text x="12" y="{TOP + plot_h / 2:.1f}" font-size="11" fill="#4c6272" '
        f'transform="rotate(-90 12 {TOP + plot_h / 2:.1f})" text-anchor="middle">{escape(unit)}</text>'
    )
    out.append("</svg>")
    return "".join(out)
