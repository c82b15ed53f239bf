"""Today's FHIR reader, frozen as it was before the fast path (commit 5d4213e, src/matneo/fhir/inbound.py):
the oracle the tests compare the fast reader with. Not used by MatNeo itself."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl
from fhir.resources.R4B.bundle import Bundle
from pydantic import ValidationError

from matneo.fhir.codes import LONDON_TZ, Coding, Item, mapping
from matneo.records.parse import Parsed, convert
from matneo.records.schema import FIELD_NAMES

BUNDLE_TYPES = ("transaction", "collection", "batch")
LONDON = ZoneInfo(LONDON_TZ)


class NotABundle(ValueError):
    """The file is not a FHIR Bundle MatNeo can read. The message never quotes the file."""


@dataclass
class _Entry:
    index: int
    resource: Any
    full_url: str | None = None

    @property
    def key(self) -> str:
        """``Type/id``; a resource without an id (a transaction's new resource) by its fullUrl."""
        if self.resource.id is None and self.full_url:
            return f"{self.resource.get_resource_type()} {self.full_url}"
        return f"{self.resource.get_resource_type()}/{self.resource.id}"

    def where(self, element: str) -> str:
        return f"{self.key} {element} (Bundle.entry[{self.index}])"


def parse_bundle(data: bytes | str) -> Bundle:
    """The Bundle, validated by fhir.resources; :class:`NotABundle` in fixed words otherwise."""
    try:
        bundle = Bundle.model_validate_json(data)
    except ValidationError as error:
        problems = sorted({".".join(str(p) for p in e["loc"][:3]) for e in error.errors()})[:3]
        raise NotABundle("is not a valid FHIR R4 Bundle (first problems at: " + ", ".join(problems) + ")") from None
    except ValueError:
        raise NotABundle("is not a FHIR Bundle in JSON") from None
    if bundle.type not in BUNDLE_TYPES:
        raise NotABundle(f"is a Bundle of type {bundle.type!r}; expected one of {', '.join(BUNDLE_TYPES)}")
    return bundle


def local_text(value: Any) -> str | None:
    """A FHIR date or dateTime as the birth record's local ``YYYY-MM-DD HH:MM:SS`` (see module)."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            return value  # a partial date: left as written, for the type rule to report
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            naive = value.replace(tzinfo=None)
            if value.utcoffset() != naive.replace(tzinfo=LONDON).utcoffset():
                naive = value.astimezone(LONDON).replace(tzinfo=None)
            value = naive
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _ref_key(reference: Any, index: dict[str, _Entry]) -> _Entry | None:
    text = getattr(reference, "reference", None)
    if not text:
        return None
    if text in index:
        return index[text]
    parts = text.rstrip("/").split("/")
    return index.get("/".join(parts[-2:])) if len(parts) >= 2 else None


def _identifier(identifiers: Iterable[Any] | None, system: str) -> str | None:
    for identifier in identifiers or ():
        if identifier.system == system and identifier.value is not None:
            return str(identifier.value)
    return None


def _codings(concept: Any) -> list[Coding]:
    if concept is None:
        return []
    return [Coding(c.system or "", c.code or "", c.display or "") for c in concept.coding or ()]


def _matches(concept: Any, coding: Coding) -> bool:
    return any(c.system == coding.system and c.code == coding.code for c in _codings(concept))


def _value_of(codings: list[Coding], values: dict[str, Coding]) -> str | None:
    """The birth-record code of the first coding in ``values``; else the first coding as written."""
    for c in codings:
        for key, wanted in values.items():
            if c.system == wanted.system and c.code == wanted.code:
                return key
    return f"{codings[0].system}|{codings[0].code}" if codings else None


def _number_text(value: Any) -> str | None:
    if value is None:
        return None
    number = float(value)
    return str(int(number)) if number.is_integer() else str(value)


class _Reader:
    """Walks one Bundle; see the module docstring."""

    def __init__(self, bundle: Bundle) -> None:
        self.map = mapping()
        self.entries: list[_Entry] = []
        self.index: dict[str, _Entry] = {}
        for i, entry in enumerate(bundle.entry or ()):
            if entry.resource is None:
                continue
            item = _Entry(i, entry.resource, str(entry.fullUrl) if entry.fullUrl else None)
            self.entries.append(item)
            if entry.resource.id:
                self.index[item.key] = item
            if entry.fullUrl:
                self.index[str(entry.fullUrl)] = item
        self.by_type: dict[str, list[_Entry]] = {}
        for item in self.entries:
            self.by_type.setdefault(item.resource.get_resource_type(), []).append(item)
        self.about: dict[int, list[_Entry]] = {}  # entry index of a Patient → resources about them
        for kind in ("Observation", "Procedure", "Condition"):
            for item in self.by_type.get(kind, []):
                subject = _ref_key(item.resource.subject, self.index)
                if subject is not None:
                    self.about.setdefault(subject.index, []).append(item)
        self.mothers: set[int] = set()
        for encounter in self.by_type.get("Encounter", []):
            subject = _ref_key(encounter.resource.subject, self.index)
            if subject is not None:
                self.mothers.add(subject.index)

    def rows(self) -> tuple[list[dict[str, str | None]], list[tuple[int, str, str]]]:
        rows: list[dict[str, str | None]] = []
        where: list[tuple[int, str, str]] = []
        for patient in self.by_type.get("Patient", []):
            if patient.index in self.mothers:
                continue
            row, found = self._baby(patient)
            rows.append({"_row": str(patient.index + 1), **row})
            where.extend((patient.index + 1, name, text) for name, text in found.items())
        return rows, where

    def _baby(self, baby: _Entry) -> tuple[dict[str, str | None], dict[str, str]]:
        m = self.map
        row: dict[str, str | None] = dict.fromkeys(FIELD_NAMES)
        found: dict[str, str] = {}
        b = baby.resource

        def put(name: str, value: str | None, source: str) -> None:
            row[name] = value
            found[name] = source

        put("record_id", _identifier(b.identifier, m.identifier_system("record_id")), baby.where("identifier"))
        birth_time = None
        for extension in (b.birthDate__ext.extension or ()) if b.birthDate__ext else ():
            if extension.url == m.extension_url("birth_time"):
                birth_time = extension.valueDateTime
        put(
            "birth_datetime", local_text(birth_time if birth_time is not None else b.birthDate), baby.where("birthDate")
        )
        gender = {v: k for k, v in m.gender.items()}
        put("sex", gender.get(b.gender, b.gender) if b.gender else None, baby.where("gender"))
        order = (
            b.multipleBirthInteger
            if b.multipleBirthInteger is not None
            else (1 if b.multipleBirthBoolean is False else None)
        )
        put("birth_order", None if order is None else str(order), baby.where("multipleBirthInteger"))
        about = self.about.get(baby.index, [])
        encounter = next((e for e in (_ref_key(a.resource.encounter, self.index) for a in about) if e), None)
        mother = _ref_key(encounter.resource.subject, self.index) if encounter else None
        self._delivery(encounter, mother, put)
        mother_about = (
            [
                a
                for a in self.about.get(mother.index, [])
                if encounter and _ref_key(a.resource.encounter, self.index) is encounter
            ]
            if mother
            else []
        )
        for item in m.items:
            pool = about if item.subject == "baby" else mother_about
            self._item(item, pool, put, baby if item.subject == "baby" else mother)
        if row["outcome"] == "live_birth":
            put("neonatal_death_datetime", local_text(b.deceasedDateTime), baby.where("deceasedDateTime"))
        self._mother(mother, row, put)
        return row, found

    def _delivery(self, encounter: _Entry | None, mother: _Entry | None, put: Any) -> None:
        m = self.map
        if encounter is None:
            put("trust_code", None, "no Encounter referenced by the baby's Observations, Procedures or Conditions")
            put("mother_id", None, "no Encounter referenced by the baby's Observations, Procedures or Conditions")
            return
        e = encounter.resource
        trust = self._org_code(e.serviceProvider, "Organization", m.identifier_system("trust_code"))
        put("trust_code", trust, encounter.where("serviceProvider.identifier"))
        location = e.location[0].location if e.location else None
        put(
            "site_code",
            self._org_code(location, "Location", m.identifier_system("site_code")),
            encounter.where("location[0].location.identifier"),
        )
        if mother is None:
            put("mother_id", None, encounter.where("subject"))

    def _org_code(self, reference: Any, kind: str, system: str) -> str | None:
        if reference is None:
            return None
        if reference.identifier is not None and reference.identifier.system == system:
            return reference.identifier.value
        target = _ref_key(reference, self.index)
        if target is not None and target.resource.get_resource_type() == kind:
            return _identifier(target.resource.identifier, system)
        return None

    def _mother(self, mother: _Entry | None, row: dict[str, str | None], put: Any) -> None:
        if mother is None:
            return
        m = self.map
        p = mother.resource
        put("mother_id", _identifier(p.identifier, m.identifier_system("mother_id")), mother.where("identifier"))
        put("maternal_death_datetime", local_text(p.deceasedDateTime), mother.where("deceasedDateTime"))
        birth = row["birth_datetime"]
        if p.birthDate is not None and birth and isinstance(p.birthDate, dt.date):
            try:
                born = dt.date.fromisoformat(birth[:10])
            except ValueError:
                born = None
            if born is not None:
                age = born.year - p.birthDate.year - ((born.month, born.day) < (p.birthDate.month, p.birthDate.day))
                put("maternal_age", str(age), mother.where("birthDate"))
        for extension in p.extension or ():
            if extension.url == m.extension_url("ethnic_category"):
                codings = _codings(extension.valueCodeableConcept)
                value = next((c.code for c in codings if c.system == m.ethnic_system), None)
                if value is None and codings:
                    value = f"{codings[0].system}|{codings[0].code}"
                put("ethnic_category", value, mother.where("extension(UKCore-EthnicCategory)"))
            elif extension.url == m.extension_url("imd_decile"):
                put("imd_decile", _number_text(extension.valueInteger), mother.where("extension(imd-decile)"))

    def _item(self, item: Item, pool: list[_Entry], put: Any, owner: _Entry | None) -> None:
        names = [item.field] + ([item.also] if item.also else [])
        for entry in pool:
            r = entry.resource
            if r.get_resource_type() != item.resource:
                continue
            if item.value == "procedure_code":
                codings = _codings(r.code)
                if not any(c.system == v.system and c.code == v.code for c in codings for v in item.values.values()):
                    continue
                put(item.field, _value_of(codings, item.values), entry.where("code"))
                return
            if item.code is None or not _matches(r.code, item.code):
                continue
            for name, value in zip(names, self._value(item, r), strict=True):
                put(name, value, entry.where(item.element))
            return
        absent = (
            f"no {item.resource} with code {item.code.system}|{item.code.code}"
            if item.code
            else (f"no {item.resource} with a code of this field")
        )
        for name in names:
            put(name, None, f"{absent} about {owner.key if owner else 'the mother'}")

    def _value(self, item: Item, r: Any) -> list[str | None]:
        kind = item.value
        if kind == "presence":
            if item.resource == "Condition":
                status = _codings(r.verificationStatus)
                refuted = any(c.code == "refuted" for c in status)
                return ["false" if refuted else "true"]
            return ["false" if r.status == "not-done" else "true" if r.status == "completed" else r.status]
        if kind == "boolean":
            return [None if r.valueBoolean is None else str(r.valueBoolean).lower()]
        if kind == "integer":
            if r.valueInteger is not None:
                return [str(r.valueInteger)]
            return [_number_text(r.valueQuantity.value) if r.valueQuantity is not None else None]
        if kind in ("concept", "boolean_concept"):
            return [_value_of(_codings(r.valueCodeableConcept), item.values)]
        quantity = r.valueQuantity
        if quantity is None or quantity.value is None:
            return [None] * (2 if item.also else 1)
        wanted = (item.unit or {}).get("code")
        if wanted and quantity.code != wanted:
            written = f"{quantity.value} {quantity.code or quantity.unit or ''}".strip()
            return [written] * (2 if item.also else 1)
        if kind == "gestation":
            days = float(quantity.value)
            if not days.is_integer():
                return [str(quantity.value)] * 2
            return [str(int(days) // 7), str(int(days) % 7)]
        return [_number_text(quantity.value)]


def bundle_rows(bundle: Bundle) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(rows as text, one column per field plus ``_row``; where each cell came from)."""
    rows, where = _Reader(bundle).rows()
    schema = {"_row": pl.String, **dict.fromkeys(FIELD_NAMES, pl.String)}
    frame = pl.DataFrame(rows, schema=schema, orient="row") if rows else pl.DataFrame(schema=schema)
    frame = frame.with_columns(pl.col("_row").cast(pl.Int64))
    sources = pl.DataFrame(where, schema={"_row": pl.Int64, "field": pl.String, "where": pl.String}, orient="row")
    return frame, sources


def read_fhir(path: Path, header: list[str] | None = None) -> Parsed:
    """Read a FHIR Bundle file into the loader's :class:`Parsed` (``header`` is unused)."""
    frame, sources = bundle_rows(parse_bundle(path.read_bytes()))
    parsed = convert(frame)
    parsed.where = sources
    return parsed
