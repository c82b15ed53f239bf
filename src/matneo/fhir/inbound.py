"""A FHIR Bundle of births → birth-record rows, for the loader's usual validation.

**Reading.** The Bundle (type ``transaction``, ``collection`` or ``batch``) is read with the
standard library's ``json`` and checked by :mod:`matneo.fhir.fastcheck`, which knows the
resources and elements MatNeo maps (Bundle, Patient, Encounter, Observation, Procedure,
Condition, Organization, Location and the data types they use) and vouches for a Bundle only
when every element it knows is certainly valid FHIR R4 (type, pattern, required elements, one
choice of ``value[x]``). A resource with elements it does not know (``meta``, ``name``…) is
validated on its own by the fhir.resources R4B model of its type. Anything it cannot vouch for —
a wrong type, a missing required element, an unknown resource type that fails its model, JSON
that is not a Bundle — is read exactly as before: the whole Bundle through
``Bundle.model_validate_json``, so a bad file is refused with the same words, and what the
library accepts is read into the same rows. ``strict=True`` always takes that path.

Both paths hand the walk below the same plain JSON-shaped resources (dicts and lists, with
decimals as :class:`~decimal.Decimal` and dates as :mod:`datetime` values, as the library
gives them). Then, per ``data/codes.json``:

* a **delivery** is an Encounter: its ``subject`` is the mother, its ``serviceProvider`` the
  trust (ODS code) and its first ``location`` the site (ODS site code), each given either as a
  logical reference (``identifier``) or as a reference to an Organization/Location in the Bundle;
* every other Patient is a **baby** — one birth-record row. Its delivery is the ``encounter``
  of the first Observation, Procedure or Condition about it;
* the baby's own fields come from the baby Patient and the resources whose ``subject`` is the
  baby; the mother's from the mother Patient and the resources about her *in that delivery's
  Encounter* (a Bundle may hold several pregnancies of one mother).

Each cell keeps the text it had (as a CSV cell would), and *where* it came from —
``Observation/ob-1 valueQuantity.value (Bundle.entry[12])`` — so that every rejection names
the resource and the element. Rows are numbered by the baby Patient's place in the Bundle
(``entry[0]`` is row 1). The first matching resource wins when a Bundle holds two for one
field. Times: a ``dateTime`` written with the offset Europe/London has at that wall-clock time
is taken as written (that is how local times go out); any other offset is converted to
Europe/London local time, as the birth record keeps local times (docs/birth-record.md).
"""

from __future__ import annotations

import datetime as dt
import gc
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import polars as pl

from matneo.fhir.codes import LONDON_TZ, Coding, Item, mapping
from matneo.fhir.fastcheck import NotVouched, fast_entries
from matneo.records.parse import Parsed, convert
from matneo.records.schema import FIELD_NAMES

if TYPE_CHECKING:
    from fhir.resources.R4B.bundle import Bundle

BUNDLE_TYPES = ("transaction", "collection", "batch")
LONDON = ZoneInfo(LONDON_TZ)


class NotABundle(ValueError):
    """The file is not a FHIR Bundle MatNeo can read. The message never quotes the file."""


Resource = dict[str, Any]  # a resource as plain JSON-shaped values (see the module docstring)


class _Entry:
    """One entry's resource, with what the walk asks of it again and again worked out once."""

    __slots__ = ("_codes", "full_url", "index", "key", "resource", "tail", "type")

    def __init__(self, index: int, resource: Resource, full_url: str | None = None) -> None:
        self.index = index
        self.resource = resource
        self.full_url = full_url
        self.type = str(resource["resourceType"])
        # ``Type/id``; a resource without an id (a transaction's new resource) by its fullUrl
        if resource.get("id") is None and full_url:
            self.key = f"{self.type} {full_url}"
        else:
            self.key = f"{self.type}/{resource.get('id')}"
        self.tail = f" (Bundle.entry[{index}])"
        self._codes: frozenset[tuple[str, str]] | None = None

    @property
    def codes(self) -> frozenset[tuple[str, str]]:
        """(system, code) of each coding of the resource's ``code``."""
        if self._codes is None:
            concept = self.resource.get("code")
            codings = (concept.get("coding") or ()) if concept is not None else ()
            self._codes = frozenset((c.get("system") or "", c.get("code") or "") for c in codings)
        return self._codes

    def where(self, element: str) -> str:
        return self.key + " " + element + self.tail


def _refuse_type(kind: Any) -> None:
    if kind not in BUNDLE_TYPES:
        raise NotABundle(f"is a Bundle of type {kind!r}; expected one of {', '.join(BUNDLE_TYPES)}")


def parse_bundle(data: bytes | str) -> Bundle:
    """The Bundle, validated by fhir.resources; :class:`NotABundle` in fixed words otherwise."""
    from fhir.resources.R4B.bundle import Bundle  # only the exact path pays for the models
    from pydantic import ValidationError

    try:
        bundle = Bundle.model_validate_json(data)
    except ValidationError as error:
        problems = sorted({".".join(_element_name(p) for p in e["loc"][:3]) for e in error.errors()})[:3]
        raise NotABundle("is not a valid FHIR R4 Bundle (first problems at: " + ", ".join(problems) + ")") from None
    except ValueError:
        raise NotABundle("is not a FHIR Bundle in JSON") from None
    except KeyError as error:  # fhir.resources looks a resource's model up by its type's name
        name = str(error.args[0]).removeprefix("R4.").removesuffix("Type") if error.args else ""
        raise NotABundle(
            f"is not a valid FHIR R4 Bundle (an entry's resourceType {name!r} is not a FHIR R4 resource type)"
        ) from None
    except TypeError:  # e.g. a resource that is not an object
        raise NotABundle("is not a valid FHIR R4 Bundle (an entry's resource is not a FHIR resource)") from None
    _refuse_type(bundle.type)
    return bundle


def _element_name(part: Any) -> str:
    """A place in the Bundle as FHIR names it: fhir.resources names two kinds of field in Python's
    way (``resource_type`` for ``resourceType``; ``class_fhir`` for ``class``, a Python keyword),
    and those reached the pages and the audit log as words nobody had written (issue 10)."""
    text = str(part)
    return "resourceType" if text == "resource_type" else text.removesuffix("_fhir")


def _plain(value: Any) -> Any:
    """A validated fhir.resources model as the fast path's plain values: JSON names (aliases)
    for keys, unset elements left out, primitives as the model holds them."""
    fields = getattr(type(value), "model_fields", None)
    if fields is not None:
        out = {"resourceType": value.get_resource_type()} if value.has_resource_base() else {}
        for name, info in fields.items():
            element = getattr(value, name)
            if element is not None and name != "resource_type":
                out[info.alias or name] = _plain(element)
        return out
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def model_entries(bundle: Bundle) -> list[_Entry]:
    """The entries of a Bundle read by the library (the exact path), as plain resources."""
    return [
        _Entry(i, _plain(entry.resource), str(entry.fullUrl) if entry.fullUrl else None)
        for i, entry in enumerate(bundle.entry or ())
        if entry.resource is not None
    ]


def read_entries(data: bytes | str, strict: bool = False) -> list[_Entry]:
    """The Bundle's entries that hold a resource: by the fast path when it can vouch for the
    whole file, else by the library (``strict`` always); :class:`NotABundle` for what is none."""
    if not strict:
        try:
            kind, entries = fast_entries(data)
        except NotVouched:
            pass
        else:
            _refuse_type(kind)
            return [_Entry(i, resource, full_url) for i, resource, full_url in entries]
    return model_entries(parse_bundle(data))


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
    text = reference.get("reference") if reference else None
    if not text:
        return None
    if text in index:
        return index[text]
    parts = text.rstrip("/").split("/")
    return index.get("/".join(parts[-2:])) if len(parts) >= 2 else None


def _identifier(identifiers: Iterable[Any] | None, system: str) -> str | None:
    for identifier in identifiers or ():
        if identifier.get("system") == system and identifier.get("value") is not None:
            return str(identifier["value"])
    return None


def _codings(concept: Any) -> list[Coding]:
    if concept is None:
        return []
    return [
        Coding(c.get("system") or "", c.get("code") or "", c.get("display") or "") for c in concept.get("coding") or ()
    ]


def _firsts(pool: list[_Entry]) -> dict[tuple[str, str, str], _Entry]:
    """(resource type, system, code) → the first resource of the pool with that coding."""
    firsts: dict[tuple[str, str, str], _Entry] = {}
    for entry in pool:
        for system, code in entry.codes:
            firsts.setdefault((entry.type, system, code), entry)
    return firsts


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
    """Walks one Bundle's entries; see the module docstring."""

    def __init__(self, entries: list[_Entry]) -> None:
        self.map = mapping()
        self.elements = {item.field: item.element for item in self.map.items}
        self.entries = entries
        self.index: dict[str, _Entry] = {}
        for item in entries:
            if item.resource.get("id"):
                self.index[item.key] = item
            if item.full_url:
                self.index[item.full_url] = item
        self.by_type: dict[str, list[_Entry]] = {}
        for item in self.entries:
            self.by_type.setdefault(item.type, []).append(item)
        self.about: dict[int, list[_Entry]] = {}  # entry index of a Patient → resources about them
        for kind in ("Observation", "Procedure", "Condition"):
            for item in self.by_type.get(kind, []):
                subject = _ref_key(item.resource.get("subject"), self.index)
                if subject is not None:
                    self.about.setdefault(subject.index, []).append(item)
        # each resource about a Patient → the Encounter it names (None: none in the Bundle)
        self.encounter_of: dict[int, _Entry | None] = {
            item.index: _ref_key(item.resource.get("encounter"), self.index)
            for items in self.about.values()
            for item in items
        }
        self.gender = {v: k for k, v in self.map.gender.items()}
        self.birth_time_url = self.map.extension_url("birth_time")
        self.pools: dict[tuple[int, int], tuple[list[_Entry], dict[tuple[str, str, str], _Entry]]] = {}
        self.mothers: set[int] = set()
        for encounter in self.by_type.get("Encounter", []):
            subject = _ref_key(encounter.resource.get("subject"), self.index)
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

        put("record_id", _identifier(b.get("identifier"), m.identifier_system("record_id")), baby.where("identifier"))
        birth_time = None
        for extension in (b.get("_birthDate") or {}).get("extension") or ():
            if extension.get("url") == self.birth_time_url:
                birth_time = extension.get("valueDateTime")
        put(
            "birth_datetime",
            local_text(birth_time if birth_time is not None else b.get("birthDate")),
            baby.where("birthDate"),
        )
        sex = b.get("gender")
        put("sex", self.gender.get(sex, sex) if sex else None, baby.where("gender"))
        order = (
            b.get("multipleBirthInteger")
            if b.get("multipleBirthInteger") is not None
            else (1 if b.get("multipleBirthBoolean") is False else None)
        )
        put("birth_order", None if order is None else str(order), baby.where("multipleBirthInteger"))
        about = self.about.get(baby.index, [])
        encounter = next((e for e in (self.encounter_of[a.index] for a in about) if e), None)
        mother = _ref_key(encounter.resource.get("subject"), self.index) if encounter else None
        self._delivery(encounter, mother, put)
        pools = {"baby": (about, _firsts(about)), "mother": self._mother_pool(mother, encounter)}
        for item in m.items:
            pool, firsts = pools[item.subject]
            self._item(item, pool, firsts, put, baby if item.subject == "baby" else mother)
        if row["outcome"] == "live_birth":
            put("neonatal_death_datetime", local_text(b.get("deceasedDateTime")), baby.where("deceasedDateTime"))
        self._mother(mother, row, put)
        return row, found

    def _mother_pool(
        self, mother: _Entry | None, encounter: _Entry | None
    ) -> tuple[list[_Entry], dict[tuple[str, str, str], _Entry]]:
        """The resources about the mother in this delivery's Encounter (shared by twins)."""
        if mother is None or encounter is None:
            return [], {}
        key = (mother.index, encounter.index)
        if key not in self.pools:
            pool = [a for a in self.about.get(mother.index, []) if self.encounter_of[a.index] is encounter]
            self.pools[key] = (pool, _firsts(pool))
        return self.pools[key]

    def _delivery(self, encounter: _Entry | None, mother: _Entry | None, put: Any) -> None:
        m = self.map
        if encounter is None:
            put("trust_code", None, "no Encounter referenced by the baby's Observations, Procedures or Conditions")
            put("mother_id", None, "no Encounter referenced by the baby's Observations, Procedures or Conditions")
            return
        e = encounter.resource
        trust = self._org_code(e.get("serviceProvider"), "Organization", m.identifier_system("trust_code"))
        put("trust_code", trust, encounter.where("serviceProvider.identifier"))
        locations = e.get("location")
        location = locations[0].get("location") if locations else None
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
        identifier = reference.get("identifier")
        if identifier is not None and identifier.get("system") == system:
            return identifier.get("value")
        target = _ref_key(reference, self.index)
        if target is not None and target.type == kind:
            return _identifier(target.resource.get("identifier"), system)
        return None

    def _mother(self, mother: _Entry | None, row: dict[str, str | None], put: Any) -> None:
        if mother is None:
            return
        m = self.map
        p = mother.resource
        put("mother_id", _identifier(p.get("identifier"), m.identifier_system("mother_id")), mother.where("identifier"))
        put("maternal_death_datetime", local_text(p.get("deceasedDateTime")), mother.where("deceasedDateTime"))
        birth = row["birth_datetime"]
        born_on = p.get("birthDate")
        if born_on is not None and birth and isinstance(born_on, dt.date):
            try:
                born = dt.date.fromisoformat(birth[:10])
            except ValueError:
                born = None
            if born is not None:
                age = born.year - born_on.year - ((born.month, born.day) < (born_on.month, born_on.day))
                put("maternal_age", str(age), mother.where("birthDate"))
        for extension in p.get("extension") or ():
            if extension.get("url") == m.extension_url("ethnic_category"):
                codings = _codings(extension.get("valueCodeableConcept"))
                value = next((c.code for c in codings if c.system == m.ethnic_system), None)
                if value is None and codings:
                    value = f"{codings[0].system}|{codings[0].code}"
                put("ethnic_category", value, mother.where("extension(UKCore-EthnicCategory)"))
            elif extension.get("url") == m.extension_url("imd_decile"):
                put("imd_decile", _number_text(extension.get("valueInteger")), mother.where("extension(imd-decile)"))

    def _item(
        self, item: Item, pool: list[_Entry], firsts: dict[tuple[str, str, str], _Entry], put: Any, owner: _Entry | None
    ) -> None:
        """The first resource of the pool (in Bundle order) that carries this item."""
        names = [item.field] + ([item.also] if item.also else [])
        if item.value == "procedure_code":
            wanted = {(v.system, v.code) for v in item.values.values()}
            for entry in pool:
                if entry.type == item.resource and not entry.codes.isdisjoint(wanted):
                    put(item.field, _value_of(_codings(entry.resource.get("code")), item.values), entry.where("code"))
                    return
        elif item.code is not None:
            found = firsts.get((item.resource, item.code.system, item.code.code))
            if found is not None:
                where = found.where(self.elements[item.field])
                for name, value in zip(names, self._value(item, found.resource), strict=True):
                    put(name, value, where)
                return
        absent = (
            f"no {item.resource} with code {item.code.system}|{item.code.code}"
            if item.code
            else (f"no {item.resource} with a code of this field")
        )
        for name in names:
            put(name, None, f"{absent} about {owner.key if owner else 'the mother'}")

    def _value(self, item: Item, r: Resource) -> list[str | None]:
        kind = item.value
        if kind == "presence":
            if item.resource == "Condition":
                status = _codings(r.get("verificationStatus"))
                refuted = any(c.code == "refuted" for c in status)
                return ["false" if refuted else "true"]
            state = r.get("status")
            return ["false" if state == "not-done" else "true" if state == "completed" else state]
        if kind == "boolean":
            flag = r.get("valueBoolean")
            return [None if flag is None else str(flag).lower()]
        if kind == "integer":
            if r.get("valueInteger") is not None:
                return [str(r["valueInteger"])]
            quantity = r.get("valueQuantity")
            return [_number_text(quantity.get("value")) if quantity is not None else None]
        if kind in ("concept", "boolean_concept"):
            return [_value_of(_codings(r.get("valueCodeableConcept")), item.values)]
        quantity = r.get("valueQuantity")
        if quantity is None or quantity.get("value") is None:
            return [None] * (2 if item.also else 1)
        value = quantity["value"]
        wanted = (item.unit or {}).get("code")
        if wanted and quantity.get("code") != wanted:
            written = f"{value} {quantity.get('code') or quantity.get('unit') or ''}".strip()
            return [written] * (2 if item.also else 1)
        if kind == "gestation":
            days = float(value)
            if not days.is_integer():
                return [str(value)] * 2
            return [str(int(days) // 7), str(int(days) % 7)]
        return [_number_text(value)]


def entries_rows(entries: list[_Entry]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(rows as text, one column per field plus ``_row``; where each cell came from)."""
    rows, where = _Reader(entries).rows()
    schema = {"_row": pl.String, **dict.fromkeys(FIELD_NAMES, pl.String)}
    columns = {name: [row[name] for row in rows] for name in schema}  # by column: far quicker than by row
    frame = pl.DataFrame(columns, schema=schema).with_columns(pl.col("_row").cast(pl.Int64))
    numbers, fields, places = (list(column) for column in zip(*where, strict=True)) if where else ([], [], [])
    sources = pl.DataFrame(
        {"_row": numbers, "field": fields, "where": places},
        schema={"_row": pl.Int64, "field": pl.String, "where": pl.String},
    )
    return frame, sources


def bundle_rows(bundle: Bundle) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The rows of a Bundle already read by the library (see :func:`entries_rows`)."""
    return entries_rows(model_entries(bundle))


def read_fhir(path: Path, header: list[str] | None = None, strict: bool = False) -> Parsed:
    """Read a FHIR Bundle file into the loader's :class:`Parsed` (``header`` is unused);
    ``strict`` validates every resource with the library even where the fast path could vouch."""
    collecting = gc.isenabled()
    gc.disable()  # a Bundle is ~100,000 small dicts and lists, none in a cycle: no collections meanwhile
    try:
        # A byte order mark (Windows tools write one; JSON, RFC 8259 §8.1, has none) is not content.
        data = path.read_bytes().removeprefix(b"\xef\xbb\xbf")
        frame, sources = entries_rows(read_entries(data, strict=strict))
    finally:
        if collecting:
            gc.enable()
    parsed = convert(frame)
    parsed.where = sources
    return parsed
