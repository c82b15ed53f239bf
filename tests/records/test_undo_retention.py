"""Undo retention: old loads' undo files are removed after a load, newest kept, and a revert of a
pruned load says plainly that it can no longer be undone (docs/architecture.md, "Undo retention")."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest

from matneo.config import Settings, get_settings
from matneo.records.load import load_files
from matneo.records.revert import RevertRefused, revert_load
from matneo.records.store import RecordStore, undo_to_prune

NOW = dt.datetime(2026, 12, 3, 12, 0)


def _ago(days: float) -> dt.datetime:
    return NOW - dt.timedelta(days=days)


def test_the_last_n_loads_keep_their_undo_files() -> None:
    loads = [(f"b{i}", _ago(400 - i)) for i in range(5)]
    assert undo_to_prune(loads, keep_loads=2, keep_days=0, now=NOW) == ["b0", "b1", "b2"]
    assert undo_to_prune(loads, keep_loads=5, keep_days=0, now=NOW) == []
    assert undo_to_prune(loads, keep_loads=9, keep_days=0, now=NOW) == []
    assert undo_to_prune([], keep_loads=0, keep_days=0, now=NOW) == []


def test_loads_of_the_last_days_are_kept_whatever_their_number() -> None:
    loads = [("old", _ago(100)), ("edge", _ago(92)), ("recent", _ago(10)), ("new", _ago(1))]
    assert undo_to_prune(loads, keep_loads=1, keep_days=92, now=NOW) == ["old"], "92 days ago to the minute is kept"
    assert undo_to_prune(loads, keep_loads=1, keep_days=30, now=NOW) == ["old", "edge"]


def test_only_the_oldest_are_pruned_never_one_between_kept_loads() -> None:
    """An unfinished (or clock-skewed recent) load keeps itself and everything after it, so a revert
    newest first never meets a gap."""
    loads = [("a", _ago(300)), ("b", None), ("c", _ago(200)), ("d", _ago(1))]
    assert undo_to_prune(loads, keep_loads=1, keep_days=7, now=NOW) == ["a"]
    skewed = [("a", _ago(300)), ("b", _ago(2)), ("c", _ago(200)), ("d", _ago(1))]
    assert undo_to_prune(skewed, keep_loads=1, keep_days=7, now=NOW) == ["a"]


def _month(make_row, month: str, prefix: str, n: int = 3) -> list[dict[str, str]]:
    return [make_row(record_id=f"{prefix}{i}", birth_datetime=f"2024-{month}-10 09:00:00") for i in range(n)]


def test_a_pruned_load_says_it_can_no_longer_be_undone(settings: Settings, make_row, write_csv, tmp_path: Path) -> None:
    """Keep one load only: after the second load the first's undo file goes, and its revert is refused
    in plain words with nothing changed; the kept load still reverts."""
    tight = dataclasses.replace(settings, undo_keep_loads=1, undo_keep_days=0)
    store = RecordStore(tight.records_dir)
    first = load_files([write_csv(tmp_path / "oct.csv", _month(make_row, "10", "O"))], tight).ledger_ids[0]
    october = load_files([write_csv(tmp_path / "oct2.csv", _month(make_row, "10", "P", 2))], tight, allow_shrink=True)
    second = october.ledger_ids[0]
    third = load_files([write_csv(tmp_path / "nov.csv", _month(make_row, "11", "N"))], tight).ledger_ids[0]
    kept = sorted(p.name for p in store.undo_dir.glob("*.parquet"))
    notes = sorted(p.name for p in store.undo_dir.glob("*.pruned.json"))
    assert len(kept) == 1 and len(notes) == 2, (kept, notes)
    version = store.current_version()
    with pytest.raises(RevertRefused, match=f"Load {first} can no longer be undone: its undo copy was removed") as no:
        revert_load(tight, first)
    assert no.value.reason == "not_revertable" and "the last 1 loads" in str(no.value)
    assert store.current_version() == version, "a refused revert changes nothing"
    revert_load(tight, third)  # the newest keeps its undo file
    with pytest.raises(RevertRefused, match=f"Load {second} can no longer be undone"):
        revert_load(tight, second)


def test_the_default_retention_keeps_every_recent_load(settings: Settings, make_row, write_csv, tmp_path) -> None:
    assert (settings.undo_keep_loads, settings.undo_keep_days) == (30, 92)
    for n, month in enumerate(("09", "10", "11")):
        load_files([write_csv(tmp_path / f"{n}.csv", _month(make_row, month, f"M{n}"))], settings)
    store = RecordStore(settings.records_dir)
    assert len(list(store.undo_dir.glob("*.parquet"))) == 3 and not list(store.undo_dir.glob("*.pruned.json"))


def test_retention_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MATNEO_UNDO_KEEP_LOADS", "5")
    monkeypatch.setenv("MATNEO_UNDO_KEEP_DAYS", "0")
    found = get_settings(tmp_path)
    assert (found.undo_keep_loads, found.undo_keep_days) == (5, 0)
    monkeypatch.setenv("MATNEO_UNDO_KEEP_DAYS", "a week")
    with pytest.raises(ValueError, match="MATNEO_UNDO_KEEP_DAYS must be a whole number"):
        get_settings(tmp_path)
