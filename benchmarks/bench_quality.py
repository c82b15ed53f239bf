"""Data quality: the quality cube against the measures' count cube, on the same store.

The quality cube (:mod:`matneo.quality.cube`) is built the way the count cube is — one Polars scan
with every condition as a flag, then one group-by — plus a first two-column scan for the
birth-weight fences. It should cost about what the count cube costs, and a report over it
(any organisation) should be interactive once the cube is cached.

    .venv/bin/python benchmarks/bench_quality.py --years 2022-2023 --scale 0.2

builds a throwaway instance (synthetic data, loaded) unless ``--home`` names a loaded one.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from matneo.config import Settings
from matneo.db.session import upgrade
from matneo.measures.counts import build_cube
from matneo.quality import report_for
from matneo.quality.cube import build_quality_cube
from matneo.records.load import load_files
from matneo.records.store import RecordStore
from matneo.reference.organisations import load_hierarchy
from matneo.synth import write_dataset


def best(runs: int, work) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--years", default="2022-2023")
    parser.add_argument("--scale", type=float, default=0.2)
    parser.add_argument("--home", type=Path, default=None)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    hierarchy = load_hierarchy()
    home = args.home or Path(tempfile.mkdtemp(prefix="bench-quality-"))
    settings = Settings(home=home, database_url=f"sqlite:///{home / 'matneo.db'}")
    store = RecordStore(settings.records_dir)
    if store.current_version() is None:
        settings.ensure_dirs()
        upgrade(settings.database_url, hierarchy)
        first, last = (int(y) for y in args.years.split("-"))
        files = write_dataset(home / "synthetic", range(first, last + 1), scale=args.scale, seed=7)
        load_files(files, settings, hierarchy)
    files = store.partition_files()
    rows = store.manifest().total_rows
    count = best(args.runs, lambda: build_cube(files))
    quality = best(args.runs, lambda: build_quality_cube(files, 3.0))
    cube = build_quality_cube(files, 3.0)
    trust = hierarchy.trusts()[0].code
    report = best(args.runs, lambda: report_for(settings, hierarchy, trust, detail=True, cube=cube))
    england = best(args.runs, lambda: report_for(settings, hierarchy, "ENG", detail=True, cube=cube))
    print(f"{rows:,} records, {len(files)} files; quality cube {cube.height:,} rows × {cube.width} columns")
    print(f"count cube (measures), cold:   {count:.2f} s")
    print(f"quality cube, cold:            {quality:.2f} s ({quality / count:.2f}× the count cube)")
    print(f"report, one trust, cube cached: {report:.3f} s")
    print(f"report, England, cube cached:   {england:.3f} s")


if __name__ == "__main__":
    main()
