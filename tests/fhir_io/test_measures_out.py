"""Measures out: every registered measure is a valid FHIR Measure; periods parse in their three forms."""

from __future__ import annotations

import datetime as dt

import pytest
from fhir.resources.R4B.measure import Measure as FhirMeasure
from fhir.resources.R4B.measurereport import MeasureReport

from matneo.fhir.measures import fhir_id, measure_report, measure_resource, parse_period, rolling_window
from matneo.measures.definitions import MEASURES


@pytest.mark.parametrize("measure", MEASURES, ids=lambda m: m.id)
def test_every_measure_is_a_valid_fhir_measure(measure) -> None:  # type: ignore[no-untyped-def]
    resource = FhirMeasure.model_validate(measure_resource(measure))
    assert resource.id == fhir_id(measure.id)
    codes = [p.code.coding[0].code for p in resource.group[0].population]
    assert codes == ["numerator", "denominator"]
    assert resource.improvementNotation.coding[0].code in ("increase", "decrease")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024", ("year", dt.date(2024, 1, 1))),
        ("2024-03", ("month", dt.date(2024, 3, 1))),
        ("2024-Q1", ("quarter", dt.date(2024, 1, 1))),
        ("2024-Q4", ("quarter", dt.date(2024, 10, 1))),
    ],
)
def test_period_forms(text: str, expected: tuple[str, dt.date]) -> None:
    assert parse_period(text) == expected


@pytest.mark.parametrize("text", ["2024-13", "2024-Q5", "24", "2024/25", "0000"])
def test_bad_periods_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_period(text)


def test_a_report_carries_counts_score_period_and_reporter() -> None:
    row = {
        "org_code": "R0A",
        "period_start": dt.date(2024, 1, 1),
        "period_end": dt.date(2024, 3, 31),
        "months": 3,
        "numerator": 9,
        "denominator": 2000,
        "value": 4.5,
        "suppressed": False,
    }
    report = MeasureReport.model_validate(measure_report(MEASURES[0], row, "Manchester"))
    assert (report.type, report.status) == ("summary", "complete")
    assert [p.count for p in report.group[0].population] == [9, 2000]
    assert float(report.group[0].measureScore.value) == 4.5
    assert report.reporter.identifier.system == "https://fhir.nhs.uk/Id/ods-organization-code"
    assert str(report.period.start) == "2024-01-01"


@pytest.mark.parametrize(
    ("period_type", "text", "window"),
    [
        ("rolling_12m", "2024-12", (dt.date(2024, 1, 1), dt.date(2024, 12, 31))),
        ("rolling_12m", "2024-03", (dt.date(2023, 4, 1), dt.date(2024, 3, 31))),
        ("rolling_12m", "2024-02", (dt.date(2023, 3, 1), dt.date(2024, 2, 29))),
        ("rolling_3y", "2024", (dt.date(2022, 1, 1), dt.date(2024, 12, 31))),
    ],
)
def test_rolling_windows_are_named_by_their_end(period_type: str, text: str, window: tuple[dt.date, dt.date]) -> None:
    assert rolling_window(period_type, text) == window


@pytest.mark.parametrize(
    ("period_type", "text"),
    [
        ("rolling_12m", "2024"),
        ("rolling_12m", "2024-13"),
        ("rolling_3y", "2024-12"),
        ("rolling_3y", "0002"),
        ("year", "2024"),
    ],
)
def test_bad_rolling_windows_are_refused(period_type: str, text: str) -> None:
    with pytest.raises(ValueError):
        rolling_window(period_type, text)


def test_a_rolling_report_spans_its_window_and_stays_valid_when_masked() -> None:
    start, end = rolling_window("rolling_3y", "2024")
    row = {"org_code": "R0A", "period_start": start, "period_end": end, "months": 36, "suppressed": True}
    row |= {"numerator": None, "denominator": None, "value": None}
    report = MeasureReport.model_validate(measure_report(MEASURES[0], row, None))
    assert (str(report.period.start), str(report.period.end)) == ("2022-01-01", "2024-12-31")
    assert [p.count for p in report.group[0].population] == [None, None]
    assert report.group[0].measureScore.value is None
