"""The FHIR mapping as data: ``data/codes.json`` read once into typed specifications.

Why data: the codes (LOINC, SNOMED CT, UK Core extensions, MatNeo's own where no national
code was found) are what a deployment most needs to check and change with its maternity
system supplier, so they live in one reviewed file that both directions and the generated
docs/fhir.md read. Entries marked ``confirmed: false`` need local confirmation.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from functools import cache
from importlib import resources
from typing import Any

LONDON_TZ = "Europe/London"


@dataclass(frozen=True)
class Coding:
    system: str
    code: str
    display: str = ""

    def to_dict(self) -> dict[str, str]:
        return {"system": self.system, "code": self.code, "display": self.display}


@dataclass(frozen=True)
class Item:
    """One birth-record field carried by an Observation, Procedure or Condition.

    ``value`` says how: ``quantity`` (valueQuantity in ``unit``), ``integer`` (valueInteger),
    ``boolean`` (valueBoolean), ``concept`` (valueCodeableConcept, one coding per code in
    ``values``), ``boolean_concept`` (valueCodeableConcept for true and false),
    ``gestation`` (valueQuantity in days, split into weeks and days), ``procedure_code``
    (the Procedure's own code is the value) or ``presence`` (the resource exists: a
    Condition confirmed or refuted, a Procedure completed or not-done).
    """

    field: str
    resource: str
    subject: str  # baby | mother
    value: str
    source: str
    confirmed: bool
    code: Coding | None = None
    unit: dict[str, str] | None = None
    values: dict[str, Coding] = dataclass_field(default_factory=dict)
    also: str | None = None

    @property
    def element(self) -> str:
        """The element that holds the value, as the rejection report names it."""
        return {
            "quantity": "valueQuantity.value",
            "gestation": "valueQuantity.value",
            "integer": "valueInteger",
            "boolean": "valueBoolean",
            "concept": "valueCodeableConcept",
            "boolean_concept": "valueCodeableConcept",
            "procedure_code": "code",
            "presence": "verificationStatus" if self.resource == "Condition" else "status",
        }[self.value]


@dataclass(frozen=True)
class Mapping:
    """Everything ``codes.json`` says."""

    raw: dict[str, Any]
    items: tuple[Item, ...]

    @property
    def sources(self) -> dict[str, str]:
        return self.raw["sources"]

    def identifier_system(self, name: str) -> str:
        return self.raw["identifiers"][name]["system"]

    def extension_url(self, name: str) -> str:
        return self.raw["extensions"][name]["url"]

    @property
    def ethnic_system(self) -> str:
        return self.raw["extensions"]["ethnic_category"]["system"]

    @property
    def gender(self) -> dict[str, str]:
        return self.raw["gender"]

    @property
    def matneo_system(self) -> str:
        return self.raw["matneo_code_system"]


def _coding(data: dict[str, str] | None) -> Coding | None:
    return None if data is None else Coding(data["system"], data["code"], data.get("display", ""))


@cache
def mapping() -> Mapping:
    """The mapping shipped with MatNeo (``matneo/fhir/data/codes.json``)."""
    raw = json.loads(resources.files("matneo.fhir").joinpath("data/codes.json").read_text(encoding="utf-8"))
    items = tuple(
        Item(
            field=entry["field"],
            resource=entry["resource"],
            subject=entry["subject"],
            value=entry["value"],
            source=entry["source"],
            confirmed=entry["confirmed"],
            code=_coding(entry.get("code")),
            unit=entry.get("unit"),
            values={
                key: Coding(v["system"], v["code"], v.get("display", "")) for key, v in entry.get("values", {}).items()
            },
            also=entry.get("also"),
        )
        for entry in raw["items"]
    )
    return Mapping(raw, items)
