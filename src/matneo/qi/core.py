"""The pure core of the QI workspace: no database, no web.

* the vocabularies a project uses (statuses, measure kinds, units, PDSA decisions);
* :func:`aim_statement`, which puts the three parts of an aim together the way the Model for
  Improvement asks ("What are we trying to accomplish? How much? By when?": Langley GJ et al.,
  *The Improvement Guide*, 2nd ed., 2009, chapter 5);
* :func:`period_start` and :func:`check_entry`, the rules for one period of a custom measure
  (numerator ≤ denominator, no future periods, one value per period);
* :func:`parse_values_csv`, the CSV import with a row-level rejection report, which changes
  nothing when the file cannot be read;
* the IHI progress scale (:func:`progress_scale`, data marked "needs local confirmation") and
  :func:`progress_suggestion`, the score the data suggest, always labelled as a suggestion.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from matneo.dates import day_text, month_text
from matneo.stats.runchart import RunChartResult

COLLABORATIVE_KINDS = {"national": "National", "regional": "Regional", "lmns": "LMNS"}
PROJECT_STATUSES = {
    "planning": "Planning",
    "testing": "Testing changes",
    "implementing": "Implementing",
    "sustaining": "Sustaining",
    "complete": "Complete",
    "stopped": "Stopped",
}
MEASURE_KINDS = {"outcome": "Outcome measure", "process": "Process measure", "balancing": "Balancing measure"}
MEASURE_SOURCES = {"matneo": "From the birth records (fills itself)", "custom": "Entered by the team"}
CUSTOM_UNITS = {"percent": "%", "per_1000": "per 1,000", "count": "count", "value": "value"}
UNIT_MULTIPLIERS = {"percent": 100.0, "per_1000": 1000.0}
FREQUENCIES = {"month": "Monthly", "week": "Weekly"}
DIRECTIONS = {"increase": "Higher is better", "decrease": "Lower is better"}
RULE_SET_LABELS = {"anhoej": "Anhøj rules (longest run, crossings)", "ihi": "IHI rules (shift, trend, runs)"}
ACT_CHOICES = {"adopt": "Adopt", "adapt": "Adapt", "abandon": "Abandon"}
TEAM_ROLES = ("Project lead", "Sponsor", "Clinical lead", "Data lead", "Team member", "Patient partner")
MAX_TEXT = 4_000
MAX_CSV_BYTES = 1_000_000


@dataclass(frozen=True)
class FieldError:
    """A problem the user can fix: the form field and a plain-English message."""

    field: str
    message: str


class QiInputError(ValueError):
    """Input the user can fix; ``errors`` name each field (shown in the NHS.UK error summary)."""

    def __init__(self, errors: Sequence[FieldError]) -> None:
        self.errors = list(errors)
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in self.errors))


def aim_statement(what: str, how_much: str, by_when: dt.date | None) -> str:
    """The aim as one sentence: what, how much, by when; the missing parts are named, not guessed."""
    what = what.strip().rstrip(".")
    how_much = how_much.strip().rstrip(".")
    parts = [what or "[what we will improve]", how_much or "[how much]"]
    when = f"by {day_text(by_when)}" if by_when else "[by when]"
    return f"{parts[0]} {parts[1]} {when}."


def aim_gaps(what: str, how_much: str, by_when: dt.date | None) -> list[str]:
    """Which of the three parts of an aim are still missing, in words the page shows as hints."""
    gaps = []
    if not what.strip():
        gaps.append("Say what you will improve, and for whom.")
    if not how_much.strip() or not any(ch.isdigit() for ch in how_much):
        gaps.append("Say how much, with a number (for example “from 60% to 85%”).")
    if by_when is None:
        gaps.append("Say by when (a date).")
    return gaps


def period_start(frequency: str, day: dt.date) -> dt.date:
    """The first day of the period holding ``day``: the 1st of the month, or the Monday of the week."""
    if frequency == "month":
        return day.replace(day=1)
    if frequency == "week":
        return day - dt.timedelta(days=day.weekday())
    raise ValueError(f"unknown frequency {frequency!r}")


def period_text(frequency: str, start: dt.date) -> str:
    """A period as people read it: "Sep 2026", or "Week of 7 Sep 2026"."""
    return month_text(start) if frequency == "month" else f"Week of {day_text(start)}"


def parse_periods(frequency: str, text: str) -> tuple[list[dt.date], list[str]]:
    """Periods typed as "2025-03, 2025-07" (months) or "2025-03-03" (a day in the week): their
    starts, sorted and without repeats, and the parts that are not dates. Used for the points a
    team marks as astronomical (Perla, Provost & Murray 2011: a judgement, never computed)."""
    found: set[dt.date] = set()
    bad: list[str] = []
    for part in (p.strip() for p in text.replace(";", ",").replace(" ", ",").split(",")):
        if not part:
            continue
        try:
            found.add(period_start(frequency, dt.date.fromisoformat(part + "-01" if len(part) == 7 else part)))
        except ValueError:
            bad.append(part)
    return sorted(found), bad


@dataclass(frozen=True)
class Entry:
    """One checked period of a custom measure."""

    period_start: dt.date
    numerator: float | None
    denominator: float | None
    value: float | None

    def plotted(self, unit: str) -> float | None:
        """The value drawn on the chart, in the measure's unit."""
        if self.value is not None:
            return self.value
        if self.numerator is None or not self.denominator:
            return None
        return self.numerator / self.denominator * UNIT_MULTIPLIERS.get(unit, 1.0)


def _number(text: str | float | None, field: str, label: str, errors: list[FieldError]) -> float | None:
    if text is None or (isinstance(text, str) and not text.strip()):
        return None
    try:
        number = float(str(text).replace(",", "").strip())
    except ValueError:
        errors.append(FieldError(field, f"{label} must be a number, like 12 or 12.5"))
        return None
    if not math.isfinite(number):
        errors.append(FieldError(field, f"{label} must be a number, like 12 or 12.5"))
        return None
    return number


def check_entry(
    frequency: str,
    unit: str,
    period: dt.date | str | None,
    numerator: str | float | None,
    denominator: str | float | None,
    value: str | float | None,
    *,
    today: dt.date,
    taken: Collection[dt.date] = (),
) -> Entry:
    """Check one period of a custom measure; :class:`QiInputError` names every problem.

    Rates and percentages need a numerator and a denominator (numerator ≤ denominator for a
    percentage, denominator above zero); counts and values need a value. A period that has not
    started, or has not finished (the current month or week), is refused: data for it cannot be
    complete. A period already entered is refused with a message: change it by deleting first,
    so that nothing is overwritten by accident.
    """
    errors: list[FieldError] = []
    day: dt.date | None = None
    if isinstance(period, dt.date):
        day = period
    elif period and str(period).strip():
        text = str(period).strip()
        try:
            day = dt.date.fromisoformat(text + "-01" if len(text) == 7 else text)
        except ValueError:
            errors.append(FieldError("period", "Enter the period as a date, like 2026-09 or 2026-09-07"))
    else:
        errors.append(FieldError("period", "Enter the period"))
    start = period_start(frequency, day) if day else None
    if start is not None:
        if start > period_start(frequency, today) or start == period_start(frequency, today):
            errors.append(
                FieldError(
                    "period", f"{period_text(frequency, start)} has not finished yet: enter finished periods only"
                )
            )
        elif start in taken:
            errors.append(
                FieldError(
                    "period",
                    f"{period_text(frequency, start)} already has a value: delete it first to enter a new one",
                )
            )
    num = _number(numerator, "numerator", "Numerator", errors)
    den = _number(denominator, "denominator", "Denominator", errors)
    val = _number(value, "value", "Value", errors)
    if unit in UNIT_MULTIPLIERS:
        if val is not None:
            errors.append(FieldError("value", "This measure is a rate: enter a numerator and a denominator"))
        if num is None and not any(e.field == "numerator" for e in errors):
            errors.append(FieldError("numerator", "Enter the numerator"))
        if den is None and not any(e.field == "denominator" for e in errors):
            errors.append(FieldError("denominator", "Enter the denominator"))
        if num is not None and num < 0:
            errors.append(FieldError("numerator", "Numerator cannot be negative"))
        if den is not None and den <= 0:
            errors.append(FieldError("denominator", "Denominator must be more than 0"))
        if unit == "percent" and num is not None and den is not None and num > den:
            errors.append(FieldError("numerator", "Numerator cannot be more than the denominator"))
    else:
        if num is not None or den is not None:
            errors.append(FieldError("value", "This measure is a count or value: enter the value only"))
        if val is None and not any(e.field == "value" for e in errors):
            errors.append(FieldError("value", "Enter the value"))
        if unit == "count" and val is not None and (val < 0 or val != int(val)):
            errors.append(FieldError("value", "A count must be a whole number, 0 or more"))
    if errors:
        raise QiInputError(errors)
    assert start is not None
    return Entry(start, num, den, val)


@dataclass(frozen=True)
class Rejection:
    """One CSV row that was not imported: its line number and why."""

    line: int
    reason: str


@dataclass(frozen=True)
class CsvImport:
    """The rows a CSV import would add and the rows it rejects (with reasons)."""

    accepted: list[Entry]
    rejected: list[Rejection]


class UnreadableFile(ValueError):
    """The file cannot be read as a CSV of periods: nothing is imported (the message says why)."""


def parse_values_csv(
    data: bytes, frequency: str, unit: str, *, today: dt.date, taken: Collection[dt.date] = ()
) -> CsvImport:
    """Parse an uploaded CSV with columns ``period`` and ``numerator``/``denominator`` or ``value``.

    Each row is checked like a typed entry (:func:`check_entry`); a row that fails is reported
    with its line number and the rest are kept. A period repeated within the file is rejected
    after its first row. The whole file is refused (:class:`UnreadableFile`, nothing imported)
    when it is not UTF-8 text, too big, or lacks a ``period`` column and the value columns.
    """
    if len(data) > MAX_CSV_BYTES:
        raise UnreadableFile("The file is bigger than 1 MB; a measure's values fit in far less.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UnreadableFile("The file is not a CSV text file (it could not be read as UTF-8).") from None
    if "\x00" in text:
        raise UnreadableFile("The file is not a CSV text file.")
    reader = csv.DictReader(io.StringIO(text))
    try:
        header = [h.strip().lower() for h in (reader.fieldnames or [])]
    except csv.Error as error:
        raise UnreadableFile(f"The file could not be read as CSV: {error}.") from None
    needed = {"numerator", "denominator"} if unit in UNIT_MULTIPLIERS else {"value"}
    if "period" not in header or not needed <= set(header):
        raise UnreadableFile(
            f"The first row must name the columns: period, {', '.join(sorted(needed))} "
            f"(found: {', '.join(header) or 'nothing'})."
        )
    reader.fieldnames = header
    accepted: list[Entry] = []
    rejected: list[Rejection] = []
    seen = set(taken)
    try:
        for line, row in enumerate(reader, start=2):
            try:
                entry = check_entry(
                    frequency,
                    unit,
                    row.get("period"),
                    row.get("numerator"),
                    row.get("denominator"),
                    row.get("value"),
                    today=today,
                    taken=seen,
                )
            except QiInputError as error:
                rejected.append(Rejection(line, "; ".join(e.message for e in error.errors)))
                continue
            seen.add(entry.period_start)
            accepted.append(entry)
    except csv.Error as error:
        raise UnreadableFile(f"The file could not be read as CSV: {error}.") from None
    return CsvImport(accepted, rejected)


# -- progress ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class ProgressLevel:
    score: float
    name: str
    definition: str


@dataclass(frozen=True)
class ProgressScale:
    """The IHI assessment scale as configured: levels, where the wording comes from, its status."""

    levels: tuple[ProgressLevel, ...]
    source: str
    status: str
    note: str

    def level(self, score: float | None) -> ProgressLevel | None:
        return next((lv for lv in self.levels if score is not None and lv.score == score), None)

    @property
    def scores(self) -> tuple[float, ...]:
        return tuple(lv.score for lv in self.levels)


@cache
def progress_scale() -> ProgressScale:
    """The progress scale shipped in ``matneo/qi/data/progress_scale.json`` (needs local confirmation)."""
    raw: dict[str, Any] = json.loads(resources.files("matneo.qi").joinpath("data/progress_scale.json").read_text())
    levels = tuple(ProgressLevel(float(lv["score"]), lv["name"], lv.get("definition", "")) for lv in raw["levels"])
    return ProgressScale(levels, raw["source"], raw["status"], raw["note"])


@dataclass(frozen=True)
class ProgressSuggestion:
    """A score the data suggest, and why. Always shown as a suggestion beside the team's own score."""

    score: float
    reason: str
    label: str = "Suggestion from the data (the team sets the score)"


def progress_suggestion(
    *,
    has_aim: bool,
    has_team: bool,
    measures_with_data: int,
    pdsa_cycles: int,
    adopted: int,
    outcome_improved: bool,
    process_improved: bool,
    outcome_sustained: bool,
) -> ProgressSuggestion:
    """The lowest IHI level whose evidence MatNeo can see, as a suggestion only.

    The mapping from evidence to level is MatNeo's reading of the scale's level names (see
    ``docs/qi.md``, "Progress score"); it needs local confirmation, like the scale itself.
    "Improved" means the run chart signals in the measure's better direction.
    """
    if outcome_sustained and adopted:
        return ProgressSuggestion(
            4.5, "The outcome measure shows a sustained shift for the better and changes were adopted."
        )
    if outcome_improved:
        return ProgressSuggestion(4.0, "The outcome measure's run chart signals a change for the better.")
    if process_improved:
        return ProgressSuggestion(3.0, "A process measure's run chart signals a change for the better.")
    if pdsa_cycles:
        return ProgressSuggestion(2.5, "Changes are being tested (PDSA cycles) but no measure signals improvement yet.")
    if measures_with_data:
        return ProgressSuggestion(2.0, "Measures have data but no changes have been tested yet.")
    if has_aim and has_team:
        return ProgressSuggestion(1.0, "The aim and team are set but there are no data or tests yet.")
    return ProgressSuggestion(0.5, "The project is registered; its aim or team is still to be set.")


def improved(result: RunChartResult, direction: str) -> bool:
    """Whether a run chart signals a change in the better direction after its baseline.

    The longest run (Anhøj) or a shift (IHI) must lie on the better side of the centre line;
    a signal on the worse side is not improvement.
    """
    better = 1 if direction == "increase" else -1
    if not result.signal:
        return False
    if result.rule_set == "ihi":
        return any(side == better for _, _, side in result.shifts) or any(d == better for _, _, d in result.trends)
    return result.longest_run_side == better


def sustained(result: RunChartResult, direction: str, points: int = 6) -> bool:
    """An improvement whose run reaches the latest point and is at least ``points`` long.

    Six is the IHI shift length (Perla et al. 2011): the better level has held for as long as a
    shift needs, up to now.
    """
    if not improved(result, direction) or result.longest_run_points is None or result.longest_run is None:
        return False
    return result.longest_run_points[1] == result.last_position and result.longest_run >= points


# -- MatNeoSIP priorities and the stage-per-quarter grid --------------------------------------
@dataclass(frozen=True)
class Priority:
    id: str
    name: str
    measure: str | None  # the MatNeo measure that tracks it, where there is one


@dataclass(frozen=True)
class Priorities:
    """The MatNeoSIP priorities as configured, with where the list comes from and its status."""

    items: tuple[Priority, ...]
    source: str
    status: str
    note: str

    @property
    def names(self) -> dict[str, str]:
        return {p.id: p.name for p in self.items}


@cache
def matneosip_priorities() -> Priorities:
    """The priorities shipped in ``matneo/qi/data/matneosip_priorities.json`` (needs local confirmation:
    the programme's priorities change by year and its own document could not be read)."""
    raw: dict[str, Any] = json.loads(
        resources.files("matneo.qi").joinpath("data/matneosip_priorities.json").read_text()
    )
    items = tuple(Priority(p["id"], p["name"], p.get("measure")) for p in raw["priorities"])
    return Priorities(items, raw["source"], raw["status"], raw["note"])


@dataclass(frozen=True)
class Quarter:
    """A calendar quarter: first and last day, and its label ("Jan to Mar 2026")."""

    start: dt.date
    end: dt.date

    @property
    def label(self) -> str:
        return f"{self.start:%b} to {self.end:%b %Y}"


def quarter_of(day: dt.date) -> Quarter:
    """The calendar quarter ``day`` falls in. Calendar quarters are named by their months, so no
    one has to know whether "Q1" means January or April (the NHS financial year)."""
    first = dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    last_month = first.month + 2
    following = dt.date(day.year + (last_month == 12), last_month % 12 + 1, 1)
    return Quarter(first, following - dt.timedelta(days=1))


def last_quarters(today: dt.date, count: int) -> list[Quarter]:
    """The ``count`` quarters up to and including today's, oldest first."""
    quarters = [quarter_of(today)]
    while len(quarters) < count:
        quarters.append(quarter_of(quarters[-1].start - dt.timedelta(days=1)))
    return quarters[::-1]


def score_at(history: Sequence[tuple[dt.datetime, float | None]], moment: dt.datetime) -> float | None:
    """The progress score a project held at ``moment``: the latest one set before it (None: not set)."""
    held: float | None = None
    for set_at, score in sorted(history, key=lambda h: h[0]):
        if set_at >= moment:
            break
        held = score
    return held


def stage_per_quarter(
    history: Sequence[tuple[dt.datetime, float | None]], quarters: Sequence[Quarter]
) -> list[float | None]:
    """The score held at the end of each quarter (the stage the grid shows)."""
    return [score_at(history, dt.datetime.combine(q.end + dt.timedelta(days=1), dt.time())) for q in quarters]
