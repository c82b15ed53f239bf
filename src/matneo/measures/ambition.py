"""Progress against the National Maternity Safety Ambition for England or any organisation.

Joins the measures engine (yearly values with intervals) to the pure trajectory functions
(``trajectory.py``). England starts from the published national baseline; an organisation
starts from its own value in the baseline year, or its first full year after it, so each is
judged on the same relative reductions from where it began. Maternal mortality is a rolling
three-year rate; each triennium is placed at its middle year (2009–11 is the 2010 baseline).
Years are named for people with :func:`matneo.measures.periods.period_label` ("2024";
"2022–24" for the triennium whose middle year is 2023), as on the web pages.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, cast

import polars as pl

from matneo.measures.compute import Level, compute, cube_for_settings
from matneo.measures.definitions import MEASURES_BY_ID
from matneo.measures.periods import period_label
from matneo.measures.trajectory import (
    AmbitionProgress,
    LatestValue,
    ambition_progress,
    measure_absolute_targets,
    measure_kind,
    measure_reductions,
    national_baseline,
    organisation_baseline,
    period_year,
)
from matneo.reference.codes import AMBITION
from matneo.reference.organisations import OrgHierarchy, load_hierarchy

AMBITION_MEASURES = (
    "stillbirth_rate",
    "neonatal_mortality_24wk",
    "neonatal_mortality_all",
    "perinatal_mortality",
    "brain_injury_rate",
    "maternal_mortality",
    "preterm_birth_rate",
)


def ambition_window(year: int, triennial: bool) -> tuple[dt.date, dt.date]:
    """The first and last day of the period an ambition year stands for.

    A calendar year is itself; for a triennial measure (maternal mortality) the year is the
    triennium's middle year, so 2023 stands for 2022–24.
    """
    spread = 1 if triennial else 0
    return dt.date(year - spread, 1, 1), dt.date(year + spread, 12, 31)


@dataclass(frozen=True)
class MeasureProgress:
    """One ambition measure for one organisation: its progress, or why there is none."""

    measure: str
    title: str
    unit: str
    progress: AmbitionProgress | None
    problem: str | None = None
    #: ``"year"``, or ``"rolling_3y"`` for a measure judged by triennium.
    period_type: str = "year"

    def period_name(self, year: int) -> str:
        """What people call the period of an ambition year: "2024", or "2022–24" for 2023 by triennium."""
        return period_label(self.period_type, *ambition_window(year, self.period_type == "rolling_3y"))

    def to_dict(self) -> dict[str, Any]:
        progress = self.progress
        return {
            "measure": self.measure,
            "title": self.title,
            "unit": self.unit,
            "period_type": self.period_type,
            "baseline_period": self.period_name(progress.baseline.year) if progress else None,
            "latest_period": self.period_name(progress.latest.year) if progress and progress.latest else None,
            "progress": progress.to_dict() if progress else None,
            "problem": self.problem,
        }


def _yearly(result: pl.DataFrame, triennial: bool) -> dict[int, tuple[float, int, float, float]]:
    """year → (value, months of data scaled to a year, lower95, upper95) for rows with a value."""
    yearly = {}
    for row in result.iter_rows(named=True):
        if row["value"] is None:
            continue
        year = period_year(row["period"]) if triennial else row["period_start"].year
        months = row["months"] // 3 if triennial else row["months"]
        yearly[year] = (row["value"], months, row["lower95"], row["upper95"])
    return yearly


def measure_progress(
    measure_id: str, org_code: str | None, hierarchy: OrgHierarchy, cube: pl.DataFrame
) -> MeasureProgress:
    measure = MEASURES_BY_ID[measure_id]
    published = AMBITION[measure_id]
    triennial = measure.default_period == "rolling_3y"
    org = hierarchy.get(org_code) if org_code else hierarchy.get("ENG")
    result = compute(
        [measure_id],
        level=cast(Level, org.level),
        period="rolling_3y" if triennial else "year",
        orgs=[org.code],
        cube=cube,
    )
    yearly = _yearly(result, triennial)
    full = {year: v for year, v in yearly.items() if v[1] == 12}
    title, unit, period_type = measure.title, measure.unit, "rolling_3y" if triennial else "year"
    if not full:
        return MeasureProgress(measure_id, title, unit, None, "no full year of data", period_type)
    latest_year = max(full)
    value, _, lower, upper = full[latest_year]
    latest = LatestValue(latest_year, value, lower, upper, 0.95)
    try:
        if org.level == "england" and published.baseline_value is not None:
            baseline = national_baseline(measure_id)
        else:
            preferred = period_year(published.baseline_period) if published.baseline_period else 2010
            baseline = organisation_baseline({y: (v[0], v[1]) for y, v in yearly.items()}, preferred_year=preferred)
        if baseline.value == 0 and measure_kind(published) == "relative":
            problem = "baseline of zero events: too few for a trajectory"
            return MeasureProgress(measure_id, title, unit, None, problem, period_type)
        kind = measure_kind(published)
        progress = ambition_progress(
            baseline,
            latest if latest_year >= baseline.year else None,
            kind=kind,
            reductions=measure_reductions(published) if kind == "relative" else None,
            absolute_targets=measure_absolute_targets(published) if kind == "absolute" else None,
            direction=measure.direction,  # type: ignore[arg-type]
            measure_id=measure_id,
        )
    except ValueError as error:
        return MeasureProgress(measure_id, title, unit, None, str(error), period_type)
    return MeasureProgress(measure_id, title, unit, progress, period_type=period_type)


def ambition_report(
    org_code: str | None = None,
    *,
    cube: pl.DataFrame | None = None,
    hierarchy: OrgHierarchy | None = None,
    settings=None,  # type: ignore[no-untyped-def]
) -> list[MeasureProgress]:
    """Every ambition measure for England (``org_code`` None) or one organisation."""
    hierarchy = hierarchy or load_hierarchy()
    if org_code is not None:
        hierarchy.get(org_code)  # a clear KeyError for an unknown code
    cube = cube if cube is not None else cube_for_settings(settings)
    return [measure_progress(m, org_code, hierarchy, cube) for m in AMBITION_MEASURES]
