"""Builders for small birth-record files: one valid row, then change what a test is about."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

import pytest
from rowbuilder import valid_row

from matneo.records.schema import FIELD_NAMES
from matneo.reference.organisations import OrgHierarchy, load_hierarchy


@pytest.fixture(scope="session")
def hierarchy() -> OrgHierarchy:
    return load_hierarchy()


@pytest.fixture(scope="session")
def trusts(hierarchy: OrgHierarchy) -> list[tuple[str, str]]:
    """(trust_code, one of its site codes) for a few trusts of the packaged reference."""
    return [(t.code, hierarchy.sites_of(t.code)[0].code) for t in hierarchy.trusts()[:3]]


@pytest.fixture
def make_row(trusts: list[tuple[str, str]]) -> Callable[..., dict[str, str]]:
    """A valid term singleton live birth as CSV text; keyword arguments override fields."""
    counter = iter(range(1, 1_000_000))
    return lambda **changes: valid_row(trusts, next(counter), **changes)


def _write_csv(path: Path, rows: list[dict[str, str]], columns: list[str] | None = None) -> Path:
    columns = columns or list(FIELD_NAMES)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture
def write_csv() -> Callable[..., Path]:
    """Write rows (dicts of text) to a UTF-8 CSV with the birth-record header (or ``columns``)."""
    return _write_csv
