"""Exports drawn by the real headless Chromium (as the board packs): PNG and PDF of a chart and the
driver diagram, standalone HTML that needs no network, and the SPC chart beside the run chart."""

from __future__ import annotations

import datetime as dt
import struct

import pytest

from matneo.board.render import PdfUnavailable, chromium_path
from matneo.qi import export
from matneo.qi.svg import driver_diagram_svg, measure_spc_svg, run_chart_svg
from matneo.stats import run_chart

VALUES = [55, 58, 52, 57, 54, 56, 53, 55, 57, 79, 81, 78, 83, 80, 82, 79, 81, 80]
STARTS = [dt.date(2025, 1, 1) + dt.timedelta(days=31 * i) for i in range(len(VALUES))]
POINTS = [(d.replace(day=1), f"Point {i}", float(v)) for i, (d, v) in enumerate(zip(STARTS, VALUES, strict=True))]


def _has_chromium() -> bool:
    try:
        chromium_path()
    except PdfUnavailable:
        return False
    return True


needs_chromium = pytest.mark.skipif(not _has_chromium(), reason="Chromium is not installed (scripts/setup-browser)")


def test_figure_html_is_standalone_and_sized_from_the_svg() -> None:
    svg = run_chart_svg(POINTS, run_chart(VALUES), title="Seen within 2 hours", unit="%")
    assert export.svg_size(svg) == (720.0, 320.0)
    html = export.figure_html(svg, "Seen within 2 hours (%)", "Triage project", generated="3 Dec 2026")
    assert "<script" not in html and "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert 'role="img"' in html and "Triage project · made 3 Dec 2026" in html
    with pytest.raises(ValueError):
        export.svg_size("<svg></svg>")


@needs_chromium
def test_png_and_pdf_of_a_run_chart_and_a_driver_diagram() -> None:
    chart = run_chart_svg(POINTS, run_chart(VALUES), title="Seen within 2 hours", unit="%")
    png = export.figure_png(chart, "Seen within 2 hours (%)", "Triage project", generated="3 Dec 2026")
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    # The figure's drawn size plus margins and heading, at twice the pixels.
    assert width == (720 + 2 * export.PNG_MARGIN) * export.PNG_SCALE and height > 320 * export.PNG_SCALE
    diagram = driver_diagram_svg(
        "Reduce stillbirths", [("Women report reduced movements", [("Leaflet", ["Booking leaflet"])])]
    )
    pdf = export.pdf_of(export.figure_html(diagram, "Driver diagram", "R0A", generated="3 Dec 2026"))
    assert pdf[:5] == b"%PDF-" and b"/Type /Page" in pdf


def test_spc_chart_of_a_percentage_is_a_p_prime_chart_in_the_measure_unit() -> None:
    nums = [float(v) for v in VALUES]
    dens = [100.0] * len(VALUES)
    svg, words = measure_spc_svg(
        STARTS,
        [float(v) for v in VALUES],
        nums,
        dens,
        multiplier=100.0,
        direction="increase",
        baseline=9,
        title="Seen within 2 hours",
        unit="%",
    )
    assert svg is not None and "Laney P′ chart" in words and "first 9 points" in words
    assert "Seen within 2 hours: SPC chart" in svg
    # A suppressed month (no numerator) falls back to an XmR chart of the values as charted.
    _, xmr = measure_spc_svg(
        STARTS,
        [None, *map(float, VALUES[1:])],
        [None, *nums[1:]],
        [None, *dens[1:]],
        multiplier=100.0,
        direction="increase",
        baseline=None,
        title="t",
        unit="%",
    )
    assert "XmR chart" in xmr
    none, why = measure_spc_svg(
        STARTS[:5],
        [1.0] * 5,
        [None] * 5,
        [None] * 5,
        multiplier=None,
        direction="increase",
        baseline=None,
        title="t",
        unit="count",
    )
    assert none is None and "at least 12" in why
