"""The pure QI core: aim statements, custom-measure entry rules, CSV import, progress scale."""

from __future__ import annotations

import datetime as dt

import pytest

from matneo.qi.core import (
    QiInputError,
    UnreadableFile,
    aim_gaps,
    aim_statement,
    check_entry,
    improved,
    parse_values_csv,
    period_start,
    progress_scale,
    progress_suggestion,
    sustained,
)
from matneo.stats import run_chart

TODAY = dt.date(2026, 12, 3)


def test_aim_statement_joins_what_how_much_by_when() -> None:
    text = aim_statement(
        "Increase babies born before 34 weeks given magnesium sulphate", "from 70% to 90%", dt.date(2027, 3, 31)
    )
    assert text == "Increase babies born before 34 weeks given magnesium sulphate from 70% to 90% by 31 Mar 2027."
    assert aim_statement("", "", None) == "[what we will improve] [how much] [by when]."
    assert aim_gaps("Reduce", "a lot", None) == [
        "Say how much, with a number (for example “from 60% to 85%”).",
        "Say by when (a date).",
    ]


@pytest.mark.parametrize(
    ("frequency", "day", "start"),
    [("month", dt.date(2026, 9, 17), dt.date(2026, 9, 1)), ("week", dt.date(2026, 9, 17), dt.date(2026, 9, 14))],
)
def test_period_start(frequency: str, day: dt.date, start: dt.date) -> None:
    assert period_start(frequency, day) == start


# (unit, period, numerator, denominator, value, field with the error or None, message part)
ENTRY_CASES = [
    ("percent", "2026-10", "40", "50", None, None, ""),
    ("percent", "2026-10", "51", "50", None, "numerator", "cannot be more than the denominator"),
    ("percent", "2026-10", "5", "0", None, "denominator", "more than 0"),
    ("percent", "2026-10", "-1", "10", None, "numerator", "cannot be negative"),
    ("percent", "2026-10", "x", "10", None, "numerator", "must be a number"),
    ("percent", "2026-10", "1", "10", "5", "value", "is a rate"),
    ("percent", "2026-12", "1", "10", None, "period", "has not finished yet"),
    ("percent", "2027-01", "1", "10", None, "period", "has not finished yet"),
    ("percent", "2026-09", "1", "10", None, "period", "already has a value"),
    ("percent", "Sept", "1", "10", None, "period", "as a date"),
    ("count", "2026-10", None, None, "3", None, ""),
    ("count", "2026-10", None, None, "2.5", "value", "whole number"),
    ("count", "2026-10", "1", "2", None, "value", "count or value"),
    ("value", "2026-10-15", None, None, "36.6", None, ""),
]


@pytest.mark.parametrize(("unit", "period", "num", "den", "value", "field", "message"), ENTRY_CASES)
def test_custom_entry_rules(
    unit: str, period: str, num: str | None, den: str | None, value: str | None, field: str | None, message: str
) -> None:
    taken = {dt.date(2026, 9, 1)}
    if field is None:
        entry = check_entry("month", unit, period, num, den, value, today=TODAY, taken=taken)
        assert entry.period_start == dt.date(2026, 10, 1)
        return
    with pytest.raises(QiInputError) as caught:
        check_entry("month", unit, period, num, den, value, today=TODAY, taken=taken)
    assert any(e.field == field and message in e.message for e in caught.value.errors), caught.value.errors


def test_plotted_value_keeps_the_unit() -> None:
    entry = check_entry("month", "percent", "2026-10", "45", "60", None, today=TODAY)
    assert entry.plotted("percent") == 75.0
    assert check_entry("month", "per_1000", "2026-10", "3", "1500", None, today=TODAY).plotted("per_1000") == 2.0


def test_weekly_entry_refuses_the_current_week() -> None:
    with pytest.raises(QiInputError, match="Week of 30 Nov 2026 has not finished"):
        check_entry("week", "count", "2026-12-01", None, None, "3", today=TODAY)
    assert check_entry("week", "count", "2026-11-25", None, None, "3", today=TODAY).period_start == dt.date(
        2026, 11, 23
    )


def test_csv_import_reports_each_bad_row() -> None:
    data = (
        b"Period,Numerator,Denominator\n"
        b"2026-07,30,40\n"
        b"2026-08,50,40\n"  # numerator > denominator
        b"2026-07,31,40\n"  # repeats July from line 2
        b"2026-09,35,40\n"
        b"2027-01,1,2\n"  # future
        b"2026-06,,40\n"  # no numerator
    )
    result = parse_values_csv(data, "month", "percent", today=TODAY, taken={dt.date(2026, 6, 1)})
    assert [e.period_start.month for e in result.accepted] == [7, 9]
    expected = [
        (3, "Numerator cannot be more than the denominator"),
        (4, "Jul 2026 already has a value"),
        (6, "Jan 2027 has not finished yet"),
        (7, "Enter the numerator"),
    ]
    assert [r.line for r in result.rejected] == [line for line, _ in expected]
    for rejection, (_, words) in zip(result.rejected, expected, strict=True):
        assert words in rejection.reason


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00", "not a CSV text file"),
        (b"month,count\n2026-01,3\n", "must name the columns"),
        (b"", "must name the columns"),
        (b"period,value\n" + b"2026-01,1\n" * 200_000, "bigger than 1 MB"),
    ],
)
def test_unreadable_files_are_refused_whole(data: bytes, message: str) -> None:
    with pytest.raises(UnreadableFile, match=message):
        parse_values_csv(data, "month", "count", today=TODAY)


def test_progress_scale_is_marked_for_local_confirmation() -> None:
    scale = progress_scale()
    assert scale.scores == (0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5.0)
    assert scale.status == "needs local confirmation"
    assert "ihi.org" in scale.source
    assert scale.level(2.5).name == "Changes tested, but no improvement"  # type: ignore[union-attr]


SUGGESTIONS = [
    (dict(), 0.5),
    (dict(has_aim=True, has_team=True), 1.0),
    (dict(has_aim=True, has_team=True, measures_with_data=1), 2.0),
    (dict(measures_with_data=1, pdsa_cycles=2), 2.5),
    (dict(pdsa_cycles=2, process_improved=True), 3.0),
    (dict(pdsa_cycles=2, outcome_improved=True), 4.0),
    (dict(outcome_improved=True, outcome_sustained=True, adopted=1), 4.5),
]


@pytest.mark.parametrize(("evidence", "score"), SUGGESTIONS)
def test_progress_suggestion_is_labelled(evidence: dict, score: float) -> None:  # type: ignore[type-arg]
    base = dict(
        has_aim=False,
        has_team=False,
        measures_with_data=0,
        pdsa_cycles=0,
        adopted=0,
        outcome_improved=False,
        process_improved=False,
        outcome_sustained=False,
    )
    suggestion = progress_suggestion(**(base | evidence))
    assert suggestion.score == score
    assert suggestion.label.startswith("Suggestion from the data")


def test_improvement_needs_the_better_side() -> None:
    # 12 baseline months around 60%, then 10 months above 80%: a long run above the median.
    values = [60, 62, 58, 61, 59, 60, 63, 57, 61, 59, 62, 58, 81, 83, 85, 82, 84, 86, 83, 85, 84, 86]
    result = run_chart(values, baseline=12)
    assert improved(result, "increase") and not improved(result, "decrease")
    assert sustained(result, "increase")
    ihi = run_chart(values, rule_set="ihi", baseline=12)
    assert improved(ihi, "increase") and sustained(ihi, "increase")
    flat = run_chart([60, 62, 58, 61, 59, 60, 63, 57, 61, 59, 62, 58])
    assert not improved(flat, "increase")


# -- MatNeoSIP priorities and quarters ----------------------------------------------------------
def test_priorities_name_real_measures_and_say_they_need_local_confirmation() -> None:
    from matneo.measures.definitions import MEASURES_BY_ID
    from matneo.qi.core import matneosip_priorities

    priorities = matneosip_priorities()
    assert priorities.status == "needs local confirmation" and "https://" in priorities.source
    assert len({p.id for p in priorities.items}) == len(priorities.items) >= 8
    for p in priorities.items:
        assert p.measure is None or MEASURES_BY_ID[p.measure].group == "matneosip"


def test_quarters_are_calendar_quarters_named_by_their_months() -> None:
    from matneo.qi.core import last_quarters, quarter_of

    q = quarter_of(dt.date(2026, 12, 3))
    assert (q.start, q.end, q.label) == (dt.date(2026, 10, 1), dt.date(2026, 12, 31), "Oct to Dec 2026")
    assert quarter_of(dt.date(2024, 2, 29)).end == dt.date(2024, 3, 31)
    assert [x.label for x in last_quarters(dt.date(2026, 1, 5), 3)] == [
        "Jul to Sep 2025",
        "Oct to Dec 2025",
        "Jan to Mar 2026",
    ]


def test_stage_is_the_score_held_at_the_quarter_end() -> None:
    from matneo.qi.core import last_quarters, score_at, stage_per_quarter

    history = [
        (dt.datetime(2026, 3, 31, 23, 59), 1.0),  # last minute of Jan-Mar counts for it
        (dt.datetime(2026, 4, 1, 0, 0), 2.0),
        (dt.datetime(2026, 8, 1), None),  # cleared
        (dt.datetime(2026, 11, 1), 3.0),
    ]
    assert score_at(history, dt.datetime(2026, 1, 1)) is None
    quarters = last_quarters(dt.date(2026, 12, 3), 4)
    assert stage_per_quarter(history, quarters) == [1.0, 2.0, None, 3.0]
    assert stage_per_quarter(list(reversed(history)), quarters) == [
        1.0,
        2.0,
        None,
        3.0,
    ]  # order of rows does not matter
