"""Generated files load through the real loader with no row rejected, in both formats."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from matneo.config import Settings
from matneo.records.load import load_files
from matneo.synth import Struggling, write_dataset

from .checks import AS_OF


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_loader_accepts_every_generated_row(sqlite_settings: Settings, hierarchy, tmp_path: Path, fmt: str) -> None:
    struggling = [Struggling(hierarchy.trusts()[2].code, dt.date(2020, 5, 1), 3.0)]
    paths = write_dataset(
        tmp_path / "synth", [2019, 2020], scale=0.03, fmt=fmt, hierarchy=hierarchy, struggling=struggling, as_of=AS_OF
    )
    result = load_files(paths, sqlite_settings, hierarchy=hierarchy, now=dt.datetime(2026, 1, 1))
    assert [f.status for f in result.files] == ["loaded", "loaded"]
    assert result.rows_rejected == 0, [f.top_reasons for f in result.files]
    assert result.rows_loaded == sum(f.rows_read for f in result.files) > 30_000
