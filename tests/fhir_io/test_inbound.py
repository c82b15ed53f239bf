"""FHIR Bundles in: each field from its resource and element, rejections that name them, bad files refused."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest

from fhirbundles import bundle_of_csv
from matneo.config import Settings
from matneo.fhir.inbound import local_text
from matneo.fhir.reference_doc import render
from matneo.records.load import OutsideScope, UnreadableInput, load_files
from matneo.records.store import RecordStore

ROOT = Path(__file__).resolve().parents[2]


def _bundle(path: Path, rows: list[dict[str, str]], write_csv: Callable[..., Path]) -> Path:
    text = bundle_of_csv(write_csv(path.with_suffix(".csv"), rows))
    path.write_text(text, encoding="utf-8")
    return path


def test_rejections_name_the_resource_and_element(
    settings: Settings, make_row: Callable[..., dict[str, str]], write_csv: Callable[..., Path], tmp_path: Path
) -> None:
    rows = [make_row(), make_row(gestation_weeks="61"), make_row(apgar_5min="12")]
    result = load_files([_bundle(tmp_path / "b.json", rows, write_csv)], settings, input_format="fhir")
    (item,) = result.files
    assert (item.rows_loaded, item.rows_rejected) == (1, 2)
    assert item.rejection_file is not None
    report = pl.read_csv(item.rejection_file, infer_schema=False)
    fields = dict(zip(report["rule"], report["field"], strict=True))
    assert fields["gestation_weeks_range"].startswith("gestation_weeks (Observation/gestation-weeks-")
    assert "valueQuantity.value (Bundle.entry[" in fields["gestation_weeks_range"]
    assert fields["apgar_5min_range"].startswith("apgar_5min (Observation/apgar-5min-")
    assert "valueInteger" in fields["apgar_5min_range"]
    assert set(report["source_file"]) == {"b.json"}


def test_a_missing_required_observation_names_what_was_looked_for(
    settings: Settings, make_row: Callable[..., dict[str, str]], write_csv: Callable[..., Path], tmp_path: Path
) -> None:
    path = _bundle(tmp_path / "b.json", [make_row()], write_csv)
    bundle = json.loads(path.read_text())
    bundle["entry"] = [e for e in bundle["entry"] if not e["resource"]["id"].startswith("gestation-weeks-")]
    path.write_text(json.dumps(bundle))
    result = load_files([path], settings, input_format="fhir")
    report = pl.read_csv(result.files[0].rejection_file, infer_schema=False)
    assert (
        "no Observation with code http://loinc.org|76516-4"
        in report.filter(pl.col("rule") == "gestation_weeks_required")["field"][0]
    )


def test_a_bundle_of_another_trust_is_refused_whole(
    settings: Settings, make_row: Callable[..., dict[str, str]], write_csv: Callable[..., Path], tmp_path: Path
) -> None:
    row = make_row()
    path = _bundle(tmp_path / "b.json", [row], write_csv)
    with pytest.raises(OutsideScope):
        load_files([path], settings, scope={"NOPE"}, actor="x@test.invalid", input_format="fhir")
    assert RecordStore(settings.records_dir).current_version() is None


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ('{"resourceType": "Patient", "id": "p"}', "not a valid FHIR R4 Bundle"),
        ('{"resourceType": "Bundle", "type": "searchset"}', "Bundle of type 'searchset'"),
        ("not json at all", "not a valid FHIR R4 Bundle"),
    ],
)
def test_what_is_not_a_bundle_is_unreadable(
    sqlite_settings: Settings, tmp_path: Path, content: str, words: str
) -> None:
    path = tmp_path / "x.json"
    path.write_text(content)
    with pytest.raises(UnreadableInput) as refused:
        load_files([path], sqlite_settings, input_format="fhir")
    assert words in str(refused.value)


def test_times_are_kept_as_local_london_times() -> None:
    assert local_text("2024-07-01T10:00:00+01:00") == "2024-07-01 10:00:00"  # written with London's offset
    assert local_text("2024-07-01T09:00:00Z") == "2024-07-01 10:00:00"  # UTC: converted
    assert local_text("2024-03-31T01:30:00+00:00") == "2024-03-31 01:30:00"  # a clock-change gap: as written
    assert local_text("2024-01-05") == "2024-01-05 00:00:00"


def test_fhir_reference_doc_is_current() -> None:
    committed = (ROOT / "docs" / "fhir.md").read_text(encoding="utf-8")
    assert committed == render(), "regenerate: python -m matneo.fhir.reference_doc > docs/fhir.md"


def test_a_transaction_bundle_with_urn_uuid_references_loads(
    sqlite_settings: Settings, make_row: Callable[..., dict[str, str]], write_csv: Callable[..., Path], tmp_path: Path
) -> None:
    """How a system POSTs new resources: no ids, fullUrl urn:uuid:…, references to those."""
    import uuid

    path = _bundle(tmp_path / "b.json", [make_row(), make_row()], write_csv)
    bundle = json.loads(path.read_text())
    urns = {
        f"{e['resource']['resourceType']}/{e['resource']['id']}": f"urn:uuid:{uuid.uuid4()}" for e in bundle["entry"]
    }
    text = json.dumps(bundle)
    for key, urn in urns.items():
        text = text.replace(f'"reference": "{key}"', f'"reference": "{urn}"')
    bundle = json.loads(text)
    bundle["type"] = "transaction"
    for entry in bundle["entry"]:
        resource = entry["resource"]
        entry["fullUrl"] = urns[f"{resource['resourceType']}/{resource.pop('id')}"]
        entry["request"] = {"method": "POST", "url": resource["resourceType"]}
    path.write_text(json.dumps(bundle))
    result = load_files([path], sqlite_settings, input_format="fhir")
    assert (result.rows_loaded, result.rows_rejected) == (2, 0)
