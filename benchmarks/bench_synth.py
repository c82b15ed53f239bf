"""Benchmark the synthetic generator: rows per second for national-scale years.

Run: ``PYTHONPATH=src python benchmarks/bench_synth.py [--years 2015-2024] [--scale 1.0] [--write DIR]``.
Generation time is what the design promises (10 national years well under a minute on two
cores); ``--write`` adds the time to write Parquet (or CSV with ``--fmt csv``). CPU time is
printed too because wall time on a shared machine is noisy.
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from pathlib import Path

from matneo.synth.casemix import build_trust_table
from matneo.synth.generator import _generate, default_hierarchy
from matneo.synth.output import write_table


def _years(spec: str) -> list[int]:
    first, _, last = spec.partition("-")
    return list(range(int(first), int(last or first) + 1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--years", default="2015-2024", help="YYYY or YYYY-YYYY (default 2015-2024)")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--fmt", choices=("parquet", "csv"), default="parquet")
    parser.add_argument("--write", action="store_true", help="also write each year to a temporary directory")
    args = parser.parse_args()

    trusts = build_trust_table(default_hierarchy(), args.seed)
    as_of = dt.date.today()
    total_rows, gen_seconds, write_seconds, cpu_seconds = 0, 0.0, 0.0, 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for year in _years(args.years):
            t0, c0 = time.perf_counter(), time.process_time()
            table = _generate(year, trusts, scale=args.scale, seed=args.seed, struggling=(), as_of=as_of)
            t1, c1 = time.perf_counter(), time.process_time()
            cpu_seconds += c1 - c0
            if args.write:
                write_table(table, Path(tmp) / f"births_{year}.{args.fmt}", args.fmt)
            t2 = time.perf_counter()
            total_rows += table.num_rows
            gen_seconds += t1 - t0
            write_seconds += t2 - t1
            written = f"  write {t2 - t1:5.2f} s" if args.write else ""
            print(
                f"{year}: {table.num_rows:>9,} rows  generate {t1 - t0:5.2f} s  "
                f"({table.num_rows / (t1 - t0):>9,.0f} rows/s, cpu {c1 - c0:5.2f} s){written}"
            )
    print(
        f"total: {total_rows:,} rows, generate {gen_seconds:.1f} s wall, {cpu_seconds:.1f} s cpu "
        f"({total_rows / gen_seconds:,.0f} rows/s)" + (f", write {write_seconds:.1f} s" if args.write else "")
    )


if __name__ == "__main__":
    main()
