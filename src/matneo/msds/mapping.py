"""The MSDS v2.0 → birth-record mapping, read from ``data/mapping.json``.

The mapping is data so that it can be read, reviewed and corrected by people who know the
trust's MSDS extract without reading code, and so that ``docs/msds.md`` is generated from the
same file the reader applies (:mod:`matneo.msds.reference_doc`). Every table, data item and
code mapping names its source in the file; entries MatNeo could not confirm against a primary
source (the MSDS v2.0 Technical Output Specification, NHS Digital 2019; the NHS Data
Dictionary) carry ``confirmed: false`` and are shown as "needs local confirmation".
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from dataclasses import field as dc_field
from functools import cache
from importlib import resources
from typing import Any

from matneo.records.schema import FIELD_NAMES

#: What a rule does with its data items; each is implemented in :mod:`matneo.msds.reader`.
RULES = {
    "copy": "the value as submitted",
    "number": "the value as a whole number",
    "code": "the code, mapped as listed",
    "indicator": "Y/N indicator, mapped as listed",
    "flag": "true/false as submitted",
    "date_time": "date and time joined into one date and time",
    "days_to_weeks": "days divided by 7, whole weeks",
    "days_remainder": "days beyond the whole weeks (days mod 7)",
    "pregnancy_outcome": "the code, mapped as listed; a fetal death before 24+0 weeks is a late fetal loss",
    "neonatal_death": "date and time of death, kept when less than 28 days after the birth",
    "age_at_birth": "completed years from the mother's date of birth to the baby's birth",
    "sum": "the data items added together",
    "observation": "ObsValue of the row whose ObsCode is listed, in the field's unit",
    "finding": "the value listed for the row's FindingCode (the latest such row)",
    "admitted": "true if the baby has a row in the table; false for a live birth without one",
}


@dataclass(frozen=True)
class Source:
    """A document a mapping entry rests on."""

    key: str
    document: str
    version: str
    section: str
    year: int
    url: str
    note: str = ""


@dataclass(frozen=True)
class Table:
    """One MSDS table MatNeo reads (``MSD401``) and how it joins to the baby."""

    id: str
    name: str
    title: str
    key: tuple[str, ...]
    join: str
    required: bool
    source: str
    confirmed: bool
    note: str = ""


@dataclass(frozen=True)
class FieldMap:
    """How one birth-record field is made from MSDS data items."""

    field: str
    table: str
    items: tuple[str, ...]
    rule: str
    source: str
    confirmed: bool
    codes: dict[str, Any] = dc_field(default_factory=dict)
    code_names: dict[str, str] = dc_field(default_factory=dict)
    units: dict[str, int] = dc_field(default_factory=dict)
    first_character: bool = False
    note: str = ""


@dataclass(frozen=True)
class Submission:
    """The data items that say which submission a row came from."""

    identifier: str
    provider: str
    period_start: str
    rule: str
    source: str
    confirmed: bool


@dataclass(frozen=True)
class Mapping:
    about: str
    sources: dict[str, Source]
    submission: Submission
    tables: dict[str, Table]
    fields: dict[str, FieldMap]

    def items_of(self, table: str) -> list[str]:
        """Data items read from ``table`` (keys, submission items and the mapped items), in order."""
        items = [] if table == "MATNEO01" else [self.submission.identifier, self.submission.provider]
        items += [] if table == "MATNEO01" else [self.submission.period_start]
        items += list(self.tables[table].key)
        items += [item for fm in self.fields.values() if fm.table == table for item in fm.items]
        if table == "MSD401":
            items += ["UniqPregID", "LabourDeliveryID", "Person_ID_Mother"]
        if table == "MSD301":
            items += ["UniqPregID"]
        if table in ("MSD302", "MSD405"):
            items += ["FindingCode", "ObsCode", "ObsValue", "UCUMUnit"]
        return list(dict.fromkeys(items))


def _parse(raw: dict[str, Any]) -> Mapping:
    sources = {key: Source(key=key, **value) for key, value in raw["sources"].items()}
    tables = {key: Table(id=key, **{**value, "key": tuple(value["key"])}) for key, value in raw["tables"].items()}
    fields = {
        name: FieldMap(field=name, **{**value, "items": tuple(value["items"])}) for name, value in raw["fields"].items()
    }
    submission = Submission(**raw["submission"])
    mapping = Mapping(raw["about"], sources, submission, tables, fields)
    _check(mapping)
    return mapping


def _check(mapping: Mapping) -> None:
    """Refuse a mapping that names an unknown field, table, rule or source: a typo must not load silently."""
    for name, fm in mapping.fields.items():
        problems = []
        if name not in FIELD_NAMES:
            problems.append("is not a birth-record field")
        if fm.table not in mapping.tables:
            problems.append(f"names unknown table {fm.table}")
        if fm.rule not in RULES:
            problems.append(f"uses unknown rule {fm.rule}")
        if fm.source not in mapping.sources:
            problems.append(f"cites unknown source {fm.source}")
        if problems:
            raise ValueError(f"MSDS mapping of {name}: {'; '.join(problems)}")
    for table in mapping.tables.values():
        if table.source not in mapping.sources:
            raise ValueError(f"MSDS table {table.id} cites unknown source {table.source}")


@cache
def load_mapping() -> Mapping:
    """The packaged mapping (read once)."""
    text = resources.files("matneo.msds").joinpath("data/mapping.json").read_text(encoding="utf-8")
    return _parse(json.loads(text))
