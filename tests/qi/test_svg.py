"""Server-rendered SVG: accessible names, markers that never hide each other, the driver diagram's nodes."""

from __future__ import annotations

import datetime as dt
import re

from matneo.qi.svg import driver_diagram_svg, run_chart_svg
from matneo.stats import run_chart

VALUES = [55, 58, 52, 57, 54, 56, 53, 55, 57, 79, 81, 78, 83, 80, 82, 79, 81, 80]
POINTS = [(dt.date(2025, 1, 1) + dt.timedelta(days=31 * i), f"Point {i}", float(v)) for i, v in enumerate(VALUES)]


def test_run_chart_svg_is_labelled_and_marks_the_signal() -> None:
    svg = run_chart_svg(POINTS, run_chart(VALUES, baseline=9), title="Seen within 2 hours", unit="%")
    assert 'role="img"' in svg and "<title id=" in svg and "<desc id=" in svg
    assert 'data-signal="true"' in svg and 'stroke-dasharray="6 4"' in svg
    assert svg.count('data-flagged="1"') == 10  # positions 8-17: the run above the baseline median
    assert "Baseline ends" in svg


def test_markers_in_the_same_period_stack() -> None:
    markers = [(dt.date(2025, 7, 8), "pdsa", "PDSA: triage"), (dt.date(2025, 7, 10), "note", "Launch")]
    svg = run_chart_svg(POINTS, run_chart(VALUES), markers, title="t")
    heights = re.findall(r'<g data-marker="\w+"><circle cx="[\d.]+" cy="([\d.]+)"', svg)
    assert len(heights) == 2 and heights[0] != heights[1]
    assert svg.index("<line x1") < svg.index('<g data-marker="pdsa">')


def test_empty_chart_says_so() -> None:
    assert "No data yet" in run_chart_svg([], None, title="Nothing")


def test_driver_diagram_has_every_node_and_escapes_text() -> None:
    svg = driver_diagram_svg(
        "Aim <script>",
        [("Primary & first", [("Secondary", ["Idea one", "Idea two"])]), ("Primary alone", [])],
    )
    assert "<script>" not in svg and "Aim &lt;script&gt;" in svg
    counts = {kind: svg.count(f'data-node="{kind}"') for kind in ("aim", "primary", "secondary", "idea")}
    assert counts == {"aim": 1, "primary": 2, "secondary": 1, "idea": 2}
