"""Server-side exports of QI work: a chart or the driver diagram as PNG or PDF, and the project
summary as PDF.

Each export is a standalone HTML document (styles inline, the chart as the same server-rendered
SVG the pages show, no script and no external file) that headless Chromium prints to PDF
(:func:`matneo.board.render.render_pdf`, as the board packs) or captures as a PNG
(``--screenshot``, below). Chromium rather than a pure-Python SVG rasteriser (cairosvg) because
MatNeo already needs it for board-pack PDFs and the browser tests, it draws the SVG exactly as the
pages do (same text layout and fonts), and a second renderer would be a new dependency with its own
native library (Cairo) that could draw the charts differently.
"""

from __future__ import annotations

import re
from html import escape
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from matneo.board.render import PdfUnavailable, render_pdf, render_png
from matneo.dates import day_text

__all__ = ["PdfUnavailable", "figure_html", "figure_png", "pdf_of", "png_of", "summary_html", "svg_size"]

_ENV = Environment(loader=PackageLoader("matneo.qi", "templates"), autoescape=select_autoescape(["html"]))
_ENV.filters["day"] = lambda d: day_text(d) if d else "–"

_VIEWBOX = re.compile(r'viewBox="0 0 ([0-9.]+) ([0-9.]+)"')
#: Pixels per SVG unit in a PNG: twice the drawn size, sharp on a slide or a high-density screen.
PNG_SCALE = 2
#: Margin around the figure in a PNG, in CSS pixels.
PNG_MARGIN = 16

_STYLE = """
  body { font-family: Arial, sans-serif; color: #212b32; margin: 0; padding: 16px; line-height: 1.4; background: #fff; }
  h1 { font-size: 24px; margin: 0 0 4px; } h2 { font-size: 20px; margin: 24px 0 8px; border-bottom: 2px solid #005eb8; }
  h3 { font-size: 16px; margin: 16px 0 4px; }
  .meta, .note { color: #4c6272; font-size: 13px; }
  figure { margin: 0 0 12px; break-inside: avoid; page-break-inside: avoid; }
  table { border-collapse: collapse; width: 100%; font-size: 12px; margin: 6px 0 12px; }
  caption { text-align: left; font-weight: bold; padding: 4px 0; }
  th, td { border-bottom: 1px solid #d8dde0; padding: 3px 6px; text-align: left; vertical-align: top; }
  svg { max-width: 100%; height: auto; }
"""


def svg_size(svg: str) -> tuple[float, float]:
    """The drawing's width and height from its ``viewBox`` (the QI SVGs all start at 0 0)."""
    found = _VIEWBOX.search(svg)
    if not found:
        raise ValueError("the SVG has no viewBox")
    return float(found.group(1)), float(found.group(2))


def figure_html(svg: str, title: str, caption: str, *, generated: str, landscape: bool = True) -> str:
    """One chart or diagram as a standalone page: its title, what it is from, the SVG at its own size.

    The SVG keeps its title, description and ARIA role, so the PDF stays readable by assistive
    technology; ``caption`` says where the figure comes from and when it was made.
    """
    width, height = svg_size(svg)
    page = "A4 landscape" if landscape else "A4"
    return (
        '<!DOCTYPE html>\n<html lang="en-GB">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{escape(title)}</title>\n<style>{_STYLE}"
        f"  .figure {{ width: {width:g}px; }} .figure svg {{ width: {width:g}px; }}\n"
        f"  @page {{ size: {page}; margin: 12mm; }}\n"
        "  @media print { .figure, .figure svg { width: 100%; } }\n</style>\n</head>\n<body>\n<main>\n"
        f'<h1>{escape(title)}</h1>\n<p class="meta">{escape(caption)} · made {escape(generated)}</p>\n'
        f'<figure class="figure" data-height="{height:g}">{svg}</figure>\n</main>\n</body>\n</html>\n'
    )


def summary_html(page: Any, charts: dict[int, Markup], diagram: Markup, generated: str) -> str:
    """The project summary as one standalone document (the page's ``qi_summary`` content)."""
    return _ENV.get_template("summary.html").render(
        page=page,
        v=page.view,
        charts=charts,
        diagram=diagram,
        generated=generated,
        style=Markup(_STYLE),  # type: ignore[attr-defined]
    )


def pdf_of(html: str, chromium: str | None = None) -> bytes:
    """``html`` printed to PDF by headless Chromium (no network; see :mod:`matneo.board.render`)."""
    return render_pdf(html, chromium)


def png_of(html: str, width: float, height: float, chromium: str | None = None) -> bytes:
    """A PNG of ``html`` as headless Chromium draws it, in a window of ``width`` × ``height`` CSS pixels
    at :data:`PNG_SCALE` device pixels each (:func:`matneo.board.render.render_png`)."""
    return render_png(html, width, height, PNG_SCALE, chromium)


def figure_png(svg: str, title: str, caption: str, *, generated: str, chromium: str | None = None) -> bytes:
    """A chart or diagram as a PNG: title, caption and the figure at its drawn size."""
    width, height = svg_size(svg)
    html = figure_html(svg, title, caption, generated=generated)
    # Room for the heading and caption above the figure, and the margins.
    return png_of(html, width + 2 * PNG_MARGIN, height + 2 * PNG_MARGIN + 80, chromium)
