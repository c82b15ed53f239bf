"""Load throughput: ``matneo load`` against a plain pandas read_csv → to_parquet baseline.

Generates ten years of synthetic England as CSV (one file per year), then times, each in
its own child process so peak memory is measured separately:

(a) baseline — pandas ``read_csv`` then ``to_parquet`` per file, no validation at all;
(b) MatNeo — ``load_files`` on the same files into an empty instance: hashing, UTF-8 and
    header checks, every validation rule, rejection reports, partitioned Parquet, ledger.

Prints rows/s for both, the ratio, and each one's peak RSS. Target: MatNeo ≥ 2× the
baseline's throughput while validating, with peak RSS ≤ 2 GB.

    .venv/bin/python benchmarks/bench_load.py [--years 2015-2024] [--scale 1.0] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BASELINE = """
import json, resource, sys, time
from pathlib import Path
import pandas as pd
files, out = [Path(p) for p in sys.argv[1:-1]], Path(sys.argv[-1])
out.mkdir(parents=True, exist_ok=True)
start, rows = time.perf_counter(), 0
for path in files:
    frame = pd.read_csv(path)
    rows += len(frame)
    frame.to_parquet(out / (path.stem + ".parquet"), engine="pyarrow", index=False)
    del frame
elapsed = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"rows": rows, "seconds": elapsed, "peak_rss_mb": peak}))
"""

MATNEO = """
import json, resource, sys, time
from pathlib import Path
from matneo.config import Settings
from matneo.db.session import upgrade
from matneo.records.load import load_files
from matneo.reference.organisations import load_hierarchy
files, home = [Path(p) for p in sys.argv[1:-1]], Path(sys.argv[-1])
settings = Settings(home=home, database_url=f"sqlite:///{home / 'matneo.db'}")
settings.ensure_dirs()
upgrade(settings.database_url, load_hierarchy())
start = time.perf_counter()
result = load_files(files, settings)
elapsed = time.perf_counter() - start
print(json.dumps({"rows": result.rows_loaded + result.rows_rejected, "rejected": result.rows_rejected,
                  "seconds": elapsed, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def run_child(code: str, args: list[str]) -> dict:
    completed = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise SystemExit(completed.stderr)
    return json.loads(completed.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--years", default="2015-2024")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workdir", type=Path, default=None, help="keep files here (default: a temporary dir)")
    args = parser.parse_args()

    from matneo.synth import write_dataset

    first, last = (int(y) for y in args.years.split("-"))
    with tempfile.TemporaryDirectory() as scratch:
        work = args.workdir or Path(scratch)
        csv_dir = work / "csv"
        files = sorted(csv_dir.glob("births_*.csv"))
        if len(files) != last - first + 1:
            started = time.perf_counter()
            files = write_dataset(csv_dir, list(range(first, last + 1)), scale=args.scale, seed=args.seed, fmt="csv")
            print(f"generated {len(files)} CSV files in {time.perf_counter() - started:.1f} s")
        size_mb = sum(f.stat().st_size for f in files) / 1e6
        print(f"input: {len(files)} CSV files, {size_mb:,.0f} MB")

        baseline = run_child(BASELINE, [*map(str, files), str(work / f"baseline-{time.time_ns()}")])
        matneo = run_child(MATNEO, [*map(str, files), str(work / f"home-{time.time_ns()}")])

    base_rate = baseline["rows"] / baseline["seconds"]
    ours_rate = matneo["rows"] / matneo["seconds"]
    print(f"{'':28}{'rows':>12}{'seconds':>10}{'rows/s':>12}{'peak RSS MB':>13}")
    print(
        f"{'pandas read_csv→to_parquet':28}{baseline['rows']:>12,}{baseline['seconds']:>10.1f}"
        f"{base_rate:>12,.0f}{baseline['peak_rss_mb']:>13,.0f}"
    )
    print(
        f"{'matneo load (validating)':28}{matneo['rows']:>12,}{matneo['seconds']:>10.1f}"
        f"{ours_rate:>12,.0f}{matneo['peak_rss_mb']:>13,.0f}"
    )
    print(f"ratio (matneo / baseline throughput): {ours_rate / base_rate:.2f}×  (target ≥ 2×)")
    print(
        f"matneo peak RSS: {matneo['peak_rss_mb']:,.0f} MB  (target ≤ 2,048 MB); rows rejected: {matneo['rejected']:,}"
    )


if __name__ == "__main__":
    main()
