"""Test helper: the FHIR Bundle of the births in a birth-record CSV (as ``matneo synth --format fhir`` writes)."""

from __future__ import annotations

import csv
from pathlib import Path

from matneo.fhir.outbound import bundle_json
from matneo.records.parse import read_csv


def bundle_of_csv(path: Path) -> str:
    with open(path, encoding="utf-8", newline="") as handle:
        header = next(csv.reader(handle))
    typed = read_csv(path, header).typed.drop("_row")
    return bundle_json(typed.iter_rows(named=True))
