"""Birth records → FHIR Bundles: what ``matneo synth --format fhir`` writes.

The exact inverse of ``inbound.py`` under the same ``data/codes.json``, so that loading the
Bundles gives the very store the CSV of the same births gives (a test holds it). One Bundle
(type ``collection``) per file; per delivery — the babies of one trust, mother and day of
birth — one Encounter and one mother Patient; per baby a Patient and its Observations,
Procedures and Conditions. The mother's age goes out as a date of birth that gives exactly
that age at the birth (synthetic data has no real one). Every Bundle is validated by the
fhir.resources R4B models before it is written.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Iterator
from typing import Any
from zoneinfo import ZoneInfo

from fhir.resources.R4B.bundle import Bundle

from matneo.fhir.codes import LONDON_TZ, Item, mapping

LONDON = ZoneInfo(LONDON_TZ)
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
MOTHER_ITEMS_EXTRA = ("mother_id", "maternal_age", "ethnic_category", "imd_decile", "maternal_death_datetime")


def fhir_datetime(value: dt.datetime) -> str:
    """A local birth-record time as a FHIR dateTime, with Europe/London's offset at that time."""
    return value.replace(tzinfo=LONDON).isoformat()


def _mother_birth_date(birth: dt.date, age: int) -> str:
    """A date of birth that makes the mother exactly ``age`` completed years old on ``birth``."""
    try:
        return birth.replace(year=birth.year - age).isoformat()
    except ValueError:  # 29 February: the 28th keeps the same completed years
        return birth.replace(year=birth.year - age, day=28).isoformat()


def _ref(kind: str, ident: str) -> dict[str, str]:
    return {"reference": f"{kind}/{ident}"}


def _resource(item: Item, ident: str, subject: str, encounter: str, value: Any) -> dict[str, Any] | None:
    """The Observation, Procedure or Condition carrying ``value`` of ``item``; None for no value."""
    if value is None:
        return None
    base: dict[str, Any] = {"resourceType": item.resource, "id": ident, "subject": _ref("Patient", subject)}
    base["encounter"] = _ref("Encounter", encounter)
    if item.value == "procedure_code":
        return base | {"status": "completed", "code": {"coding": [item.values[value].to_dict()]}}
    assert item.code is not None
    code = {"coding": [item.code.to_dict()]}
    if item.value == "presence":
        if item.resource == "Condition":
            status = "confirmed" if value else "refuted"
            system = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
            return base | {"code": code, "verificationStatus": {"coding": [{"system": system, "code": status}]}}
        return base | {"code": code, "status": "completed" if value else "not-done"}
    observation = base | {"status": "final", "code": code}
    unit = item.unit or {}
    if item.value == "gestation":
        days = value[0] * 7 + value[1]
        return observation | {
            "valueQuantity": {"value": days, "unit": unit["unit"], "system": unit["system"], "code": unit["code"]}
        }
    if item.value == "quantity":
        return observation | {
            "valueQuantity": {"value": value, "unit": unit["unit"], "system": unit["system"], "code": unit["code"]}
        }
    if item.value == "integer":
        return observation | {"valueInteger": int(value)}
    if item.value == "boolean":
        return observation | {"valueBoolean": bool(value)}
    key = str(bool(value)).lower() if item.value == "boolean_concept" else value
    return observation | {"valueCodeableConcept": {"coding": [item.values[key].to_dict()]}}


def _quantity(value: Any, unit: dict[str, str]) -> dict[str, Any]:
    return {"value": value, "unit": unit["unit"], "system": unit["system"], "code": unit["code"]}


def _item_value(item: Item, row: dict[str, Any]) -> Any:
    if item.also:
        first, second = row[item.field], row[item.also]
        return None if first is None or second is None else (first, second)
    return row[item.field]


def delivery_resources(babies: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    """The resources of one delivery: mother, Encounter, and each baby with what is about it."""
    m = mapping()
    first = babies[0]
    mother_id, encounter_id = f"m-{key}", f"d-{key}"
    mother: dict[str, Any] = {
        "resourceType": "Patient",
        "id": mother_id,
        "identifier": [{"system": m.identifier_system("mother_id"), "value": first["mother_id"]}],
        "gender": "female",
    }
    if first["maternal_age"] is not None:
        mother["birthDate"] = _mother_birth_date(first["birth_datetime"].date(), first["maternal_age"])
    if first["maternal_death_datetime"] is not None:
        mother["deceasedDateTime"] = fhir_datetime(first["maternal_death_datetime"])
    extensions = []
    if first["ethnic_category"] is not None:
        concept = {"coding": [{"system": m.ethnic_system, "code": first["ethnic_category"]}]}
        extensions.append({"url": m.extension_url("ethnic_category"), "valueCodeableConcept": concept})
    if first["imd_decile"] is not None:
        extensions.append({"url": m.extension_url("imd_decile"), "valueInteger": first["imd_decile"]})
    if extensions:
        mother["extension"] = extensions
    encounter: dict[str, Any] = {
        "resourceType": "Encounter",
        "id": encounter_id,
        "status": "finished",
        "class": {
            "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
            "code": "IMP",
            "display": "inpatient encounter",
        },
        "subject": _ref("Patient", mother_id),
        "serviceProvider": {"identifier": {"system": m.identifier_system("trust_code"), "value": first["trust_code"]}},
    }
    if first["site_code"] is not None:
        site = {"identifier": {"system": m.identifier_system("site_code"), "value": first["site_code"]}}
        encounter["location"] = [{"location": site}]
    out = [mother, encounter]
    for item in m.items:
        if item.subject == "mother":
            resource = _resource(
                item, f"{item.field.replace('_', '-')}-{key}", mother_id, encounter_id, _item_value(item, first)
            )
            if resource is not None:
                out.append(resource)
    gender, time_url = m.gender, m.extension_url("birth_time")
    for n, row in enumerate(babies, start=1):
        baby_id = f"b-{key}-{n}"
        baby: dict[str, Any] = {
            "resourceType": "Patient",
            "id": baby_id,
            "identifier": [{"system": m.identifier_system("record_id"), "value": row["record_id"]}],
            "birthDate": row["birth_datetime"].date().isoformat(),
            "_birthDate": {"extension": [{"url": time_url, "valueDateTime": fhir_datetime(row["birth_datetime"])}]},
            "multipleBirthInteger": row["birth_order"],
        }
        if row["sex"] is not None:
            baby["gender"] = gender[row["sex"]]
        if row["outcome"] == "live_birth" and row["neonatal_death_datetime"] is not None:
            baby["deceasedDateTime"] = fhir_datetime(row["neonatal_death_datetime"])
        elif row["outcome"] in ("stillbirth", "late_fetal_loss"):
            baby["deceasedBoolean"] = True
        out.append(baby)
        for item in m.items:
            if item.subject == "baby":
                resource = _resource(
                    item, f"{item.field.replace('_', '-')}-{key}-{n}", baby_id, encounter_id, _item_value(item, row)
                )
                if resource is not None:
                    out.append(resource)
    return out


def deliveries(rows: Iterable[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    """Babies grouped into deliveries (same trust, mother and day of birth), in input order."""
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault((row["trust_code"], row["mother_id"], row["birth_datetime"].date()), []).append(row)
    yield from groups.values()


def bundle_json(rows: Iterable[dict[str, Any]]) -> str:
    """One ``collection`` Bundle of these birth records, validated, as JSON."""
    resources: list[dict[str, Any]] = []
    for n, babies in enumerate(deliveries(rows), start=1):
        resources.extend(delivery_resources(babies, str(n)))
    data = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"fullUrl": f"urn:matneo:{r['resourceType']}/{r['id']}", "resource": r} for r in resources],
    }
    bundle = Bundle.model_validate(data)  # refuses anything that is not valid R4(B)
    return json.dumps(json.loads(bundle.model_dump_json(exclude_none=True)), separators=(",", ":"))
