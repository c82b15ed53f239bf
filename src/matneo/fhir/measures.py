"""Measures out as FHIR: each registered measure as a ``Measure``, its figures as ``MeasureReport``.

A MeasureReport here is a *summary* report (HL7 FHIR R4, MeasureReport, 2019,
https://hl7.org/fhir/R4/measurereport.html): one group with the numerator and denominator
populations and their counts, the measure score in the measure's unit, the period, and the
organisation as ``reporter`` by its ODS code. (R4 does not allow an Organization as
``MeasureReport.subject``, so the organisation is named once, as reporter.) A count that the
reader may not see — suppressed for another organisation by the one publication path,
``matneo.measures.publish`` through ``ResultCache.view`` — is left out with the core
``data-absent-reason`` extension, code ``masked`` (https://hl7.org/fhir/R4/extension-data-absent-reason.html).

Every resource is checked by the fhir.resources R4B models before it is returned.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

from fhir.resources.R4B.measure import Measure as FhirMeasure
from fhir.resources.R4B.measurereport import MeasureReport

from matneo.fhir.codes import mapping
from matneo.measures.definitions import Measure

CANONICAL_BASE = "https://matneo.invalid/fhir/Measure/"  # needs local confirmation: the instance's own base URL
POPULATION = "http://terminology.hl7.org/CodeSystem/measure-population"
IMPROVEMENT = "http://terminology.hl7.org/CodeSystem/measure-improvement-notation"
ABSENT = "http://hl7.org/fhir/StructureDefinition/data-absent-reason"
UNITS = {"percent": "%", "per_1000": "per 1,000", "per_100000": "per 100,000"}
PERIOD_FORMS = {
    "year": re.compile(r"^(\d{4})$"),
    "month": re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$"),
    "quarter": re.compile(r"^(\d{4})-Q([1-4])$"),
}


def fhir_id(measure_id: str) -> str:
    """A measure id as a FHIR id (letters, digits, '-' and '.'): underscores become hyphens."""
    return measure_id.replace("_", "-")


def parse_period(text: str) -> tuple[str, dt.date]:
    """``YYYY``, ``YYYY-MM`` or ``YYYY-Qn`` → (period type, first day). ValueError otherwise."""
    for kind, pattern in PERIOD_FORMS.items():
        found = pattern.match(text)
        if found and int(found.group(1)) >= 1:
            year = int(found.group(1))
            if kind == "year":
                return kind, dt.date(year, 1, 1)
            if kind == "month":
                return kind, dt.date(year, int(found.group(2)), 1)
            return kind, dt.date(year, 3 * int(found.group(2)) - 2, 1)
    raise ValueError("period must be a year (2024), a month (2024-03) or a quarter (2024-Q1)")


#: Rolling periods, as the measures API names them (``matneo.measures.compute``), and the form of
#: ``period`` that names one window: its last month, or its last year.
ROLLING_FORMS = {"rolling_12m": PERIOD_FORMS["month"], "rolling_3y": PERIOD_FORMS["year"]}


def rolling_window(period_type: str, text: str) -> tuple[dt.date, dt.date]:
    """The first and last day of a rolling window named by its end, as MatNeo's pages name it.

    ``rolling_12m`` + ``YYYY-MM``: the 12 months to that month ("12 months to Dec 2024" is
    Jan–Dec 2024). ``rolling_3y`` + ``YYYY``: the three calendar years to that year (the
    MBRRACE-UK triennium "2022–24" is 2022-01-01 to 2024-12-31). ValueError otherwise.
    """
    pattern = ROLLING_FORMS.get(period_type)
    if pattern is None:
        raise ValueError(f"period_type must be one of {', '.join(ROLLING_FORMS)}")
    found = pattern.match(text)
    if found is None or int(found.group(1)) < 1:
        shape = "its last month (2024-12)" if period_type == "rolling_12m" else "its last year (2024)"
        raise ValueError(f"a {period_type} period is named by {shape}")
    year = int(found.group(1))
    if period_type == "rolling_3y":
        if year < 3:
            raise ValueError("a rolling_3y period must end in year 3 or later")
        return dt.date(year - 2, 1, 1), dt.date(year, 12, 31)
    month = int(found.group(2))
    end = dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)
    start = dt.date(year - 1, month + 1, 1) if month < 12 else dt.date(year, 1, 1)
    return start, end


def _checked(model: Any, data: dict[str, Any]) -> dict[str, Any]:
    """``data`` validated by the FHIR model and dumped back as plain JSON types."""
    return json.loads(model.model_validate(data).model_dump_json(exclude_none=True))


def measure_resource(measure: Measure) -> dict[str, Any]:
    """The ``Measure`` definition: what is counted, out of what, in which unit, and why."""
    notation = "decrease" if measure.direction == "lower_is_better" else "increase"
    data: dict[str, Any] = {
        "resourceType": "Measure",
        "id": fhir_id(measure.id),
        "url": CANONICAL_BASE + fhir_id(measure.id),
        "name": "".join(part.capitalize() for part in measure.id.split("_")),
        "title": measure.title,
        "status": "active",
        "description": measure.description,
        "scoring": {
            "coding": [{"system": "http://terminology.hl7.org/CodeSystem/measure-scoring", "code": "proportion"}]
        },
        "improvementNotation": {"coding": [{"system": IMPROVEMENT, "code": notation}]},
        "rationale": measure.source,
        "group": [
            {
                "description": f"{measure.title}, {UNITS.get(measure.unit, measure.unit)}",
                "population": [
                    {"code": _population("numerator"), "criteria": _criteria(measure.numerator)},
                    {"code": _population("denominator"), "criteria": _criteria(measure.denominator)},
                ],
            }
        ],
    }
    return _checked(FhirMeasure, data)


def _criteria(expression: str) -> dict[str, Any]:
    """MatNeo's own count expression over the birth record (docs/measures.md); not CQL or FHIRPath."""
    return {"language": "text/x-matneo-count", "expression": expression}


def _population(code: str) -> dict[str, Any]:
    return {"coding": [{"system": POPULATION, "code": code}]}


def _masked() -> dict[str, Any]:
    return {"extension": [{"url": ABSENT, "valueCode": "masked"}]}


def measure_report(measure: Measure, row: dict[str, Any], org_name: str | None) -> dict[str, Any]:
    """One period of one organisation's figures (a row of ``ResultCache.view``) as a summary report."""
    suppressed = bool(row.get("suppressed"))
    populations = []
    for code in ("numerator", "denominator"):
        population: dict[str, Any] = {"code": _population(code)}
        count = row.get(code)
        if count is None or (suppressed and row.get(code) is None):
            population["_count"] = _masked()
        else:
            population["count"] = int(count)
        populations.append(population)
    group: dict[str, Any] = {"population": populations}
    value = row.get("value")
    if value is None or value != value:  # hidden or not computable (NaN)
        group["measureScore"] = _masked()
    else:
        group["measureScore"] = {"value": value, "unit": UNITS.get(measure.unit, measure.unit)}
    start, end = row["period_start"], row["period_end"]
    data: dict[str, Any] = {
        "resourceType": "MeasureReport",
        "id": f"{fhir_id(measure.id)}-{row['org_code']}-{start.isoformat()}-{row.get('months', 0)}m",
        "status": "complete",
        "type": "summary",
        "measure": CANONICAL_BASE + fhir_id(measure.id),
        "period": {"start": start.isoformat(), "end": end.isoformat()},
        "reporter": {
            "identifier": {"system": mapping().identifier_system("trust_code"), "value": row["org_code"]},
            **({"display": org_name} if org_name else {}),
        },
        "group": [group],
    }
    return _checked(MeasureReport, data)
