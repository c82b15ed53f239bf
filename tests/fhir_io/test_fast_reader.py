"""The fast FHIR reader against today's (fhir.resources-validated) reader, kept in legacy_reader.py:
the same rows, the same sources and the same refusals, for good Bundles and for broken ones."""

from __future__ import annotations

import copy
import datetime as dt
import json
import random
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import legacy_reader
import pytest

from fhirbundles import bundle_of_csv
from matneo.fhir import inbound
from matneo.fhir.fastcheck import NotVouched, fast_entries
from matneo.synth import write_dataset


def _outcome(read: Callable[..., Any], path: Path) -> tuple[str, Any, Any]:
    try:
        parsed = read(path)
    except ValueError as error:  # NotABundle of either reader
        return ("refused", str(error), None)
    except Exception as error:  # today's reader: a KeyError for an unknown resource type
        return ("failed", type(error).__name__, str(error))
    return ("read", parsed.text.to_dicts(), parsed.where.to_dicts())


def _fhir_names(outcome: tuple[str, Any, Any]) -> tuple[str, Any, Any]:
    """Today's refusal with the places named as FHIR names them (``resourceType``, ``class``), as
    the readers now say them; nothing else in the words changes."""
    if outcome[0] != "refused":
        return outcome
    words = re.sub(r"\bresource_type\b", "resourceType", outcome[1])
    return (outcome[0], re.sub(r"\b(\w+)_fhir\b", r"\1", words), outcome[2])


def _same_as_today(path: Path) -> tuple[str, Any, Any]:
    """What both readers make of the file: what today's reader made of it, except that where it
    crashed (an unknown resource type: a KeyError inside fhir.resources) they refuse it in words."""
    today = _fhir_names(_outcome(legacy_reader.read_fhir, path))
    ours = _outcome(inbound.read_fhir, path)
    assert _outcome(lambda p: inbound.read_fhir(p, strict=True), path) == ours
    if today[0] == "failed":
        assert ours[0] == "refused" and "is not a valid FHIR R4 Bundle" in ours[1], (ours, today)
        return ours
    assert ours == today
    return today


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A small synthetic Bundle (two trusts' worth of births is more than needed: the first file)."""
    root = tmp_path_factory.mktemp("fast")
    (folder,) = write_dataset(root, [2023], fmt="fhir", scale=0.0005, seed=5, as_of=dt.date(2024, 12, 31))
    return json.loads(sorted(folder.glob("*.json"))[0].read_text())


def _write(tmp_path: Path, data: Any) -> Path:
    path = tmp_path / "b.json"
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return path


def _resource(bundle: dict[str, Any], kind: str, prefix: str = "") -> dict[str, Any]:
    return next(
        e["resource"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == kind and e["resource"]["id"].startswith(prefix)
    )


def test_synthetic_bundles_read_the_same_and_by_the_fast_path(bundle: dict[str, Any], tmp_path: Path) -> None:
    path = _write(tmp_path, bundle)
    kind, rows, _ = _same_as_today(path)
    assert kind == "read" and len(rows) > 0
    fast_entries(path.read_bytes())  # vouched for: no fall-back to the library


BROKEN: dict[str, Callable[[dict[str, Any]], None]] = {
    # wrong types
    "weight as text": lambda b: _resource(b, "Observation", "birth-weight").update(
        valueQuantity={"value": "heavy", "code": "g"}
    ),
    "apgar as a decimal": lambda b: _resource(b, "Observation", "apgar").update(valueInteger=7.5),
    "apgar as text": lambda b: _resource(b, "Observation", "apgar").update(valueInteger="7"),
    "boolean as text": lambda b: _resource(b, "Observation", "nnu").update(valueBoolean="yes"),
    "gender as a number": lambda b: _resource(b, "Patient", "b-").update(gender=1),
    "impossible date": lambda b: _resource(b, "Patient", "b-").update(birthDate="2023-02-30"),
    "time without offset": lambda b: _resource(b, "Patient", "b-")["_birthDate"]["extension"][0].update(
        valueDateTime="2023-05-01T10:00:00"
    ),
    "bad id": lambda b: _resource(b, "Patient", "b-").update(id="b 1"),
    "null in a list": lambda b: _resource(b, "Patient", "b-").update(identifier=[None]),
    "coding not a list": lambda b: _resource(b, "Observation", "apgar")["code"].update(coding={"code": "x"}),
    "two values": lambda b: _resource(b, "Observation", "apgar").update(valueBoolean=True),
    "unknown element": lambda b: _resource(b, "Observation", "apgar").update(colour="blue"),
    # missing required elements
    "observation without status": lambda b: _resource(b, "Observation", "apgar").pop("status"),
    "observation without code": lambda b: _resource(b, "Observation", "apgar").pop("code"),
    "encounter without class": lambda b: _resource(b, "Encounter").pop("class"),
    "procedure without subject": lambda b: _resource(b, "Procedure").pop("subject"),
    "bundle without type": lambda b: b.pop("type"),
    "extension without url": lambda b: _resource(b, "Patient", "b-")["_birthDate"]["extension"][0].pop("url"),
    # unknown codes: read, then refused row by row by the loader's rules
    "unknown observation code": lambda b: _resource(b, "Observation", "apgar")["code"]["coding"][0].update(
        code="0000-0"
    ),
    "unknown outcome value": lambda b: _resource(b, "Observation", "outcome")["valueCodeableConcept"]["coding"][
        0
    ].update(code="123"),
    "unknown delivery code": lambda b: _resource(b, "Procedure")["code"]["coding"][0].update(code="1"),
    "weight in kilograms": lambda b: _resource(b, "Observation", "birth-weight")["valueQuantity"].update(code="kg"),
    "unknown resource type": lambda b: b["entry"].append({"resource": {"resourceType": "Nonsense", "id": "x"}}),
    "searchset": lambda b: b.update(type="searchset"),
    # broken references
    "subject to nowhere": lambda b: _resource(b, "Observation", "apgar").update(subject={"reference": "Patient/none"}),
    "encounter to nowhere": lambda b: [
        r.update(encounter={"reference": "Encounter/none"})
        for r in (e["resource"] for e in b["entry"])
        if r["resourceType"] != "Patient" and "encounter" in r
    ],
    "mother to nowhere": lambda b: _resource(b, "Encounter").update(subject={"reference": "Patient/none"}),
    "reference as a number": lambda b: _resource(b, "Observation", "apgar").update(subject={"reference": 5}),
    # well-formed elements the fast path does not know: validated by the library, read the same
    "meta and name": lambda b: _resource(b, "Patient", "m-").update(
        meta={"lastUpdated": "2024-01-01T00:00:00Z"}, name=[{"family": "Smith"}]
    ),
    "another resource type": lambda b: b["entry"].append(
        {"resource": {"resourceType": "Practitioner", "id": "pr-1", "name": [{"family": "Jones"}]}}
    ),
    "a site by Location reference": lambda b: (
        _resource(b, "Encounter").update(location=[{"location": {"reference": "Location/l1"}}]),
        b["entry"].append(
            {
                "resource": {
                    "resourceType": "Location",
                    "id": "l1",
                    "identifier": [{"system": "https://fhir.nhs.uk/Id/ods-site-code", "value": "X1"}],
                }
            }
        ),
    ),
    "meta on a weight": lambda b: _resource(b, "Observation", "birth-weight").update(meta={"versionId": "2"}),
    "bad meta on a weight": lambda b: _resource(b, "Observation", "birth-weight").update(meta={"versionId": 2}),
    "two codings": lambda b: _resource(b, "Observation", "apgar")["code"]["coding"].append(
        {"system": "http://snomed.info/sct", "code": "169909004"}
    ),
    "reference with display": lambda b: _resource(b, "Observation", "apgar")["subject"].update(display="Baby"),
    "blank reference": lambda b: _resource(b, "Observation", "apgar").update(subject={"reference": " "}),
    "bundle meta and timestamp": lambda b: b.update(
        meta={"lastUpdated": "2024-01-01T00:00:00Z"}, timestamp="2024-01-01T00:00:00Z"
    ),
    "bad bundle timestamp": lambda b: b.update(timestamp="yesterday"),
    "entry search": lambda b: b["entry"][0].update(search={"mode": "match"}),
    "bad entry search": lambda b: b["entry"][0].update(search={"mode": 1, "score": "high"}),
    "date-only times": lambda b: _resource(b, "Patient", "b-").update(deceasedDateTime="2023-06-01"),
    "decimal weight": lambda b: _resource(b, "Observation", "birth-weight")["valueQuantity"].update(value=3500.50),
}


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_broken_and_unusual_bundles_are_read_or_refused_as_today(
    name: str, bundle: dict[str, Any], tmp_path: Path
) -> None:
    data = copy.deepcopy(bundle)
    BROKEN[name](data)
    _same_as_today(_write(tmp_path, data))


@pytest.mark.parametrize(
    "content",
    ["not json at all", "[]", '{"resourceType": "Patient", "id": "p"}', "", '{"resourceType": "Bundle", "type": NaN}'],
)
def test_what_is_no_bundle_is_refused_in_todays_words(content: str, tmp_path: Path) -> None:
    assert _same_as_today(_write(tmp_path, content))[0] == "refused"
    with pytest.raises(NotVouched):
        fast_entries(content)


ODD_VALUES: list[Any] = [
    None, "", " ", "x", "a  b", 0, -1, 2**31, 1.5, 1e300, True, False, [], [None], {}, {"x": 1},
    "2023-13-01", "2023-01-01", "2023-01-01T10:00:00+01:00", "2023-01-01T10:00:00.123Z", "urn:uuid:1 2",
]  # fmt: skip


def _leaves(value: Any, trail: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(value, dict):
        return [t for key, v in value.items() for t in [(*trail, key), *_leaves(v, (*trail, key))]]
    if isinstance(value, list):
        return [t for i, v in enumerate(value) for t in [(*trail, i), *_leaves(v, (*trail, i))]]
    return []


def test_random_damage_is_read_or_refused_as_today(
    bundle: dict[str, Any], tmp_path: Path, make_row: Callable[..., dict[str, str]], write_csv: Callable[..., Path]
) -> None:
    """Many small Bundles, each with one element replaced by an odd value or removed."""
    small = json.loads(bundle_of_csv(write_csv(tmp_path / "r.csv", [make_row(), make_row()])))
    places = _leaves(small)
    chance = random.Random(15)
    for _ in range(200):
        data = copy.deepcopy(small)
        *parent, last = chance.choice(places)
        holder = data
        for step in parent:
            holder = holder[step]
        if chance.random() < 0.2:
            del holder[last]
        else:
            holder[last] = copy.deepcopy(chance.choice(ODD_VALUES))
        _same_as_today(_write(tmp_path, data))


def test_a_well_formed_bundle_is_read_without_validating_it_whole(
    bundle: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The speed: the library's Bundle model is not asked about a Bundle the fast path vouches for
    (nor about one whose unknown elements are fine: only that resource's own model is)."""
    data = copy.deepcopy(bundle)
    _resource(data, "Patient", "m-").update(meta={"versionId": "1"})
    path = _write(tmp_path, data)

    def refuse(_: Any) -> None:
        raise AssertionError("the whole Bundle was validated by fhir.resources")

    monkeypatch.setattr(inbound, "parse_bundle", refuse)
    assert inbound.read_fhir(path).typed.height > 0


VOUCHED = [
    "meta and name",
    "another resource type",
    "bundle meta and timestamp",
    "entry search",
    "meta on a weight",
    "a site by Location reference",
    "date-only times",
    "decimal weight",
    "reference with display",
    "two codings",
    "unknown observation code",
    "subject to nowhere",
]


@pytest.mark.parametrize("name", VOUCHED)
def test_well_formed_extras_stay_on_the_fast_path(name: str, bundle: dict[str, Any]) -> None:
    """Well-formed elements the fast path does not know cost a model check of their resource,
    not a read of the whole Bundle by the library."""
    data = copy.deepcopy(bundle)
    BROKEN[name](data)
    fast_entries(json.dumps(data))


def test_an_unknown_resource_type_is_refused_in_words(bundle: dict[str, Any], tmp_path: Path) -> None:
    """Today's reader crashed (KeyError inside fhir.resources) on a resource type FHIR R4 does not
    have; the file is now refused, naming the type, as any other broken Bundle is."""
    broken = copy.deepcopy(bundle)
    broken["entry"].append({"resource": {"resourceType": "Nonsense", "id": "x"}})
    path = tmp_path / "b.json"
    path.write_text(json.dumps(broken))
    for strict in (False, True):
        with pytest.raises(inbound.NotABundle, match="resourceType 'Nonsense' is not a FHIR R4 resource type"):
            inbound.read_fhir(path, strict=strict)


def test_a_bundle_saved_with_a_byte_order_mark_is_read(bundle: dict[str, Any], tmp_path: Path) -> None:
    """Windows tools save UTF-8 with a byte order mark; it was refused as "not a valid FHIR R4
    Bundle (first problems at: .)"."""
    plain, marked = tmp_path / "plain.json", tmp_path / "marked.json"
    plain.write_text(json.dumps(bundle))
    marked.write_bytes(b"\xef\xbb\xbf" + plain.read_bytes())
    for strict in (False, True):
        assert inbound.read_fhir(marked, strict=strict).text.equals(inbound.read_fhir(plain, strict=strict).text)


def test_a_resource_that_is_no_bundle_is_refused_in_fhirs_names(tmp_path: Path) -> None:
    """The library's Python field name reached the Data page and the audit log ("first problems at:
    resource_type"); FHIR calls it resourceType."""
    path = tmp_path / "patient.json"
    path.write_text('{"resourceType": "Patient", "id": "p"}')
    with pytest.raises(inbound.NotABundle, match=r"first problems at: resourceType\)"):
        inbound.read_fhir(path)
