"""Server-rendered SVG for QI pages: run charts and driver diagrams. Pure functions, no JavaScript.

Why SVG made on the server: a run chart with its PDSA markers must read the same in a browser
without JavaScript, in a printed project summary and in an exported file, and small multiples of
fifty projects must draw in well under a second. Every chart has a ``<title>`` and
``<desc>`` (``role="img"`` with ``aria-labelledby``), the page carries the same numbers as a
table, and colour is never the only cue: signal points are also larger and ringed, PDSA markers
are labelled "P" and notes "N".

Colours: NHS identity palette (NHS blue #005eb8, dark grey #425563, warm yellow #ffb81c, orange
#ed8b00 for signals), https://www.england.nhs.uk/nhsidentity/identity-guidelines/colours/.
"""

from __future__ import annotations

import datetime as dt
import textwrap
from collections.abc import Sequence
from html import escape
from typing import Literal

from matneo.dates import day_text
from matneo.stats.runchart import RunChartResult

BLUE, GREY, DARK, SIGNAL, MARK = "#005eb8", "#425563", "#212b32", "#d5281b", "#ffb81c"


def _fmt(value: float) -> str:
    return f"{value:,.1f}" if abs(value) < 1000 else f"{value:,.0f}"


def run_chart_svg(
    points: Sequence[tuple[dt.date, str, float | None]],
    analysis: RunChartResult | None,
    markers: Sequence[tuple[dt.date, str, str]] = (),
    *,
    title: str,
    unit: str = "",
    width: int = 720,
    height: int = 320,
    small: bool = False,
    element_id: str = "run-chart",
) -> str:
    """A run chart: points joined in time order, the median (dashed red when it signals), markers.

    ``points`` are (period start, label, value); a ``None`` value breaks the line. ``markers``
    are (date, kind "pdsa" | "note", text) drawn as labelled ticks at the period holding the
    date. With ``small=True`` the chart drops axis labels and markers' text for small multiples.
    """
    left, right, top, bottom = (8, 8, 8, 8) if small else (56, 16, 16, 56)
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [v for _, _, v in points if v is not None]
    desc = _describe(points, analysis, markers, title, unit)
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" '
        f'role="img" aria-labelledby="{element_id}-title {element_id}-desc" class="matneo-run-chart" '
        f'data-signal="{str(bool(analysis and analysis.signal)).lower()}">'
        f'<title id="{element_id}-title">{escape(title)}</title><desc id="{element_id}-desc">{escape(desc)}</desc>'
    )
    if not values:
        return (
            head + f'<text x="{width / 2}" y="{height / 2}" text-anchor="middle" fill="{GREY}">No data yet</text></svg>'
        )
    lo, hi = min(values), max(values)
    if analysis and analysis.median is not None:
        lo, hi = min(lo, analysis.median), max(hi, analysis.median)
    pad = (hi - lo) * 0.1 or max(abs(hi) * 0.1, 1.0)
    lo, hi = lo - pad, hi + pad
    if min(values) >= 0 and lo < 0:
        lo = 0.0
    n = len(points)

    def x(i: int) -> float:
        return left + (plot_w * (i + 0.5) / n)

    def y(v: float) -> float:
        return top + plot_h - (v - lo) / (hi - lo) * plot_h

    parts = [head, f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="#ffffff" stroke="#d8dde0"/>']
    if not small:
        for k in range(5):
            v = lo + (hi - lo) * k / 4
            parts.append(
                f'<text x="{left - 6}" y="{y(v) + 4:.1f}" text-anchor="end" font-size="12" fill="{DARK}">'
                f"{_fmt(v)}</text>"
            )
        step = max(1, n // 8)
        for i in range(0, n, step):
            parts.append(
                f'<text x="{x(i):.1f}" y="{top + plot_h + 18}" text-anchor="middle" font-size="12" fill="{DARK}">'
                f"{escape(points[i][1])}</text>"
            )
        if unit:
            parts.append(
                f'<text x="14" y="{top + plot_h / 2}" font-size="12" fill="{DARK}" '
                f'transform="rotate(-90 14 {top + plot_h / 2})" text-anchor="middle">{escape(unit)}</text>'
            )
    if analysis and analysis.median is not None:
        colour = SIGNAL if analysis.signal else GREY
        dash = ' stroke-dasharray="6 4"' if analysis.signal else ""
        end = x(analysis.baseline - 1) if analysis.baseline and analysis.baseline < n else x(n - 1)
        parts.append(
            f'<line x1="{x(0):.1f}" x2="{x(n - 1):.1f}" y1="{y(analysis.median):.1f}" y2="{y(analysis.median):.1f}" '
            f'stroke="{colour}" stroke-width="2"{dash} data-median="{analysis.median:.4g}"/>'
        )
        if analysis.baseline and analysis.baseline < n and not small:
            parts.append(
                f'<line x1="{end + plot_w / n / 2:.1f}" x2="{end + plot_w / n / 2:.1f}" y1="{top}" y2="{top + plot_h}" '
                f'stroke="{GREY}" stroke-dasharray="2 3"/><text x="{end + plot_w / n / 2 + 4:.1f}" y="{top + 12}" '
                f'font-size="12" fill="{DARK}">Baseline ends</text>'
            )
    path: list[str] = []
    for i, (_, _, value) in enumerate(points):
        if value is None:
            path.append("")
            continue
        path.append(f"{'M' if not path or not path[-1] else 'L'}{x(i):.1f},{y(value):.1f}")
    parts.append(f'<path d="{" ".join(p for p in path if p)}" fill="none" stroke="{BLUE}" stroke-width="2"/>')
    flagged = analysis.flagged_points() if analysis else frozenset()
    for i, (_, label, value) in enumerate(points):
        if value is None:
            continue
        if i in flagged:
            parts.append(
                f'<circle cx="{x(i):.1f}" cy="{y(value):.1f}" r="{5 if small else 6}" fill="{SIGNAL}" stroke="{DARK}" '
                f'stroke-width="1.5" data-flagged="1"><title>{escape(label)}: {_fmt(value)} (part of a signal)'
                "</title></circle>"
            )
        else:
            parts.append(
                f'<circle cx="{x(i):.1f}" cy="{y(value):.1f}" r="{3 if small else 4}" fill="{BLUE}" stroke="{DARK}">'
                f"<title>{escape(label)}: {_fmt(value)}</title></circle>"
            )
    if markers and points:
        starts = [p[0] for p in points]
        stacked: dict[int, int] = {}
        lines: list[str] = []
        badges: list[str] = []
        for on, kind, text in markers:
            index = max((i for i, s in enumerate(starts) if s <= on), default=None)
            if index is None:
                continue
            letter = "P" if kind == "pdsa" else "N"
            mx = x(index)
            level = stacked.get(index, 0)
            stacked[index] = level + 1
            cy = top + 10 + 19 * level  # markers in the same period stack instead of hiding each other
            lines.append(
                f'<line x1="{mx:.1f}" x2="{mx:.1f}" y1="{top}" y2="{top + plot_h}" stroke="{MARK}" stroke-width="2"/>'
            )
            badges.append(
                f'<g data-marker="{kind}"><circle cx="{mx:.1f}" cy="{cy}" r="8" fill="{MARK}" '
                f'stroke="{DARK}"/><text x="{mx:.1f}" y="{cy + 4}" text-anchor="middle" font-size="11" '
                f'font-weight="bold" fill="{DARK}">{letter}</text>'
                f"<title>{escape(day_text(on))}: {escape(text)}</title></g>"
            )
        parts.extend(lines + badges)  # every line first, so no line crosses another marker's letter
    parts.append("</svg>")
    return "".join(parts)


def _describe(
    points: Sequence[tuple[dt.date, str, float | None]],
    analysis: RunChartResult | None,
    markers: Sequence[tuple[dt.date, str, str]],
    title: str,
    unit: str,
) -> str:
    shown = [p for p in points if p[2] is not None]
    if not shown:
        return f"{title}: no data yet."
    text = f"{title}: {len(shown)} periods from {shown[0][1]} to {shown[-1][1]}"
    if analysis and analysis.median is not None:
        text += f"; median {_fmt(analysis.median)}{' ' + unit if unit else ''}"
        text += "; the run chart rules signal non-random variation" if analysis.signal else "; no signal"
    if markers:
        text += f"; {len(markers)} PDSA cycles and notes marked"
    return text + "."


def _wrap(text: str, width: int) -> list[str]:
    return textwrap.wrap(text, width) or [""]


def driver_diagram_svg(aim: str, drivers: Sequence[tuple[str, Sequence[tuple[str, Sequence[str]]]]]) -> str:
    """Aim → primary drivers → secondary drivers → change ideas, as four columns joined by lines.

    ``drivers``: (primary text, [(secondary text, [change idea titles])]). Boxes grow to fit
    their wrapped text; each row is as tall as its tallest box.
    """
    col_w, gap, line_h, pad = 220, 40, 16, 8
    xs = [10 + i * (col_w + gap) for i in range(4)]
    rows: list[tuple[int | None, int | None, str | None, list[str]]] = []  # primary index, secondary index
    for pi, (_, secondaries) in enumerate(drivers):
        if not secondaries:
            rows.append((pi, None, None, []))
        for si, (stext, ideas) in enumerate(secondaries):
            rows.append((pi, si, stext, list(ideas)))
    y = 40
    boxes: list[str] = []
    primary_span: dict[int, list[float]] = {}
    links: list[tuple[float, float, float, float]] = []
    for row_primary, _si, row_text, ideas in rows:
        idea_lines = sum(len(_wrap(i, 30)) for i in ideas) + max(len(ideas) - 1, 0)
        lines = max(len(_wrap(row_text or "", 30)), idea_lines, 1)
        h = lines * line_h + 2 * pad
        if row_primary is not None:
            primary_span.setdefault(row_primary, [y, y + h])[1] = y + h
        if row_text is not None:
            boxes.append(_box(xs[2], y, col_w, h, _wrap(row_text, 30), "secondary"))
            if ideas:
                iy = y
                for idea in ideas:
                    ih = len(_wrap(idea, 30)) * line_h + 2 * pad
                    boxes.append(_box(xs[3], iy, col_w, ih, _wrap(idea, 30), "idea"))
                    links.append((xs[2] + col_w, y + h / 2, xs[3], iy + ih / 2))
                    iy += ih + 6
                h = max(h, iy - y - 6)
                if row_primary is not None:
                    primary_span[row_primary][1] = y + h
        if row_primary is not None and row_text is not None:
            links.append((-1, row_primary, xs[2], y + h / 2))
        y += h + 12
    total_h = max(y + 10, 140)
    aim_lines = _wrap(aim, 30)
    aim_h = len(aim_lines) * line_h + 2 * pad
    aim_y = max(40, total_h / 2 - aim_h / 2)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {xs[3] + col_w + 10} {total_h}" width="100%" '
        f'role="img" aria-labelledby="dd-title dd-desc" class="matneo-driver-diagram">'
        f'<title id="dd-title">Driver diagram</title><desc id="dd-desc">{escape(_diagram_text(aim, drivers))}</desc>'
    ]
    for i, heading in enumerate(("Aim", "Primary drivers", "Secondary drivers", "Change ideas")):
        parts.append(f'<text x="{xs[i]}" y="22" font-size="14" font-weight="bold" fill="{DARK}">{heading}</text>')
    parts.append(_box(xs[0], aim_y, col_w, aim_h, aim_lines, "aim"))
    for pi, (ptext, _) in enumerate(drivers):
        top, bottom = primary_span.get(pi, [40, 80])
        plines = _wrap(ptext, 30)
        ph = len(plines) * line_h + 2 * pad
        py = (top + bottom) / 2 - ph / 2
        parts.append(_line(xs[0] + col_w, aim_y + aim_h / 2, xs[1], py + ph / 2))
        parts.append(_box(xs[1], py, col_w, ph, plines, "primary"))
        for x1, p_or_y, x2, y2 in links:
            if x1 == -1 and p_or_y == pi:
                parts.append(_line(xs[1] + col_w, py + ph / 2, x2, y2))
    for x1, y1, x2, y2 in links:
        if x1 != -1:
            parts.append(_line(x1, y1, x2, y2))
    parts.extend(boxes)
    parts.append("</svg>")
    return "".join(parts)


def _box(x: float, y: float, w: float, h: float, lines: list[str], kind: str) -> str:
    fill = {"aim": "#005eb8", "primary": "#e8edee", "secondary": "#ffffff", "idea": "#fff9e6"}[kind]
    ink = "#ffffff" if kind == "aim" else DARK
    text = "".join(
        f'<text x="{x + 8}" y="{y + 8 + 12 + k * 16:.1f}" font-size="13" fill="{ink}">{escape(line)}</text>'
        for k, line in enumerate(lines)
    )
    return (
        f'<g data-node="{kind}"><rect x="{x}" y="{y:.1f}" width="{w}" height="{h:.1f}" rx="4" fill="{fill}" '
        f'stroke="{DARK}"/>{text}</g>'
    )


def _line(x1: float, y1: float, x2: float, y2: float) -> str:
    return f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="{GREY}" stroke-width="1.5"/>'


def _diagram_text(aim: str, drivers: Sequence[tuple[str, Sequence[tuple[str, Sequence[str]]]]]) -> str:
    out = [f"Aim: {aim}"]
    for ptext, secondaries in drivers:
        out.append(f"Primary driver: {ptext}")
        for stext, ideas in secondaries:
            out.append(f"Secondary driver: {stext}" + (f" (change ideas: {', '.join(ideas)})" if ideas else ""))
    return ". ".join(out)


#: Fewest points for an SPC chart on the measure page: the Making Data Count guidance's 12 for
#: limits that are not trial limits (NHSRplotthedots ``vignettes/number-of-points-required.Rmd``),
#: as the board pack uses.
SPC_MIN_POINTS = 12


def measure_spc_svg(
    starts: Sequence[dt.date],
    values: Sequence[float | None],
    numerators: Sequence[float | None],
    denominators: Sequence[float | None],
    *,
    multiplier: float | None,
    direction: str,
    baseline: int | None,
    title: str,
    unit: str,
) -> tuple[str | None, str]:
    """A Making Data Count SPC chart of a project measure, and a sentence saying what it is (or why
    there is none).

    A percentage or rate with every numerator and denominator known is a Laney P′ chart (as the
    board packs and organisation pages draw MatNeo measures, :mod:`matneo.stats.spc`) scaled by
    ``multiplier``; anything else (counts, values, suppressed months) is an XmR chart of the
    values as charted. A frozen run-chart baseline fixes the limits on the same points.
    """
    from matneo.board.svg import spc_svg
    from matneo.stats.spc import spc

    if sum(v is not None for v in values) < SPC_MIN_POINTS:
        return None, f"An SPC chart needs at least {SPC_MIN_POINTS} periods with a value."
    improvement: Literal["increase", "decrease"] = "decrease" if direction == "decrease" else "increase"
    fix = baseline if baseline and baseline >= 2 else None
    proportions = multiplier is not None and all(
        n is not None and d for n, d in zip(numerators, denominators, strict=True)
    )
    try:
        if proportions:
            result = spc(
                [float(n) for n in numerators if n is not None],
                [float(d) for d in denominators if d is not None],
                improvement=improvement,
                fix_after_n_points=fix,
            )
            scale = multiplier or 1.0
            kind = "Laney P′ chart"
        else:
            result = spc(
                [float("nan") if v is None else v for v in values], improvement=improvement, fix_after_n_points=fix
            )
            scale = 1.0
            kind = "XmR chart"
    except ValueError as error:
        return None, f"No SPC chart: {error}"
    records = result.to_records()

    def scaled(key: str) -> list[float | None]:
        return [r[key] * scale if r[key] is not None else None for r in records]

    svg = spc_svg(
        list(starts),
        scaled("value"),
        scaled("mean"),
        scaled("lpl"),
        scaled("upl"),
        [r["point_type"] for r in records],
        title=f"{title}: SPC chart",
        unit=unit,
    )
    words = f"Making Data Count {kind}" + (f", limits fixed on the first {fix} points" if fix else "")
    if result.warnings:
        words += ". " + "; ".join(result.warnings)
    return svg, words + "."
