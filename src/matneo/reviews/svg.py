"""Server-rendered SVG charts for learning across reviews: plain SVG text built from numbers, no script.

The house approach of :mod:`matneo.board.svg` and :mod:`matneo.qi.svg`: deterministic SVG with a text
alternative (``<title>``/``<desc>``), NHS colours (https://service-manual.nhs.uk/design-system/styles/colour),
and the page prints a data table beside each chart carrying every value. A figure hidden by the app's
small-number suppression is drawn as no bar and named "hidden" in the text alternative, never estimated.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

__all__ = ["Bar", "Stack", "bars_svg", "stacked_svg"]

WIDTH = 640
LABEL_W, RIGHT, ROW_H, TOP, BOTTOM = 250, 56, 26, 8, 26
#: Fill per series: NHS blue, then the grade colours (dark to light, so order reads without colour too).
BLUE = "#005EB8"
STACK_COLOURS = ("#003087", "#005EB8", "#41B6E6", "#AEB7BD", "#E8EDEE")


@dataclass(frozen=True)
class Bar:
    """One bar: its label, its percentage (``None``: no figure) and whether it is hidden by suppression."""

    label: str
    value: float | None
    hidden: bool = False

    @property
    def words(self) -> str:
        if self.hidden:
            return "hidden (small numbers)"
        return "no figure" if self.value is None else f"{self.value:.0f}%"


@dataclass(frozen=True)
class Stack:
    """One stacked bar: its label and one percentage per part (adding to about 100), or hidden."""

    label: str
    parts: tuple[float | None, ...]
    hidden: bool = False


def _axis(plot_x: float, plot_w: float, bottom: float) -> list[str]:
    out = []
    for k in range(5):
        x = plot_x + plot_w * k / 4
        out.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{TOP}" y2="{bottom:.1f}" stroke="#f0f4f5"/>'
            f'<text x="{x:.1f}" y="{bottom + 16:.1f}" font-size="11" text-anchor="middle" fill="#4c6272">'
            f"{25 * k}%</text>"
        )
    return out


def _label(y: float, text: str) -> str:
    short = text if len(text) <= 38 else text[:36] + "…"
    return f'<text x="{LABEL_W - 8}" y="{y:.1f}" font-size="12" text-anchor="end" fill="#212b32">{escape(short)}</text>'


def bars_svg(bars: Sequence[Bar], *, title: str) -> str:
    """Horizontal percentage bars (0–100%), one row per bar, the value written at the bar's end."""
    height = TOP + ROW_H * max(1, len(bars)) + BOTTOM
    plot_w = WIDTH - LABEL_W - RIGHT
    bottom = height - BOTTOM
    desc = "; ".join(f"{b.label}: {b.words}" for b in bars) or "No figures."
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="100%" role="img" '
        f'aria-label="{escape(title)}" class="matneo-bars">',
        f"<title>{escape(title)}</title><desc>{escape(desc)}</desc>",
        *_axis(LABEL_W, plot_w, bottom),
    ]
    for i, bar in enumerate(bars):
        y = TOP + ROW_H * i
        out.append(_label(y + ROW_H / 2 + 4, bar.label))
        if bar.value is not None and not bar.hidden:
            w = plot_w * max(0.0, min(100.0, bar.value)) / 100
            out.append(f'<rect x="{LABEL_W}" y="{y + 4:.1f}" width="{w:.1f}" height="{ROW_H - 8}" fill="{BLUE}"/>')
        out.append(
            f'<text x="{LABEL_W + (plot_w * min(100.0, bar.value or 0) / 100 if not bar.hidden else 0) + 4:.1f}" '
            f'y="{y + ROW_H / 2 + 4:.1f}" font-size="11" fill="#4c6272">{escape(bar.words)}</text>'
        )
    out.append("</svg>")
    return "".join(out)


def stacked_svg(stacks: Sequence[Stack], parts: Sequence[str], *, title: str) -> str:
    """Horizontal 100% stacked bars (one per row), a legend of ``parts`` in order, darkest first."""
    legend_h = 22
    height = TOP + legend_h + ROW_H * max(1, len(stacks)) + BOTTOM
    plot_w = WIDTH - LABEL_W - RIGHT
    bottom = height - BOTTOM
    rows = []
    for s in stacks:
        if s.hidden:
            rows.append(f"{s.label}: hidden (small numbers)")
        elif all(p is None for p in s.parts):
            rows.append(f"{s.label}: none graded")
        else:
            rows.append(
                f"{s.label}: " + ", ".join(f"{name} {p or 0:.0f}%" for name, p in zip(parts, s.parts, strict=True))
            )
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="100%" role="img" '
        f'aria-label="{escape(title)}" class="matneo-stacked">',
        f"<title>{escape(title)}</title><desc>{escape('; '.join(rows) or 'No figures.')}</desc>",
    ]
    for k, name in enumerate(parts):
        lx = LABEL_W + k * 80
        out.append(
            f'<rect x="{lx}" y="{TOP}" width="12" height="12" fill="{STACK_COLOURS[k % len(STACK_COLOURS)]}" '
            f'stroke="#4c6272" stroke-width="0.5"/>'
            f'<text x="{lx + 16}" y="{TOP + 10}" font-size="11" fill="#212b32">{escape(name)}</text>'
        )
    top = TOP + legend_h
    for k in range(5):
        gx = LABEL_W + plot_w * k / 4
        out.append(
            f'<line x1="{gx:.1f}" x2="{gx:.1f}" y1="{top}" y2="{bottom:.1f}" stroke="#f0f4f5"/>'
            f'<text x="{gx:.1f}" y="{bottom + 16:.1f}" font-size="11" text-anchor="middle" fill="#4c6272">'
            f"{25 * k}%</text>"
        )
    for i, stack in enumerate(stacks):
        y = top + ROW_H * i
        out.append(_label(y + ROW_H / 2 + 4, stack.label))
        if stack.hidden or all(p is None for p in stack.parts):
            words = "hidden (small numbers)" if stack.hidden else "none graded"
            out.append(
                f'<text x="{LABEL_W + 4}" y="{y + ROW_H / 2 + 4:.1f}" font-size="11" fill="#4c6272">{words}</text>'
            )
            continue
        x = float(LABEL_W)
        for k, part in enumerate(stack.parts):
            w = plot_w * max(0.0, min(100.0, part or 0.0)) / 100
            if w > 0:
                out.append(
                    f'<rect x="{x:.1f}" y="{y + 4:.1f}" width="{w:.1f}" height="{ROW_H - 8}" '
                    f'fill="{STACK_COLOURS[k % len(STACK_COLOURS)]}" stroke="#fff" stroke-width="1"/>'
                )
            x += w
    out.append("</svg>")
    return "".join(out)
