"""Shared by bench_msds.py and bench_fhir.py: the same synthetic births loaded in another input
format and as birth-record CSV, each load in its own child process into an empty instance."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess
import sys
import tempfile
from pathlib import Path

LOAD = """
import json, resource, sys, time
from pathlib import Path
from matneo.config import Settings
from matneo.db.session import upgrade
from matneo.records.load import load_files
from matneo.reference.organisations import load_hierarchy
kind, source, home = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
settings = Settings(home=home, database_url=f"sqlite:///{home / 'matneo.db'}")
settings.ensure_dirs()
upgrade(settings.database_url, load_hierarchy())
start, cpu = time.perf_counter(), time.process_time()
result = load_files([source], settings, input_format=kind)
elapsed = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"rows": result.rows_loaded, "rejected": result.rows_rejected, "seconds": elapsed,
                  "cpu_seconds": time.process_time() - cpu, "peak_rss_mb": usage.ru_maxrss / 1024}))
"""


def run_child(args: list[str]) -> dict:
    completed = subprocess.run([sys.executable, "-c", LOAD, *args], capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise SystemExit(completed.stderr)
    return json.loads(completed.stdout.strip().splitlines()[-1])


def race(description: str, kind: str, default_scale: float) -> tuple[dict[str, dict], float]:
    """Parse the command line, generate one year as CSV and as ``kind``, load each ``--repeat``
    times, print both loads and the ratios; return the best run of each and the time ratio."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--year", type=int, default=2023)
    parser.add_argument("--scale", type=float, default=default_scale)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=1, help="time each load this many times; the best is kept")
    args = parser.parse_args()

    from matneo.synth import write_dataset

    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        options = {"scale": args.scale, "seed": args.seed, "as_of": dt.date(args.year + 1, 12, 31)}
        (csv_file,) = write_dataset(root / "csv", [args.year], fmt="csv", **options)
        (other,) = write_dataset(root / kind, [args.year], fmt=kind, **options)
        sizes = {"csv": csv_file.stat().st_size, kind: sum(p.stat().st_size for p in other.rglob("*") if p.is_file())}
        best: dict[str, dict] = {}
        runs: dict[str, list[dict]] = {}
        for attempt in range(args.repeat):
            for name, source in (("csv", csv_file), (kind, other)):
                run = run_child([name, str(source), str(root / f"home-{name}-{attempt}")])
                runs.setdefault(name, []).append(run)
                if name not in best or run["seconds"] < best[name]["seconds"]:
                    best[name] = run
    assert best["csv"]["rows"] == best[kind]["rows"], "the two loads must store the same births"
    for name, run in best.items():
        print(
            f"{name:>4}: {run['rows']:,} births, {sizes[name] / 1e6:,.0f} MB in, {run['seconds']:.1f} s "
            f"({run['rows'] / run['seconds']:,.0f} rows/s), CPU {run['cpu_seconds']:.1f} s, "
            f"peak RSS {run['peak_rss_mb']:,.0f} MB"
        )
    # On a shared machine the best times of the two may come from quiet and busy moments: the
    # ratio of each attempt (its loads ran back to back) and of CPU time are steadier.
    pairs = [o["seconds"] / c["seconds"] for c, o in zip(runs["csv"], runs[kind], strict=True)]
    print("per-attempt time ratios: " + ", ".join(f"{r:.2f}×" for r in pairs))
    cpu_ratio = min(r["cpu_seconds"] for r in runs[kind]) / min(r["cpu_seconds"] for r in runs["csv"])
    print(f"CPU time ratio (best of each): {cpu_ratio:.2f}×")
    return best, best[kind]["seconds"] / best["csv"]["seconds"]
